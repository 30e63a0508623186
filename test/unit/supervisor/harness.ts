// A real service and supervisor over a temporary XRAY_HOME, with QEMU, the
// guest's SSH and the host's room faked (fakes.ts). Every event the
// supervisor emits is recorded and checked against the contract on close.
import { readFile, writeFile } from 'node:fs/promises';
import { expect } from 'vitest';
import type { XrayEvent } from '../../../src-main/shared/contract';
import type { VmStateName } from '../../../src-main/shared/models';
import { contractProblem } from '../../../src-main/shared/schemas';
import { createService } from '../../../src-main/core/bootstrap';
import type { XrayService } from '../../../src-main/core/service';
import { supervisorDeps } from '../../../src-main/core/supervisor/host';
import { Launcher, type HostRoom } from '../../../src-main/core/supervisor/launcher';
import { Supervisor } from '../../../src-main/core/supervisor/supervisor';
import type { SupervisorOptions } from '../../../src-main/core/supervisor/supervisor-deps';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../../helpers/home';
import { FakeGuests, FakeQemu, fakeQemuOnHost } from './fakes';

export interface Harness {
  readonly home: TestHome;
  readonly service: XrayService;
  readonly supervisor: Supervisor;
  readonly qemu: FakeQemu;
  readonly guests: FakeGuests;
  /** events is everything the service announced since the harness started. */
  readonly events: XrayEvent[];
  /** hooksRan lists the VMs whose start hooks ran. */
  readonly hooksRan: string[];
  readonly room: { memoryMb: number; busyPorts: Map<number, string> };
  /** states lists a VM's state changes, in order. */
  states(vm: string): VmStateName[];
  setStopTimeout(seconds: number): Promise<void>;
  close(): Promise<void>;
}

/** supervised sets up a home with VM "web" (firmware-only base) and a supervisor over fakes. */
export async function supervised(options: Pick<SupervisorOptions, 'isQemuFor'> = {}): Promise<Harness> {
  const home = await makeTestHome('xray-sup-unit-');
  await addFirmwareOnlyVm(home.paths, 'web');
  const service = await createService(home.paths);
  const qemu = new FakeQemu();
  const guests = new FakeGuests(qemu);
  const events: XrayEvent[] = [];
  const hooksRan: string[] = [];
  service.subscribe((event) => events.push(event));
  const room = { memoryMb: 64 * 1024, busyPorts: new Map<number, string>() };
  const hostRoom: HostRoom = {
    availableMemoryMb: async () => room.memoryMb,
    isPortFree: async (port) => !room.busyPorts.has(port),
    portHolder: async (port) => room.busyPorts.get(port) ?? null,
  };
  const deps = { ...supervisorDeps(service), runStartHooks: async (vm: string) => void hooksRan.push(vm) };
  const launcher = new Launcher({ ...deps, qemuOnHost: fakeQemuOnHost, room: hostRoom });
  const supervisor = new Supervisor(deps, { login: guests.login, qemu, launcher, stopTimings: { sshMs: 30_000, quitMs: 5_000, killMs: 5_000 }, ...options });
  service.attachEngine(supervisor);
  await supervisor.firewalls.init();
  return {
    home,
    service,
    supervisor,
    qemu,
    guests,
    events,
    hooksRan,
    room,
    states: (vm) => events.flatMap((e) => (e.type === 'vm.state' && e.vm === vm ? [e.state] : [])),
    setStopTimeout: async (seconds) => {
      const config = await readFile(home.paths.configFile, 'utf8').catch(() => '');
      await writeFile(home.paths.configFile, `${config}stop_timeout = ${seconds}\n`);
    },
    async close() {
      await supervisor.detach();
      await home.cleanup();
      expect(events.map((event) => contractProblem({ event })).filter(Boolean)).toEqual([]);
    },
  };
}
