// Issue 3 benchmarks on real QEMU (firmware-only guests under TCG here):
// Xray's start overhead over spawning the same QEMU by hand, QMP round trips
// through the client versus a raw socket, and a live snapshot through Xray
// versus the same snapshot-save job sent straight over QMP.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createService } from '../src-main/core/bootstrap';
import { HomePaths } from '../src-main/core/paths';
import { DISK_DRIVE_ID, makeConsolePipe } from '../src-main/core/qemu';
import { QmpClient, listBlockNodes, saveSnapshot, snapshotNodes } from '../src-main/core/qmp';
import { hostSupervisor } from '../src-main/core/supervisor/host';
import { Launcher } from '../src-main/core/supervisor/launcher';
import { median, ms, percentile, qemuImg, samples, tempHome, timeMs, type Row } from './lib';

export async function benchSupervisor(): Promise<Row[]> {
  const home = await tempHome('xray-bench-sup-');
  const paths = new HomePaths(home.root);
  const setup = await createService(paths);
  const image = join(home.root, 'empty.qcow2');
  qemuImg(['create', '-q', '-f', 'qcow2', image, '1G']);
  await setup.call('base.import', { path: image, name: 'empty', arch: 'x86_64' });
  for (const name of ['a', 'b']) await setup.call('vm.create', { name, base: 'empty', memoryMb: 256, cpus: 1 });
  const host = await hostSupervisor(paths, { login: () => new Promise(() => undefined) });
  const rows: Row[] = [];
  try {
    const service = host.service;
    // Warm the accelerator probe and QEMU facts caches, as any second start would.
    await service.call('vm.start', { name: 'a' });
    await service.call('vm.stop', { name: 'a', force: true });

    const startTimes: number[] = [];
    for (let i = 0; i < 7; i++) {
      startTimes.push(await timeMs(() => service.call('vm.start', { name: 'a' })));
      await service.call('vm.stop', { name: 'a', force: true });
    }
    const launcher = new Launcher({ paths, settings: service.settings, vms: service.catalog.store, qemuImg: service.qemuImg, sshTarget: (vm) => service.sshTarget(vm) });
    const config = await service.catalog.store.read('b');
    const direct: number[] = [];
    for (let i = 0; i < 7; i++) {
      const prepared = await launcher.prepare('b', config, 'x86_64', { display: 'none', startPaused: false });
      await makeConsolePipe(paths.vm('b').consolePipe);
      let qmp: QmpClient | null = null;
      const child = spawn(prepared.request.binary, [...prepared.request.argv], { detached: true, stdio: 'ignore' });
      direct.push(await timeMs(async () => {
        qmp = await QmpClient.connectWhenReady(paths.vm('b').qmpSocket, { timeoutMs: 15_000, retryIntervalMs: 20 });
      }));
      await (qmp as QmpClient | null)?.execute('quit').catch(() => undefined);
      await new Promise((r) => child.once('exit', r));
    }
    const overhead = median(startTimes) - median(direct);
    rows.push({ benchmark: 'start request → QEMU answering QMP', xray: ms(median(startTimes)), peer: `same QEMU by hand ${ms(median(direct))}`, ratio: `+${ms(overhead)}`, target: 'overhead < 100 ms', met: overhead < 100 });

    await service.call('vm.start', { name: 'a' });
    const machine = (host.supervisor as unknown as { machines: Map<string, { qmp: QmpClient }> }).machines.get('a')!;
    const viaClient = await samples(300, () => machine.qmp.execute('query-status'));
    const b = await launcher.prepare('b', config, 'x86_64', { display: 'none', startPaused: false });
    await makeConsolePipe(paths.vm('b').consolePipe);
    const child = spawn(b.request.binary, [...b.request.argv], { detached: true, stdio: 'ignore' });
    const raw = await rawQmpRoundTrips(paths.vm('b').qmpSocket, 300);
    const rttRatio = median(viaClient) / median(raw);
    rows.push({ benchmark: 'QMP round trip (query-status), p50 / p99', xray: `${ms(median(viaClient))} / ${ms(percentile(viaClient, 99))}`, peer: `raw socket ${ms(median(raw))} / ${ms(percentile(raw, 99))}`, ratio: `${rttRatio.toFixed(2)}×`, target: 'informational', met: true });

    // Both ways snapshot the same VM: through Xray's API, and as a bare QMP job
    // on the supervisor's own QMP connection.
    const direct2 = machine.qmp;
    const xraySnap: number[] = [];
    const directSnap: number[] = [];
    const viaXray = (i: number) => timeMs(() => service.call('snapshot.create', { vm: 'a', name: `x${i}` }));
    const viaQmp = (i: number) =>
      timeMs(async () => {
        const nodes = snapshotNodes(await listBlockNodes(direct2), DISK_DRIVE_ID);
        await saveSnapshot(direct2, { jobId: `d${i}`, tag: `d${i}`, ...nodes });
      });
    // Alternate which goes first, so neither always runs on a warmer machine.
    for (let i = 0; i < 9; i++) {
      if (i % 2 === 0) {
        xraySnap.push(await viaXray(i));
        directSnap.push(await viaQmp(i));
      } else {
        directSnap.push(await viaQmp(i));
        xraySnap.push(await viaXray(i));
      }
    }
    const snapRatio = median(xraySnap) / median(directSnap);
    rows.push({ benchmark: 'live snapshot (256 MiB guest)', xray: ms(median(xraySnap)), peer: `direct QMP job ${ms(median(directSnap))}`, ratio: `${snapRatio.toFixed(3)}×`, target: '≤ 1.05×', met: snapRatio <= 1.05 });
    const raw2 = await QmpClient.connectWhenReady(paths.vm('b').qmpSocket, { timeoutMs: 15_000 });
    await raw2.execute('quit').catch(() => undefined);
    await new Promise((r) => child.once('exit', r));
  } finally {
    await host.close({ stopVms: true });
    await home.cleanup();
  }
  return rows;
}

/** rawQmpRoundTrips measures query-status over a bare socket: no ids, no parsing beyond lines. */
async function rawQmpRoundTrips(socketPath: string, count: number): Promise<number[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await new Promise<number[]>((resolve, reject) => {
        const socket = connect(socketPath);
        let buffer = '';
        let stage = 0;
        const times: number[] = [];
        let started = 0;
        socket.setEncoding('utf8');
        socket.on('error', reject);
        socket.on('data', (chunk: string) => {
          buffer += chunk;
          let i: number;
          while ((i = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, i);
            buffer = buffer.slice(i + 1);
            if (line.includes('"event"')) continue;
            if (stage === 0) {
              stage = 1;
              socket.write('{"execute":"qmp_capabilities"}\n');
            } else {
              if (stage === 2) times.push(performance.now() - started);
              stage = 2;
              if (times.length === count) {
                socket.end();
                resolve(times);
                return;
              }
              started = performance.now();
              socket.write('{"execute":"query-status"}\n');
            }
          }
        });
      });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
