import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GuestArch } from '../../src-main/shared/models';
import { hostArch } from '../../src-main/core/host';
import {
  AcceleratorProber,
  DISK_NODE_NAME,
  EFIVARS_NODE_NAME,
  buildQemuArgv,
  defaultKvmProbe,
  findFirmware,
  findNetcat,
  findQemuBinaries,
  makeConsolePipe,
  readQemuFacts,
  type AccelChoice,
  type LaunchSpec,
  type QemuVersion,
} from '../../src-main/core/qemu';
import { freePort } from '../helpers/ports';
import { waitFor } from '../helpers/wait';

type QmpMessage = Record<string, unknown>;

/**
 * TinyQmp reads QMP's newline-delimited JSON just enough to drive a smoke test:
 * replies are matched to commands in order, events are dropped.
 */
class TinyQmp {
  private buffer = '';
  private readonly waiting: Array<(msg: QmpMessage) => void> = [];

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let newline: number;
      while ((newline = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, newline).trim();
        this.buffer = this.buffer.slice(newline + 1);
        if (line === '') continue;
        const msg = JSON.parse(line) as QmpMessage;
        if ('event' in msg) continue;
        this.waiting.shift()?.(msg);
      }
    });
  }

  static async connect(path: string): Promise<TinyQmp> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = createConnection(path, () => resolve(s));
      s.once('error', reject);
    });
    const qmp = new TinyQmp(socket);
    const greeting = await qmp.next();
    expect(greeting).toHaveProperty('QMP');
    return qmp;
  }

  private next(): Promise<QmpMessage> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async run(execute: string, args?: Record<string, unknown>): Promise<unknown> {
    const reply = this.next();
    this.socket.write(`${JSON.stringify(args ? { execute, arguments: args } : { execute })}\n`);
    const msg = await reply;
    if ('error' in msg) throw new Error(`${execute}: ${JSON.stringify(msg.error)}`);
    return msg.return;
  }

  close(): void {
    this.socket.destroy();
  }
}

const binaries = findQemuBinaries();
const prober = new AcceleratorProber();

interface Started {
  readonly child: ChildProcess;
  readonly qmp: TinyQmp;
  readonly spec: LaunchSpec;
}

describe.each<GuestArch>(['x86_64', 'aarch64'])('QEMU started from buildQemuArgv: %s guest', (arch) => {
  const binary = binaries.systemFor(arch);
  let dir: string;
  let choice: AccelChoice;
  let kvmFailure: string | null;
  let host: { code: string; version: QemuVersion; netcat: string };
  const running: Started[] = [];

  beforeAll(async () => {
    // A comma, a space and a quote in the directory prove the escaping against real QEMU.
    dir = await mkdtemp(join(tmpdir(), "xray q,'"));
    const facts = await readQemuFacts(binary);
    const probeKvm = defaultKvmProbe(binary, arch);
    // KVM only ever runs native guests, so a foreign guest counts as a KVM failure.
    kvmFailure = arch === hostArch() ? await probeKvm() : 'not native';
    choice = await prober.probe({
      platform: process.platform,
      arch,
      hostArch: hostArch(),
      binary,
      accelHelp: facts.accelerators,
      probeKvm,
    });
    const firmware = findFirmware(arch, { qemuBinary: binary });
    execFileSync(binaries.qemuImg, ['create', '-q', '-f', 'qcow2', join(dir, 'disk.qcow2'), '1G']);
    execFileSync(binaries.qemuImg, ['convert', '-O', 'qcow2', firmware.varsTemplate, join(dir, 'efivars.qcow2')]);
    await mkdir(join(dir, 'seed'));
    await writeFile(join(dir, 'seed', 'meta-data'), 'instance-id: test\n');
    host = { code: firmware.code, version: facts.version, netcat: await findNetcat() };
  });

  afterAll(async () => {
    for (const vm of running) {
      vm.qmp.close();
      if (vm.child.exitCode === null) vm.child.kill('SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  });

  async function start(startPaused: boolean): Promise<Started> {
    const tag = startPaused ? 'p' : 'r';
    const spec: LaunchSpec = {
      name: `it-${arch}`,
      arch,
      memoryMb: 512,
      cpus: 1,
      disk: join(dir, 'disk.qcow2'),
      efiVars: join(dir, 'efivars.qcow2'),
      firmwareCode: host.code,
      qmpSocket: join(dir, `qmp-${tag}.sock`),
      consolePipe: join(dir, `console-${tag}`),
      consoleLog: join(dir, `console-${tag}.log`),
      pidFile: join(dir, `pid-${tag}`),
      sshPort: await freePort(),
      ports: [{ host: await freePort(), guest: 80 }],
      proxySocket: join(dir, 'proxy.sock'),
      dnsSocket: join(dir, 'dns.sock'),
      netcat: host.netcat,
      display: 'none',
      cloudInitSeedDir: join(dir, 'seed'),
      // The directory's comma and quote reach -fsdev's path too.
      shares: [
        { tag: 'xray-rw', hostPath: dir, readOnly: false },
        { tag: 'xray-ro', hostPath: join(dir, 'seed'), readOnly: true },
      ],
      startPaused,
    };
    await makeConsolePipe({ base: spec.consolePipe, input: `${spec.consolePipe}.in`, output: `${spec.consolePipe}.out` });
    const argv = buildQemuArgv(spec, { platform: process.platform, accel: choice.accel, qemuVersion: host.version });
    const child = spawn(binary, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => (stderr += chunk));
    await waitFor('the QMP socket', () => {
      if (child.exitCode !== null) throw new Error(`QEMU exited ${child.exitCode}: ${stderr}`);
      return existsSync(spec.qmpSocket);
    }, 15_000);
    const qmp = await TinyQmp.connect(spec.qmpSocket);
    const started = { child, qmp, spec };
    running.push(started);
    await qmp.run('qmp_capabilities');
    return started;
  }

  async function quit(vm: Started): Promise<void> {
    const exited = new Promise<number | null>((resolve) => vm.child.once('exit', (code) => resolve(code)));
    await vm.qmp.run('quit');
    expect(await exited).toBe(0);
  }

  it('chooses the accelerator by really running a guest, explaining TCG', () => {
    expect(choice.accel).toBe(kvmFailure === null ? 'kvm' : 'tcg');
    if (choice.accel === 'tcg') expect(choice.warning).toMatch(/KVM.*running under TCG, which is much slower\.$/);
  });

  it('on this nested test host, KVM opens but cannot run the probe guest', async () => {
    if (arch !== hostArch() || !existsSync('/dev/kvm') || kvmFailure === null) return;
    expect(kvmFailure).toMatch(/^KVM is present but does not work here \(.+\)$/);
    expect(choice).toEqual({ accel: 'tcg', warning: `${kvmFailure}; running under TCG, which is much slower.` });
  });

  it('the probe guest itself powers off cleanly under TCG, so a KVM failure is KVM\'s', async () => {
    expect(await defaultKvmProbe(binary, arch, { accel: 'tcg' })()).toBeNull();
  });

  it('runs UEFI from qcow2 pflash, forwards ports on loopback, offers shared folders over virtio-9p, writes the pid file and the serial console, and takes a live snapshot', async () => {
    const vm = await start(false);
    expect(await vm.qmp.run('query-status')).toMatchObject({ status: 'running', running: true });
    for (const [i, tag] of ['xray-rw', 'xray-ro'].entries()) {
      expect(await vm.qmp.run('qom-get', { path: `/machine/peripheral/share${i}-dev`, property: 'mount_tag' })).toBe(tag);
    }
    const pid = await waitFor('pid file', async () => (await readFile(vm.spec.pidFile, 'utf8').catch(() => '')).trim(), 5_000);
    expect(Number(pid)).toBe(vm.child.pid);
    for (const port of [vm.spec.sshPort, ...vm.spec.ports.map((p) => p.host)]) {
      await expect(canConnect(port), `hostfwd listens on 127.0.0.1:${port}`).resolves.toBe(true);
    }
    // Both OVMF and AAVMF log their boot manager (BdsDxe) on the serial port.
    await waitFor('UEFI on the serial console', async () => (await readFile(vm.spec.consoleLog, 'utf8').catch(() => '')).includes('BdsDxe'), 60_000);
    await vm.qmp.run('snapshot-save', {
      'job-id': 'snap',
      tag: 'it',
      vmstate: DISK_NODE_NAME,
      devices: [DISK_NODE_NAME, EFIVARS_NODE_NAME],
    });
    const job = await waitFor('snapshot job', async () => {
      const jobs = (await vm.qmp.run('query-jobs')) as Array<{ id: string; status: string; error?: string }>;
      const snap = jobs.find((j) => j.id === 'snap');
      return snap?.status === 'concluded' ? snap : null;
    }, 30_000);
    expect(job.error).toBeUndefined();
    await quit(vm);
    for (const file of [vm.spec.disk, vm.spec.efiVars]) {
      expect(execFileSync(binaries.qemuImg, ['snapshot', '-l', file], { encoding: 'utf8' })).toMatch(/\bit\b/);
    }
  }, 120_000);

  it('waits at the starting line when asked to start paused', async () => {
    const vm = await start(true);
    expect(await vm.qmp.run('query-status')).toMatchObject({ status: 'prelaunch', running: false });
    await quit(vm);
  }, 30_000);
});

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

