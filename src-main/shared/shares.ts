// Runs in: anywhere (pure). Facts about shared folders every surface needs:
// how many a VM may have and where in the guest one may be mounted.

/** SHARE_LIMITS bound a VM's shares: each is a PCI device, and paths go into guest shell scripts. */
export const SHARE_LIMITS = {
  perVm: 8,
  pathLength: 1024,
} as const;

/** SHARES_APPLY says when a change to a VM's shares is seen: QEMU attaches the folders as it starts. */
export const SHARES_APPLY = 'Shares take effect at the VM\'s next start.';

/**
 * GUEST_SYSTEM_DIRS are guest directories a share may not be mounted on:
 * covering one of them would break the guest (or hide its programs).
 */
const GUEST_SYSTEM_DIRS = ['/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib32', '/lib64', '/libx32', '/opt', '/proc', '/root', '/run', '/sbin', '/srv', '/sys', '/tmp', '/usr', '/var'];
/** GUEST_SYSTEM_TREES are guest directories nothing may be mounted inside: the kernel's and the boot's. */
const GUEST_SYSTEM_TREES = ['/boot', '/dev', '/etc', '/proc', '/run', '/sys'];

/**
 * guestPathProblem says why `path` cannot be where a share is mounted in the
 * guest, as the end of a sentence ("… is not …"), or null when it can: an
 * absolute, normalized path (no empty, `.` or `..` parts, no trailing
 * slash) of printable characters, not a system directory nor inside
 * /proc, /sys, /dev, /etc, /boot or /run.
 */
export function guestPathProblem(path: string): string | null {
  if (!path.startsWith('/')) return 'must be an absolute path (starting with /)';
  if (path.length > SHARE_LIMITS.pathLength) return `must be at most ${SHARE_LIMITS.pathLength} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'must not contain control characters';
  if (path === '/') return 'cannot be / (it would cover the whole guest)';
  const parts = path.slice(1).split('/');
  if (parts.some((part) => part === '' || part === '.' || part === '..')) return 'must not contain empty, "." or ".." parts, nor end with /';
  if (GUEST_SYSTEM_DIRS.includes(path)) return `cannot be ${path}, a system directory of the guest`;
  const tree = GUEST_SYSTEM_TREES.find((dir) => path.startsWith(`${dir}/`));
  if (tree) return `cannot be inside ${tree}, which belongs to the guest's system`;
  return null;
}
