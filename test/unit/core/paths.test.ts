import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HomePaths, VmPaths } from '../../../src-main/core/paths';

// paths.ts spells out join for the common case (see child there); every
// file name must still be exactly what path.join gives, odd inputs included.
describe('paths', () => {
  const dirs = ['/', '/a', '/a/', '//a', '/a//b', '/a/./b', '/a/../b', '/a/.', '/a/..', 'rel', './x', '', '/a/.b', '/a/..b', '/a b/c'];
  const names = ['x', '.', '..', '', 'a/b', '.x', '..x', 'x.', '/x', 'x/'];

  it.each(dirs)('names the files of VM directory %j as path.join does', (dir) => {
    const vm = new VmPaths(dir);
    expect([vm.config, vm.pid, vm.disk, vm.egressCa.key]).toEqual(['vm.toml', 'pid', 'disk.qcow2', 'egress-ca.key'].map((file) => join(dir, file)));
    for (const name of names) expect(vm.scripts(name as never)).toBe(join(dir, 'scripts', name));
  });

  it.each(names)('names the VM %j of a home as path.join does', (name) => {
    const home = new HomePaths('/h/');
    expect([home.vm(name).config, home.baseImage(name), home.vmsDir]).toEqual([join('/h', 'vms', name, 'vm.toml'), join('/h', 'bases', `${name}.qcow2`), '/h/vms']);
  });
});
