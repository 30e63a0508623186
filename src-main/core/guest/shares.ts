// Runs in: plain Node (core).
import { XrayError } from '../../shared/errors';
import type { Share } from '../../shared/models';
import type { BuiltInHook } from '../hooks';
import type { HomePaths } from '../paths';
import { shareTag } from '../shares/host-folder';
import { VmStore } from '../store/vm-config';
import { GUEST_PATH, asRoot, why } from './root-script';

/** SHARES_HOOK_NAME is the boot hook that mounts a VM's shared folders. */
export const SHARES_HOOK_NAME = 'xray-shares';

/**
 * SHARE_MOUNT_OPTIONS are the 9p mount options, chosen by measurement
 * (docs/ARCHITECTURE.md, "Shared folders"): msize is the largest message the
 * virtio transport carries (fewer round trips for large files); cache=mmap
 * keeps every read and write going to the host, so each side sees the
 * other's changes at once, and still lets programs map files shared.
 */
export const SHARE_MOUNT_OPTIONS = 'trans=virtio,version=9p2000.L,msize=512000,cache=mmap';

/** Exit codes of the mount script. */
const EXIT_NO_9P = 20;
const EXIT_PROBLEMS = 21;

const MOUNT_TIMEOUT_MS = 2 * 60_000;

/** GuestShare is a share as the guest mounts it. */
export interface GuestShare {
  readonly tag: string;
  readonly guestPath: string;
  readonly readOnly: boolean;
}

export interface SharesHookOptions {
  /** sharesFor reads a VM's shares (vm.toml). */
  readonly sharesFor: (vm: string) => Promise<readonly Share[]>;
  /** hostUid is the uid QEMU runs as, which owns every file the guest creates on the host. */
  readonly hostUid: number;
}

/** quote makes one word safe for sh. */
function quote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * mountScript mounts each share the running QEMU offers at its guest path
 * (parents before children) and unmounts Xray's mounts of shares that are
 * gone. A share QEMU does not offer was added or changed since the VM
 * started and is mounted from its next start. It refuses to cover the SSH
 * user's home, checks that a writable share can create files (QEMU keeps the
 * guest's owner and mode in extended attributes, which the host's filesystem
 * must support), and says when the SSH user's uid is not the host user's.
 * Problems are printed one a line on stdout; the exit code is 21 if any.
 */
export function mountScript(shares: readonly GuestShare[], user: string, hostUid: number): string {
  const ordered = [...shares].sort((a, b) => a.guestPath.split('/').length - b.guestPath.split('/').length);
  const lines = ordered.map((s) => `mount_share ${quote(s.tag)} ${quote(s.guestPath)} ${s.readOnly ? 'ro' : 'rw'}`);
  return `set -u
${GUEST_PATH}
user=${quote(user)}
problems=0
problem() { echo "$1"; problems=1; }
modprobe -q 9pnet_virtio 2>/dev/null
modprobe -q 9p 2>/dev/null
if ! grep -qw 9p /proc/filesystems || [ ! -d /sys/bus/virtio/drivers/9pnet_virtio ]; then
  echo "this guest's kernel has no 9p support (modules 9p and 9pnet_virtio)" >&2
  exit ${EXIT_NO_9P}
fi
offered=" $(for f in /sys/bus/virtio/drivers/9pnet_virtio/virtio*/mount_tag; do [ -e "$f" ] && printf '%s ' "$(tr -d '\\000' <"$f")"; done)"
wanted=" ${ordered.map((s) => s.tag).join(' ')} "
for tag in $(findmnt -rn -t 9p -o SOURCE); do
  case "$tag" in xray-*) case "$wanted" in *" $tag "*) ;; *) umount -l "$tag" && echo "unmounted $tag: its share was removed" ;; esac ;; esac
done
home=$(getent passwd "$user" | cut -d: -f6)
uid=$(id -u "$user")
mount_share() {
  tag=$1 path=$2 mode=$3
  case "$offered" in *" $tag "*) ;; *) echo "not mounted yet: $path (added or changed since the VM started; it is mounted from the next start)"; return ;; esac
  if [ "$(findmnt -n -o SOURCE --mountpoint "$path" 2>/dev/null)" = "$tag" ]; then echo "mounted: $path"; return; fi
  case "$home/" in "$path"/*) problem "$path would cover the home of $user, through which Xray logs in"; return ;; esac
  if ! mkdir -p "$path" 2>/dev/null || [ ! -d "$path" ]; then problem "$path cannot be made a folder in the guest"; return; fi
  options="${SHARE_MOUNT_OPTIONS}"
  [ "$mode" = ro ] && options="$options,ro"
  if ! out=$(mount -t 9p -o "$options" "$tag" "$path" 2>&1); then problem "$path could not be mounted: $out"; return; fi
  if [ "$mode" = rw ]; then
    probe="$path/.xray-share-check.$$"
    if ! out=$(touch "$probe" 2>&1); then
      case "$out" in *"not supported"*) problem "$path is read-only in practice: the host folder's filesystem does not keep extended attributes, where QEMU stores the guest's owners and modes" ;; *) problem "$path cannot be written: $out" ;; esac
    fi
    rm -f "$probe"
  fi
  echo "mounted: $path"
}
${lines.join('\n')}
if [ "$uid" != "${hostUid}" ]; then
  echo "note: $user is uid $uid in the guest and the host user is uid ${hostUid}, so files made on the host are not $user's in the guest: $user reads them, and writes only where the host lets others write (or with sudo)"
fi
[ $problems = 0 ] || exit ${EXIT_PROBLEMS}
`;
}

/** guestSharesOf turns a VM's shares into what the guest mounts: tag, path, read-only. */
export function guestSharesOf(shares: readonly Share[]): GuestShare[] {
  return shares.map((share) => ({ tag: shareTag(share), guestPath: share.guestPath, readOnly: share.readOnly }));
}

/** sharesHook is the boot hook that mounts a VM's shared folders (nothing to do for a VM without shares). */
export function sharesHook(options: SharesHookOptions): BuiltInHook {
  return {
    name: SHARES_HOOK_NAME,
    type: 'boot',
    run: async (ctx) => {
      const shares = guestSharesOf(await options.sharesFor(ctx.vm));
      if (shares.length === 0) return;
      const result = await asRoot(ctx, await ctx.session(), mountScript(shares, ctx.target.user, options.hostUid), MOUNT_TIMEOUT_MS);
      if (result.code === 0) return;
      if (result.code === EXIT_NO_9P) {
        throw new XrayError('unsupported', `VM "${ctx.vm}" cannot mount its shared folders: its kernel has no 9p support; install a kernel with the 9p and 9pnet_virtio modules (Debian: linux-image-amd64 or linux-image-arm64, not the cloud kernel).`);
      }
      const problems = result.code === EXIT_PROBLEMS ? result.stdout.split('\n').filter((l) => l !== '' && !/^(mounted|not mounted yet|unmounted|note):? /.test(l)).join('; ') : why(result);
      throw new XrayError('ssh', `Mounting the shared folders of VM "${ctx.vm}" failed (${problems}); see the hook log.`);
    },
  };
}

/** sharesOf reads a VM's shares from its vm.toml. */
export function sharesOf(paths: HomePaths): (vm: string) => Promise<readonly Share[]> {
  const store = new VmStore(paths);
  return async (vm) => (await store.read(vm)).shares ?? [];
}
