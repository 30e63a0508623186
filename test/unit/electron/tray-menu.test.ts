import { describe, expect, it } from 'vitest';
import { buildTrayMenu, sshCommand, type MenuItemSpec, type TrayAction } from '../../../src-main/electron/tray-menu';
import { summary } from './fixtures';

type Item = Extract<MenuItemSpec, { type: 'item' }>;
type Submenu = Extract<MenuItemSpec, { type: 'submenu' }>;

function find(menu: readonly MenuItemSpec[], label: string): MenuItemSpec {
  const found = menu.find((m) => m.type !== 'separator' && m.label === label);
  if (!found) throw new Error(`no menu item "${label}" in ${JSON.stringify(menu.map((m) => (m.type === 'separator' ? '---' : m.label)))}`);
  return found;
}

function entry(menu: readonly MenuItemSpec[], label: string): Item {
  const found = find(menu, label);
  if (found.type !== 'item') throw new Error(`"${label}" is not a plain item`);
  return found;
}

function submenu(menu: readonly MenuItemSpec[], label: string): Submenu {
  const found = find(menu, label);
  if (found.type !== 'submenu') throw new Error(`"${label}" is not a submenu`);
  return found;
}

describe('buildTrayMenu', () => {
  it.each([
    { state: 'stopped', label: 'web — stopped', start: true, stop: false },
    { state: 'starting', label: 'web — starting…', start: false, stop: true },
    { state: 'booting', label: 'web — booting…', start: false, stop: true },
    { state: 'ready', label: 'web — running', start: false, stop: true },
    { state: 'stopping', label: 'web — stopping…', start: false, stop: false },
    { state: 'crashed', label: 'web — crashed', start: true, stop: false },
  ] as const)('a $state VM is listed as "$label" with Start=$start Stop=$stop', ({ state, label, start, stop }) => {
    const menu = buildTrayMenu({ vms: [{ summary: summary('web', { state }), snapshots: [] }], pendingPrompts: 0, attachedToDaemon: false });
    const vm = submenu(menu, label);
    expect(entry(vm.submenu, 'Start')).toMatchObject({ enabled: start, action: { kind: 'vm.start', vm: 'web' } });
    expect(entry(vm.submenu, 'Stop')).toMatchObject({ enabled: stop, action: { kind: 'vm.stop', vm: 'web' } });
    expect(entry(vm.submenu, 'Copy SSH Command').action).toEqual({ kind: 'copy-ssh', vm: 'web' });
  });

  it('ends with Open Xray, Settings and Quit, whatever the VMs', () => {
    for (const vms of [[], [{ summary: summary('a'), snapshots: [] }]]) {
      const labels = buildTrayMenu({ vms, pendingPrompts: 0, attachedToDaemon: false })
        .filter((m): m is Item => m.type === 'item')
        .map((m) => m.action?.kind);
      expect(labels.slice(-3)).toEqual<(TrayAction['kind'] | undefined)[]>(['open-main', 'open-settings', 'quit']);
    }
  });

  it('says so when there are no VMs', () => {
    expect(entry(buildTrayMenu({ vms: [], pendingPrompts: 0, attachedToDaemon: false }), 'No VMs yet').enabled).toBe(false);
  });

  it('puts waiting prompts first, counted, and opens the prompt window from there', () => {
    const menu = buildTrayMenu({ vms: [], pendingPrompts: 2, attachedToDaemon: false });
    expect(menu[0]).toEqual({ type: 'item', label: '2 Connection Prompts Waiting…', enabled: true, action: { kind: 'open-prompts' } });
    expect(buildTrayMenu({ vms: [], pendingPrompts: 0, attachedToDaemon: false }).some((m) => m.type === 'item' && m.action?.kind === 'open-prompts')).toBe(false);
  });

  it('says when a daemon owns the VMs', () => {
    expect(entry(buildTrayMenu({ vms: [], pendingPrompts: 0, attachedToDaemon: true }), 'Attached to xray daemon').enabled).toBe(false);
  });

  it('lists snapshots with revert and delete, and offers a new one', () => {
    const menu = buildTrayMenu({ vms: [{ summary: summary('web'), snapshots: ['clean', 'tools'] }], pendingPrompts: 0, attachedToDaemon: false });
    const snaps = submenu(submenu(menu, 'web — stopped').submenu, 'Snapshots');
    expect(entry(snaps.submenu, 'Take Snapshot').action).toEqual({ kind: 'snapshot.create', vm: 'web' });
    const tools = submenu(snaps.submenu, 'tools');
    expect(tools.submenu.map((m) => (m.type === 'item' ? m.action : null))).toEqual([
      { kind: 'snapshot.revert', vm: 'web', snapshot: 'tools' },
      { kind: 'snapshot.delete', vm: 'web', snapshot: 'tools' },
    ]);
  });

  it('shows a VM whose config cannot be read, but offers nothing that needs it', () => {
    const menu = buildTrayMenu({ vms: [{ summary: summary('bad', { configError: 'bad toml' }), snapshots: [] }], pendingPrompts: 0, attachedToDaemon: false });
    const vm = submenu(menu, 'bad — configuration error');
    expect(entry(vm.submenu, 'Start').enabled).toBe(false);
    expect(entry(vm.submenu, 'Copy SSH Command').enabled).toBe(false);
    expect(submenu(vm.submenu, 'Snapshots').enabled).toBe(false);
  });

  it('shows how many prompts a VM has waiting', () => {
    const menu = buildTrayMenu({ vms: [{ summary: summary('web', { state: 'ready', pendingPrompts: 1 }), snapshots: [] }], pendingPrompts: 1, attachedToDaemon: false });
    expect(() => submenu(menu, 'web — running (1 waiting)')).not.toThrow();
  });
});

describe('sshCommand', () => {
  it('is the command a user pastes into a terminal', () => {
    expect(sshCommand('/Users/ann/.xray/vms/web/id_ed25519', summary('web', { sshPort: 2201, sshUser: 'debian' }))).toBe(
      'ssh -i /Users/ann/.xray/vms/web/id_ed25519 -p 2201 debian@127.0.0.1',
    );
  });

  it('quotes a key path with spaces or quotes so the shell keeps it whole', () => {
    expect(sshCommand("/Users/ann/My VMs/it's/id_ed25519", summary('web'))).toBe(`ssh -i '/Users/ann/My VMs/it'\\''s/id_ed25519' -p 2222 debian@127.0.0.1`);
  });
});
