// RuleStore: a VM's persistent rules in vm.toml, changed entry by entry under the file's lock.
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FirewallRule } from '../../../src-main/shared/models';
import { RuleStore } from '../../../src-main/core/firewall/rule-store';
import { parseRuleTarget } from '../../../src-main/core/firewall/rule-target';
import { RuleSet } from '../../../src-main/core/firewall/rules';
import { updateToml } from '../../../src-main/core/store/toml-file';
import { VmStore } from '../../../src-main/core/store/vm-store';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../../helpers/home';

let home: TestHome;

beforeEach(async () => {
  home = await makeTestHome('xray-rules-');
  await addFirmwareOnlyVm(home.paths, 'box');
});

afterEach(async () => {
  await home.cleanup();
});

/** store is a fresh RuleStore, as each CLI process would have its own. */
const store = (): RuleStore => new RuleStore(home.paths, new VmStore(home.paths));

/** handWrite puts entries into vm.toml's [firewall] table as a person editing the file would. */
const handWrite = (entries: Record<string, unknown>): Promise<unknown> =>
  updateToml(home.paths.vm('box').config, (data) => {
    data.firewall = { ...(data.firewall as object | undefined), ...entries };
  });

const rule = (target: string, action: 'allow' | 'deny' = 'allow'): FirewallRule => new RuleSet().add({ target: parseRuleTarget(target), action, lifetime: { kind: 'forever' } });

describe('RuleStore', () => {
  it('keeps every one of 20 rules written at once by separate writers', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => store().put('box', rule(`host${i}.example.com`, i % 2 ? 'deny' : 'allow'))));
    const { rules } = await store().read('box');
    expect(rules.map((r) => r.id).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `host${i}.example.com`).sort());
  });

  it('leaves entries it did not change as they were, hand-written ones and unreadable ones included', async () => {
    const file = home.paths.vm('box').config;
    await handWrite({ '10.1.2.3:22': 'deny', 'not a target!': 'allow' });
    await store().put('box', rule('example.com:443'));
    const text = await readFile(file, 'utf8');
    expect(text).toContain('"10.1.2.3:22" = "deny"');
    expect(text).toContain('"not a target!" = "allow"');
    expect(text).toContain('"example.com:443" = "allow"');
  });

  it('replaces the entry for the same target however it was spelled', async () => {
    await handWrite({ 'Example.COM:443': 'deny' });
    await store().put('box', rule('example.com:443', 'allow'));
    const { rules } = await store().read('box');
    expect(rules.map((r) => [r.id, r.action])).toEqual([['example.com:443', 'allow']]);
    expect(await store().remove('box', 'example.com:443')).toBe(true);
    expect(await store().remove('box', 'example.com:443')).toBe(false);
  });

  it('drops expired entries as it passes, and clear keeps only what it cannot read', async () => {
    const file = home.paths.vm('box').config;
    await handWrite({ 'old.example': { action: 'allow', expires: '2020-01-01T00:00:00Z' }, 'odd entry': 'allow' });
    await store().put('box', rule('new.example'));
    expect(await readFile(file, 'utf8')).not.toContain('old.example');
    await store().clear('box');
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('new.example');
    expect(text).toContain('"odd entry" = "allow"');
  });
});
