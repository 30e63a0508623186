// XrayService, the only API, on a temporary home: what it answers with no
// supervisor, and how it routes to one (a fake Engine records what reaches it).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { XrayEvent } from '../../../src-main/shared/contract';
import type { VmSummary } from '../../../src-main/shared/models';
import { contractProblem } from '../../../src-main/shared/schemas';
import { createService } from '../../../src-main/core/bootstrap';
import type { Engine } from '../../../src-main/core/engine';
import type { XrayService } from '../../../src-main/core/service';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../../helpers/home';
import { refusal } from '../../helpers/refusal';
import { XrayError } from '../../../src-main/shared/errors';

let home: TestHome;
let service: XrayService;
let events: XrayEvent[];

beforeEach(async () => {
  home = await makeTestHome('xray-service-');
  await addFirmwareOnlyVm(home.paths, 'web');
  service = await createService(home.paths);
  events = [];
  service.subscribe((event) => events.push(event));
});

afterEach(async () => {
  await home.cleanup();
  expect(events.map((event) => contractProblem({ event })).filter(Boolean)).toEqual([]);
});

/**
 * runningEngine is an engine that runs "web" and records the live calls it
 * gets; its live forwards record what they are asked and refuse host port
 * 9999 as QEMU would a port in use.
 */
function runningEngine(): Engine & { calls: string[] } {
  const calls: string[] = [];
  const live = (method: string) => async () => {
    calls.push(method);
    return null as never;
  };
  return {
    calls,
    handlers: {
      'vm.start': live('vm.start'),
      'vm.stop': live('vm.stop'),
      'vm.consoleInput': live('vm.consoleInput'),
      'prompt.list': async () => [],
      'prompt.answer': async () => null,
      'firewall.connections': live('firewall.connections'),
      'port.listening': live('port.listening'),
    },
    decorate: (summary: VmSummary) => (summary.name === 'web' ? { ...summary, state: 'ready', pid: 4242 } : summary),
    isRunning: (vm) => vm === 'web',
    live: { 'snapshot.list': live('snapshot.list'), 'snapshot.create': live('snapshot.create'), 'snapshot.revert': live('snapshot.revert'), 'snapshot.delete': live('snapshot.delete') },
    liveFirewall: () => null,
    liveConsole: () => null,
    forwards: (vm, change) =>
      change(
        vm !== 'web'
          ? null
          : {
              add: async ({ host, guest }) => {
                if (host === 9999) throw new XrayError('in-use', 'Host port 9999 is in use on this machine; pick another host port.');
                calls.push(`add ${host}:${guest}`);
              },
              remove: async ({ host, guest }) => void calls.push(`remove ${host}:${guest}`),
            },
      ),
  };
}

describe('params', () => {
  it('refuses a request its schema refuses, in one sentence', async () => {
    const err = await refusal(service.call('vm.create', { name: 'x', base: 'b', memoryMb: 1 }));
    expect([err.code, err.message]).toEqual(['invalid-argument', 'Bad request for vm.create: memoryMb: a VM needs at least 128 MB of memory.']);
  });
});

describe('without a supervisor', () => {
  it('answers a stop of a stopped VM: stopped, by nothing', async () => {
    expect(await service.call('vm.stop', { name: 'web' })).toMatchObject({ name: 'web', state: 'stopped', stoppedBy: null });
  });

  it('says a start needs the supervisor', async () => {
    expect((await refusal(service.call('vm.start', { name: 'web' }))).code).toBe('unsupported');
  });

  it('has no prompts', async () => {
    expect(await service.call('prompt.list', {})).toEqual([]);
  });

  it('takes offline snapshots, announcing their progress', async () => {
    await service.call('snapshot.create', { vm: 'web', name: 'disk-only' });
    expect(events.filter((e) => e.type === 'snapshot.progress')).toEqual([
      { type: 'snapshot.progress', vm: 'web', name: 'disk-only', operation: 'create', status: 'running' },
      { type: 'snapshot.progress', vm: 'web', name: 'disk-only', operation: 'create', status: 'done' },
    ]);
  });

  it('announces a failed offline snapshot operation with its sentence', async () => {
    await refusal(service.call('snapshot.revert', { vm: 'web', name: 'missing' }));
    expect(events.at(-1)).toMatchObject({ type: 'snapshot.progress', operation: 'revert', status: 'failed', error: expect.stringContaining('missing') });
  });

  it('refuses a rule that would last only while a stopped VM runs', async () => {
    const err = await refusal(service.call('firewall.add', { vm: 'web', target: 'example.com', action: 'allow', lifetime: 'until-stop' }));
    expect(err.message).toBe('VM "web" is not running, so a rule "until-stop" would never apply; make it last a while or forever.');
  });

  it('keeps a new forward of a stopped VM for its next start', async () => {
    expect(await service.call('port.add', { vm: 'web', mapping: { host: 18080, guest: 80 } })).toEqual({ ports: [{ host: 18080, guest: 80 }], live: false });
    expect(await service.call('port.list', { vm: 'web' })).toEqual([{ host: 18080, guest: 80 }]);
    expect(events).toContainEqual({ type: 'vm.changed', vm: 'web' });
  });

  it('answers that a stopped VM has no open connections and no guest to ask about its ports', async () => {
    expect(await service.call('firewall.connections', { vm: 'web', follow: true })).toEqual([]);
    expect(await service.call('port.listening', { vm: 'web' })).toBeNull();
    expect((await refusal(service.call('firewall.connections', { vm: 'nope' }))).code).toBe('not-found');
    expect((await refusal(service.call('port.listening', { vm: 'nope' }))).code).toBe('not-found');
  });

  it('announces a created VM as changed', async () => {
    await service.call('vm.create', { name: 'db', base: 'empty-x86_64', memoryMb: 256, cpus: 1 });
    expect(events).toContainEqual({ type: 'vm.changed', vm: 'db' });
  });
});

describe('with a supervisor', () => {
  it('shows a VM as the engine runs it', async () => {
    service.attachEngine(runningEngine());
    expect((await service.call('vm.list', {}))[0]).toMatchObject({ name: 'web', state: 'ready', pid: 4242 });
  });

  it('sends snapshots of a running VM to the engine, live', async () => {
    const engine = runningEngine();
    service.attachEngine(engine);
    await service.call('snapshot.create', { vm: 'web', name: 'live' });
    expect(engine.calls).toEqual(['snapshot.create']);
  });

  it('refuses to remove a running VM, saying how to stop it', async () => {
    service.attachEngine(runningEngine());
    expect((await refusal(service.call('vm.remove', { name: 'web' }))).message).toBe('VM "web" is running; stop it first with "xray stop web" before you remove it.');
  });

  it('forwards a port of a running VM live and keeps it in vm.toml', async () => {
    const engine = runningEngine();
    service.attachEngine(engine);
    expect(await service.call('port.add', { vm: 'web', mapping: { host: 18080, guest: 80 } })).toEqual({ ports: [{ host: 18080, guest: 80 }], live: true });
    expect(await service.call('port.remove', { vm: 'web', mapping: { host: 18080, guest: 80 } })).toEqual({ ports: [], live: true });
    expect(engine.calls).toEqual(['add 18080:80', 'remove 18080:80']);
  });

  it('writes nothing when QEMU cannot forward the host port', async () => {
    service.attachEngine(runningEngine());
    const err = await refusal(service.call('port.add', { vm: 'web', mapping: { host: 9999, guest: 80 } }));
    expect([err.code, err.message]).toEqual(['in-use', 'Host port 9999 is in use on this machine; pick another host port.']);
    expect(await service.call('port.list', { vm: 'web' })).toEqual([]);
    expect(events).not.toContainEqual({ type: 'vm.changed', vm: 'web' });
  });

  it('sends start and stop to the engine', async () => {
    const engine = runningEngine();
    service.attachEngine(engine);
    await service.call('vm.start', { name: 'web' });
    await service.call('vm.stop', { name: 'web', force: true });
    expect(engine.calls).toEqual(['vm.start', 'vm.stop']);
  });
});
