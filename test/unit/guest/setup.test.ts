// The guest setup hooks' decisions, over a scripted SSH session: what runs as
// root, when the boot hook repairs, what the user is told when a guest cannot
// be set up. The scripts themselves run for real in test/e2e/guest.test.ts;
// here they are at least parsed by a real sh.
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { BuiltInHook, BuiltInHookContext } from '../../../src-main/core/hooks';
import { SETUP_HOOK_NAME, VERIFY_HOOK_NAME, guestSetupHooks } from '../../../src-main/core/guest/setup';
import type { ExecOptions, ExecResult, SshSession } from '../../../src-main/core/ssh';

type Kind = 'install' | 'apply' | 'verify';

interface Reply {
  readonly code: number | null;
  readonly stdout?: string;
  readonly stderr?: string;
}

interface Ran {
  readonly kind: Kind;
  readonly command: string;
  readonly script: string;
}

function kindOf(script: string): Kind {
  if (script.includes('apt_proxy')) return 'install';
  if (script.includes('cat >/etc/redsocks.conf')) return 'apply';
  if (script.includes('problems=0')) return 'verify';
  throw new Error(`unexpected script:\n${script}`);
}

/** fakeGuest answers each script by its kind, in order, and records what ran. */
function fakeGuest(replies: Partial<Record<Kind, Reply[]>>) {
  const ran: Ran[] = [];
  const session = {
    async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
      const script = String(opts.stdin ?? '');
      const kind = kindOf(script);
      ran.push({ kind, command, script });
      const reply = replies[kind]?.shift() ?? { code: 0 };
      if (reply.stdout) opts.onStdout?.(reply.stdout);
      if (reply.stderr) opts.onStderr?.(reply.stderr);
      return { code: reply.code, signal: null };
    },
  } as unknown as SshSession;
  return { session, ran };
}

async function runHook(hook: BuiltInHook, session: SshSession) {
  let output = '';
  const ctx: BuiltInHookContext = {
    vm: 'web',
    type: hook.type,
    target: { host: '127.0.0.1', port: 2222, user: 'xray', keyPath: '/nonexistent' },
    session: async () => session,
    output: (_stream, text) => (output += text),
    signal: new AbortController().signal,
  };
  const error = await hook.run(ctx).then(() => null, (err: Error) => err);
  return { error, output };
}

/** hooks makes the built-in hooks; `probeArrives` says whether the VM's firewall answers the guest's probe. */
function hooks(probeArrives = true) {
  const verified: [string, boolean][] = [];
  const [setup, verify] = guestSetupHooks({ onVerified: (vm, active) => verified.push([vm, active]), probeSeen: () => probeArrives });
  return { setup: setup!, verify: verify!, verified };
}

function shParses(script: string): Promise<string | null> {
  return new Promise((resolve) => {
    const child = execFile('sh', ['-n'], (err, _stdout, stderr) => resolve(err ? stderr || err.message : null));
    child.stdin?.end(script);
  });
}

describe('guestSetupHooks', () => {
  it('are one initial-boot setup hook and one boot verify hook', () => {
    const { setup, verify } = hooks();
    expect([setup.type, setup.name]).toEqual(['initial-boot', SETUP_HOOK_NAME]);
    expect([verify.type, verify.name]).toEqual(['boot', VERIFY_HOOK_NAME]);
  });

  it('sets up as root: install if missing, configure, verify, then reports the firewall active', async () => {
    const { setup, verified } = hooks();
    const guest = fakeGuest({});
    const { error } = await runHook(setup, guest.session);
    expect(error).toBeNull();
    expect(guest.ran.map((r) => r.kind)).toEqual(['install', 'apply', 'verify']);
    expect(guest.ran.every((r) => r.command === 'sudo -n sh -s')).toBe(true);
    expect(verified).toEqual([['web', true]]);
    const apply = guest.ran[1]!.script;
    expect(apply).toMatch(/^nameserver 10\.0\.2\.100$/m);
    expect(apply).toMatch(/^options use-vc$/m);
    expect(apply).toContain('-j REDIRECT --to-ports 12345');
    expect(apply).toContain('ip = 10.0.2.100;');
    expect(apply).toContain('systemctl --quiet enable xray-firewall.service redsocks.service');
    expect(apply).toContain('ip route replace default dev xray0 metric 65000');
    expect(apply).toMatch(/^Unmanaged=yes$/m);
    expect(apply).toMatch(/^match-device=interface-name:xray0$/m);
  });

  it('verifies with a real connection to an outside address, a fresh nonce each time', async () => {
    const { verify } = hooks();
    const guest = fakeGuest({ verify: [{ code: 1, stdout: 'redsocks is not running\n' }, { code: 0 }] });
    await runHook(verify, guest.session);
    const urls = guest.ran.filter((r) => r.kind === 'verify').map((r) => /http:\/\/192\.0\.2\.1:80\/([A-Za-z0-9_-]+)/.exec(r.script)?.[1]);
    expect(urls).toHaveLength(2);
    expect(urls[0]).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(urls[1]).not.toBe(urls[0]);
  });

  it('does not call the firewall active when the probe passed in the guest but never reached the firewall', async () => {
    const { verify, verified } = hooks(false);
    const guest = fakeGuest({ verify: [{ code: 0 }, { code: 0 }] });
    const { error, output } = await runHook(verify, guest.session);
    expect(guest.ran.map((r) => r.kind)).toEqual(['verify', 'apply', 'verify']);
    expect(output).toContain("repairing: the outside connection was answered, but not by this VM's firewall");
    expect(error?.message).toContain("not by this VM's firewall");
    expect(verified).toEqual([['web', false]]);
  });

  it('writes scripts a POSIX shell parses', async () => {
    const { setup } = hooks();
    const guest = fakeGuest({});
    await runHook(setup, guest.session);
    for (const { kind, script } of guest.ran) expect(await shParses(script), kind).toBeNull();
  });

  it('installs redsocks through the firewall proxy, never directly', async () => {
    const { setup } = hooks();
    const guest = fakeGuest({});
    await runHook(setup, guest.session);
    const install = guest.ran[0]!.script;
    expect(install).toContain('Acquire::http::Proxy=socks5h://10.0.2.100:1080');
    expect(install).toContain('Acquire::https::Proxy=socks5h://10.0.2.100:1080');
  });

  it('checks only, once, on a boot where everything is in place', async () => {
    const { verify, verified } = hooks();
    const guest = fakeGuest({ verify: [{ code: 0 }] });
    expect((await runHook(verify, guest.session)).error).toBeNull();
    expect(guest.ran.map((r) => r.kind)).toEqual(['verify']);
    expect(verified).toEqual([['web', true]]);
  });

  it('repairs what a boot check finds off, and checks again', async () => {
    const { verify, verified } = hooks();
    const guest = fakeGuest({ verify: [{ code: 1, stdout: 'redsocks is not running\n' }, { code: 0 }] });
    const { error, output } = await runHook(verify, guest.session);
    expect(error).toBeNull();
    expect(guest.ran.map((r) => r.kind)).toEqual(['verify', 'apply', 'verify']);
    expect(output).toContain('repairing: redsocks is not running');
    expect(verified).toEqual([['web', true]]);
  });

  it('fails the boot hook, naming the problems, when the repair does not hold', async () => {
    const { verify, verified } = hooks();
    const still = { code: 1, stdout: 'the XRAY chain does not redirect TCP to redsocks\n' };
    const guest = fakeGuest({ verify: [still, still] });
    const { error } = await runHook(verify, guest.session);
    expect(error?.message).toMatch(/^VM "web" does not send all TCP through its firewall after setup \(the XRAY chain does not redirect TCP to redsocks\)/);
    expect(verified).toEqual([['web', false]]);
  });

  it('tells the user to install redsocks by hand on a guest without apt', async () => {
    const { setup, verified } = hooks();
    const guest = fakeGuest({ install: [{ code: 10, stderr: 'redsocks, iptables or curl is missing and this guest has no apt-get\n' }] });
    const { error } = await runHook(setup, guest.session);
    expect(error).toMatchObject({ code: 'unsupported' });
    expect(error?.message).toMatch(/not Debian or Ubuntu.*install them in the guest/);
    expect(guest.ran.map((r) => r.kind)).toEqual(['install']);
    expect(verified).toEqual([['web', false]]);
  });

  it('says so when the SSH user may not use sudo without a password', async () => {
    const { setup } = hooks();
    const guest = fakeGuest({ install: [{ code: 1, stderr: 'sudo: a password is required\n' }] });
    const { error } = await runHook(setup, guest.session);
    expect(error?.message).toContain('(sudo: a password is required)');
    expect(error?.message).toContain('sudo -n');
  });

  it('reports a dropped connection rather than a meaningless exit code', async () => {
    const { setup } = hooks();
    const guest = fakeGuest({ apply: [{ code: null }] });
    const { error } = await runHook(setup, guest.session);
    expect(error?.message).toContain('the SSH connection closed before it finished');
  });
});
