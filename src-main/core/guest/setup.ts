// Runs in: plain Node (core).
import { XrayError } from '../../shared/errors';
import type { BuiltInHook, BuiltInHookContext } from '../hooks';
import type { SshSession } from '../ssh';
import { APPLY_SCRIPT, EXIT_INSTALL_FAILED, EXIT_NO_APT, INSTALL_SCRIPT, verifyScript } from './firewall-scripts';
import { asRoot, why, type ScriptResult } from './root-script';
import { nodeCrypto } from '../builtins';

/**
 * setup holds the built-in hooks that make a guest send every TCP connection
 * through its firewall. The guest's QEMU network is `restrict=on`, so this is
 * not the enforcement point (a root user who flushes iptables reaches nothing);
 * it is what lets ordinary programs reach the outside at all: redsocks turns
 * each redirected connection into a SOCKS5 CONNECT to the VM's proxy, and the
 * resolver asks the VM's DNS service over TCP (guestfwd carries TCP only).
 */

export interface GuestSetupOptions {
  /** onVerified reports whether the guest now sends all TCP through the firewall. */
  readonly onVerified: (vm: string, active: boolean) => void;
  /** probeSeen tells whether the VM's firewall answered the guest's probe with `nonce` (firewall/probe.ts). */
  readonly probeSeen: (vm: string, nonce: string) => boolean;
}

/** SETUP_HOOK_NAME is the initial-boot hook that installs and configures the redirection. */
export const SETUP_HOOK_NAME = 'xray-firewall-setup';
/** VERIFY_HOOK_NAME is the boot hook that checks the redirection and repairs it. */
export const VERIFY_HOOK_NAME = 'xray-firewall-verify';

const INSTALL_TIMEOUT_MS = 8 * 60_000;
const APPLY_TIMEOUT_MS = 2 * 60_000;
const VERIFY_TIMEOUT_MS = 60_000;

/** problems lists what verifyScript found wrong, for the error sentence. */
function problems(result: ScriptResult): string {
  return result.stdout.trim().split('\n').filter(Boolean).join('; ') || why(result);
}

/**
 * verify runs verifyScript with a fresh nonce. A run that passed in the guest
 * counts only if the probe really came through the VM's firewall.
 */
async function verify(ctx: BuiltInHookContext, options: GuestSetupOptions, session: SshSession): Promise<ScriptResult> {
  const nonce = nodeCrypto().randomBytes(12).toString('base64url');
  const result = await asRoot(ctx, session, verifyScript(nonce), VERIFY_TIMEOUT_MS);
  if (result.code !== 0 || options.probeSeen(ctx.vm, nonce)) return result;
  return { ...result, code: 1, stdout: `${result.stdout}the outside connection was answered, but not by this VM's firewall\n` };
}

async function apply(ctx: BuiltInHookContext, session: SshSession): Promise<void> {
  const result = await asRoot(ctx, session, APPLY_SCRIPT, APPLY_TIMEOUT_MS);
  if (result.code !== 0) {
    throw new XrayError(
      'ssh',
      `Configuring the firewall redirection in VM "${ctx.vm}" failed (${why(result)}); check that the SSH user may run "sudo -n" and see the hook log.`,
    );
  }
}

async function install(ctx: BuiltInHookContext, session: SshSession): Promise<void> {
  const result = await asRoot(ctx, session, INSTALL_SCRIPT, INSTALL_TIMEOUT_MS);
  if (result.code === 0) return;
  if (result.code === EXIT_NO_APT) {
    throw new XrayError(
      'unsupported',
      `VM "${ctx.vm}" lacks redsocks, iptables or curl and is not Debian or Ubuntu, so Xray cannot install them; install them in the guest and run its initial-boot hooks again.`,
    );
  }
  if (result.code === EXIT_INSTALL_FAILED) {
    throw new XrayError(
      'missing-dependency',
      `Installing redsocks in VM "${ctx.vm}" with apt failed (${why(result)}); allow the Debian mirrors in its firewall or install redsocks and iptables by hand.`,
    );
  }
  throw new XrayError(
    'ssh',
    `Preparing VM "${ctx.vm}" for its firewall failed (${why(result)}); check that the SSH user may run "sudo -n".`,
  );
}

/** guarded reports the outcome to onVerified, also when the hook throws. */
async function guarded(ctx: BuiltInHookContext, options: GuestSetupOptions, task: (session: SshSession) => Promise<void>): Promise<void> {
  try {
    await task(await ctx.session());
    options.onVerified(ctx.vm, true);
  } catch (err) {
    options.onVerified(ctx.vm, false);
    throw err;
  }
}

function notVerified(vm: string, result: ScriptResult): XrayError {
  return new XrayError('internal', `VM "${vm}" does not send all TCP through its firewall after setup (${problems(result)}); see the hook log and "xray hooks run ${vm} initial-boot".`);
}

/**
 * guestSetupHooks are the built-in hooks that make a guest route every TCP
 * connection through its firewall (initial-boot) and check that on every boot,
 * repairing what is off. Both report the result through `onVerified`.
 */
export function guestSetupHooks(options: GuestSetupOptions): BuiltInHook[] {
  return [
    {
      name: SETUP_HOOK_NAME,
      type: 'initial-boot',
      run: (ctx) =>
        guarded(ctx, options, async (session) => {
          await install(ctx, session);
          await apply(ctx, session);
          const checked = await verify(ctx, options, session);
          if (checked.code !== 0) throw notVerified(ctx.vm, checked);
        }),
    },
    {
      name: VERIFY_HOOK_NAME,
      type: 'boot',
      run: (ctx) =>
        guarded(ctx, options, async (session) => {
          const first = await verify(ctx, options, session);
          if (first.code === 0) return;
          ctx.output('stdout', `repairing: ${problems(first)}\n`);
          await apply(ctx, session);
          const second = await verify(ctx, options, session);
          if (second.code !== 0) throw notVerified(ctx.vm, second);
        }),
    },
  ];
}
