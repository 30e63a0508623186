// Runs in: plain Node (CLI). `xray secret …`: secrets kept on the host and the
// VMs they are bound to. A guest only ever holds a placeholder; the firewall
// puts the value into requests to the bound hosts.
import type { Command } from 'commander';
import { withConnection, type CliContext } from '../context';
import { arg, collect } from '../declare';
import { confirmOrForce, readSecret } from '../interact';

export interface SecretBindOptions {
  readonly vm: string;
  readonly secret: string;
  readonly host: string[];
  readonly header: string;
  readonly format?: string;
  readonly env?: string;
  readonly json?: boolean;
}

/** runSecretSet stores a secret typed without echo (or piped in), never taken from the command line. */
export async function runSecretSet(ctx: CliContext, name: string): Promise<void> {
  const value = await readSecret(ctx.term, `Value for secret "${name}" (not shown): `);
  await withConnection(ctx, 'files', (api) => api.call('secret.set', { name, value }));
  ctx.out.line(`Stored secret "${name}". Bind it to a VM with "xray secret bind VM ${name} --host HOST --header HEADER".`);
}

/** runSecretList names the secrets and where they are kept; values are never shown. */
export async function runSecretList(ctx: CliContext, opts: { json?: boolean }): Promise<void> {
  const { backend, secrets } = await withConnection(ctx, 'files', (api) => api.call('secret.list', {}));
  if (opts.json) return ctx.out.json({ backend, secrets });
  ctx.out.line(`Kept in: ${backend.kind} (${backend.reason})`);
  if (secrets.length === 0) return ctx.out.line('No secrets yet. Store one with "xray secret set NAME".');
  ctx.out.table(['NAME', 'SET', 'CHANGED'], secrets.map((s) => [s.name, s.createdAt, s.updatedAt]));
}

export async function runSecretRemove(ctx: CliContext, opts: { name: string; force?: boolean }): Promise<void> {
  await confirmOrForce(ctx.term, opts.force, `Remove secret "${opts.name}"? VMs bound to it can no longer use it.`);
  await withConnection(ctx, 'files', (api) => api.call('secret.remove', { name: opts.name }));
  ctx.out.line(`Removed secret "${opts.name}".`);
}

/** runSecretBind gives a VM a secret for some hosts, in one header. */
export async function runSecretBind(ctx: CliContext, opts: SecretBindOptions): Promise<void> {
  const binding = await withConnection(ctx, 'files', (api) =>
    api.call('secret.bind', { vm: opts.vm, secret: opts.secret, hosts: opts.host, header: opts.header, format: opts.format, env: opts.env }),
  );
  if (opts.json) return ctx.out.json(binding);
  ctx.out.line(
    `VM "${opts.vm}" may send secret "${binding.secret}" to ${binding.hosts.join(', ')} in ${binding.header}; the guest sees ${binding.env}=${binding.placeholder} from its next boot.`,
  );
}

export async function runSecretBindings(ctx: CliContext, opts: { vm: string; json?: boolean }): Promise<void> {
  const bindings = await withConnection(ctx, 'files', (api) => api.call('secret.bindings', { vm: opts.vm }));
  if (opts.json) return ctx.out.json(bindings);
  if (bindings.length === 0) return ctx.out.line(`VM "${opts.vm}" has no secrets bound.`);
  ctx.out.table(['SECRET', 'HOSTS', 'HEADER', 'FORMAT', 'VARIABLE'], bindings.map((b) => [b.secret, b.hosts.join(', '), b.header, b.format, b.env]));
}

export async function runSecretUnbind(ctx: CliContext, opts: { vm: string; secret: string }): Promise<void> {
  await withConnection(ctx, 'files', (api) => api.call('secret.unbind', { vm: opts.vm, secret: opts.secret }));
  ctx.out.line(`VM "${opts.vm}" no longer has secret "${opts.secret}".`);
}

export function registerSecretCommands(program: Command, ctx: CliContext): void {
  const secret = program.command('secret').description('secrets kept on this computer, which VMs use without ever holding them');
  secret
    .command('set')
    .description('store a secret: typed without echo, or piped in on stdin (never on the command line)')
    .addArgument(arg('<name>', 'nothing'))
    .action((name: string) => runSecretSet(ctx, name));
  secret
    .command('list')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => runSecretList(ctx, opts));
  secret
    .command('remove')
    .addArgument(arg('<name>', 'nothing'))
    .option('-f, --force', 'do not ask')
    .action((name: string, opts: { force?: boolean }) => runSecretRemove(ctx, { ...opts, name }));
  secret
    .command('bind')
    .description('let a VM use a secret in one header of requests to some hosts')
    .addArgument(arg('<vm>', 'vm'))
    .addArgument(arg('<secret>', 'nothing'))
    .requiredOption('--host <host>', 'a host name or *.domain the secret may go to (repeatable)', collect, [])
    .requiredOption('--header <name>', 'the header that carries it, like Authorization')
    .option('--format <text>', 'how the value is written, {} standing for it, like "Bearer {}"')
    .option('--env <name>', 'the guest variable holding the placeholder (default NAME_TOKEN)')
    .option('--json', 'print JSON')
    .action((vm: string, name: string, opts: Omit<SecretBindOptions, 'vm' | 'secret'>) => runSecretBind(ctx, { ...opts, vm, secret: name }));
  secret
    .command('unbind')
    .addArgument(arg('<vm>', 'vm'))
    .addArgument(arg('<secret>', 'nothing'))
    .action((vm: string, name: string) => runSecretUnbind(ctx, { vm, secret: name }));
  secret
    .command('bindings')
    .addArgument(arg('<vm>', 'vm'))
    .option('--json', 'print JSON')
    .action((vm: string, opts: { json?: boolean }) => runSecretBindings(ctx, { ...opts, vm }));
}
