import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// electron-builder's own config schema and YAML reader, as installed with it.
const require = createRequire(import.meta.url);
const yaml = require('js-yaml') as { load(text: string): unknown };
const Ajv = require('ajv') as new (opts: object) => { compile(schema: object): ((data: unknown) => boolean) & { errors?: unknown } };

const config = yaml.load(readFileSync('electron-builder.yml', 'utf8')) as {
  mac: { target: { target: string; arch: string[] }[]; hardenedRuntime: boolean; extendInfo: Record<string, unknown>; icon: string };
  linux: { target: string[]; icon: string };
  files: string[];
};

describe('electron-builder.yml', () => {
  it('is valid for electron-builder', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8')));
    expect(validate(config), JSON.stringify(validate.errors)).toBe(true);
  });

  it('builds a hardened arm64 dmg and zip of a menu-bar agent for macOS', () => {
    expect(config.mac.target).toEqual([{ target: 'dmg', arch: ['arm64'] }, { target: 'zip', arch: ['arm64'] }]);
    expect(config.mac.hardenedRuntime).toBe(true);
    expect(config.mac.extendInfo.LSUIElement).toBe(true);
  });

  it('builds an AppImage and a deb for Linux', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
  });

  it('ships the build and names icons that exist and are big enough', () => {
    expect(config.files).toContain('dist/**');
    for (const icon of [config.mac.icon, config.linux.icon]) {
      const png = readFileSync(icon);
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(png.readUInt32BE(16)).toBeGreaterThanOrEqual(512);
    }
    expect(existsSync('assets/icon-512.png')).toBe(true);
  });
});
