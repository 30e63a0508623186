// Issue 13 benchmark: a shared folder (virtio-9p, as Xray mounts it) against
// the guest's own disk, in the same guest and the same run: writing and
// reading a tree of small files, and one large file. Each step is timed
// inside the guest (no SSH in the numbers) with the page cache dropped
// before every read, so both sides read from where the data lives. The same
// share remounted with other msize and cache options, one round each, is
// the measurement behind SHARE_MOUNT_OPTIONS (docs/ARCHITECTURE.md).
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHARE_MOUNT_OPTIONS, SHARES_HOOK_NAME } from '../src-main/core/guest/shares';
import { connectVm } from '../src-main/core/ssh';
import { hostSupervisor } from '../src-main/core/supervisor/host';
import { HomePaths } from '../src-main/core/paths';
import { median, ms, type Row } from './lib';

const VM = 'bench-shares';
const FILES = 400;
const FILE_KIB = 4;
const LARGE_MIB = 64;
const ROUNDS = 3;
const STEPS = ['small-write', 'small-read', 'large-write', 'large-read'] as const;
type Step = (typeof STEPS)[number];
const SHARE_PATH = '/mnt/share';
/** VARIANTS are the 9p mount options measured against Xray's: the kernel's default msize, no cache, and a cache that keeps pages. */
const VARIANTS = [
  'trans=virtio,version=9p2000.L,msize=131072,cache=mmap',
  'trans=virtio,version=9p2000.L,msize=512000,cache=none',
  'trans=virtio,version=9p2000.L,msize=512000,cache=loose',
];

/**
 * workload times the four steps in `dir` (milliseconds, one line each:
 * STEP MS). It runs as root, so the share's owner does not matter.
 */
function workload(dir: string): string {
  return `set -e
d=${dir}/bench.$$
now() { date +%s%N; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
mkdir -p "$d"
head -c ${FILE_KIB * 1024} /dev/urandom >/tmp/xray-bench-small
head -c ${LARGE_MIB}M /dev/urandom >/tmp/xray-bench-large
drop
t=$(now)
for i in $(seq 1 ${FILES}); do
  sub="$d/tree/$((i % 20))"
  [ -d "$sub" ] || mkdir -p "$sub"
  cp /tmp/xray-bench-small "$sub/f$i"
done
sync
echo small-write $(( ($(now) - t) / 1000000 ))
drop
t=$(now)
cat "$d"/tree/*/* >/dev/null
echo small-read $(( ($(now) - t) / 1000000 ))
t=$(now)
dd if=/tmp/xray-bench-large of="$d/large" bs=1M conv=fsync status=none
echo large-write $(( ($(now) - t) / 1000000 ))
drop
t=$(now)
dd if="$d/large" of=/dev/null bs=1M status=none
echo large-read $(( ($(now) - t) / 1000000 ))
rm -rf "$d" /tmp/xray-bench-small /tmp/xray-bench-large
`;
}

function parse(out: string): Record<Step, number> {
  const found = Object.fromEntries(out.trim().split('\n').map((line) => line.split(' ')).map(([step, value]) => [step, Number(value)]));
  for (const step of STEPS) if (!Number.isFinite(found[step])) throw new Error(`the workload printed no ${step}: ${out}`);
  return found as Record<Step, number>;
}

/** testGuest builds the test guest if needed and returns its image, as .ci/run does (the recipe is found beside build.mjs). */
function testGuest(repo: string): string {
  return execFileSync(process.execPath, [join(repo, 'test', 'guest', 'build.mjs')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

export async function benchShares(repo: string): Promise<Row[]> {
  const image = testGuest(repo);
  const root = await mkdtemp(join(tmpdir(), 'xray-bench-shares-'));
  const paths = new HomePaths(join(root, 'home'));
  const share = join(root, 'share');
  const host = await hostSupervisor(paths);
  try {
    await mkdir(share);
    await host.service.call('base.import', { path: image, name: 'debian', arch: 'x86_64', link: true, cloudInit: true });
    await host.service.call('vm.create', { name: VM, base: 'debian', memoryMb: 1024, cpus: 2, sshUser: 'xray' });
    await host.service.call('share.add', { vm: VM, hostPath: share, guestPath: SHARE_PATH });
    const mounted = new Promise<void>((resolve, reject) => {
      const stop = host.service.subscribe((e) => {
        if (e.type !== 'hook.finished' || e.run.vm !== VM || e.run.script !== SHARES_HOOK_NAME) return;
        stop();
        if (e.run.error === null) resolve();
        else reject(new Error(`the shares hook failed: ${e.run.error}`));
      });
    });
    await host.service.call('vm.start', { name: VM });
    await mounted;
    const session = await connectVm(paths, VM, await host.service.sshTarget(VM), { timeoutMs: 60_000 });
    const results: Record<'share' | 'disk', Record<Step, number>[]> = { share: [], disk: [] };
    const variants: Record<Step, number>[] = [];
    try {
      const measure = async (dir: string, remount?: string): Promise<Record<Step, number>> => {
        const mount = remount ? `tag=$(findmnt -n -o SOURCE ${SHARE_PATH}) && umount ${SHARE_PATH} && mount -t 9p -o ${remount} "$tag" ${SHARE_PATH}\n` : '';
        let out = '';
        const r = await session.exec('sudo -n sh -s', { stdin: mount + workload(dir), timeoutMs: 20 * 60_000, onStdout: (t) => (out += t) });
        if (r.code !== 0) throw new Error(`the workload failed in ${dir}${remount ? ` mounted with ${remount}` : ''} (exit ${r.code})`);
        return parse(out);
      };
      for (let round = 0; round < ROUNDS; round++) {
        results.disk.push(await measure('/var/tmp'));
        results.share.push(await measure(SHARE_PATH));
      }
      for (const options of VARIANTS) variants.push(await measure(SHARE_PATH, options));
    } finally {
      session.close();
    }
    const label: Record<Step, string> = {
      'small-write': `write ${FILES} files of ${FILE_KIB} KiB in 20 folders`,
      'small-read': `read those ${FILES} files`,
      'large-write': `write one ${LARGE_MIB} MiB file (fsync)`,
      'large-read': `read that ${LARGE_MIB} MiB file`,
    };
    const rows: Row[] = STEPS.map((step) => {
      const shared = median(results.share.map((r) => r[step]));
      const disk = median(results.disk.map((r) => r[step]));
      return { benchmark: `shared folder: ${label[step]}, median of ${ROUNDS}`, xray: ms(shared), peer: `guest disk ${ms(disk)}`, ratio: `${(shared / disk).toFixed(2)}×`, target: 'informational (9p vs local disk)', met: true };
    });
    const total = (r: Record<Step, number>) => STEPS.reduce((sum, step) => sum + r[step], 0);
    const ours = median(results.share.map(total));
    VARIANTS.forEach((options, i) => {
      const variant = variants[i]!;
      const steps = STEPS.map((step) => `${step} ${ms(variant[step])}`).join(', ');
      rows.push({ benchmark: `shared folder, all four steps, mounted ${options.replace('trans=virtio,version=9p2000.L,', '')} (${steps}), 1 round`, xray: ms(ours), peer: ms(total(variant)), ratio: `${(ours / total(variant)).toFixed(2)}×`, target: `informational (Xray's ${SHARE_MOUNT_OPTIONS.replace('trans=virtio,version=9p2000.L,', '')} vs this)`, met: true });
    });
    return rows;
  } finally {
    await host.close({ stopVms: true });
    await rm(root, { recursive: true, force: true });
  }
}
