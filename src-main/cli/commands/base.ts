// Runs in: plain Node (CLI). `xray base …`: import, list and remove base images.
import { Option, type Command } from 'commander';
import { guestArchSchema, type GuestArch } from '../../shared/enums';
import { formatBytes } from '../../shared/format';
import { withConnection, type CliContext } from '../context';
import { arg } from '../declare';
import { confirmOrForce, ProgressBar } from '../interact';

export interface BaseImportOptions {
  readonly path: string;
  readonly name?: string;
  readonly link?: boolean;
  readonly arch?: GuestArch;
  readonly convert?: boolean;
  readonly flatten?: boolean;
  readonly cloudInit?: boolean;
  readonly json?: boolean;
}

/** runBaseImport imports an image as a base, drawing its progress on a terminal. */
export async function runBaseImport(ctx: CliContext, opts: BaseImportOptions): Promise<void> {
  const { out } = ctx;
  const info = await withConnection(ctx, 'files', async (api) => {
    const bar = new ProgressBar(out.stderr, 'Importing');
    const stop = api.subscribe((event) => {
      if (event.type === 'base.progress') bar.update(event.done, event.total);
    });
    try {
      const { path, name, link, arch, convert, flatten, cloudInit } = opts;
      const imported = await api.call('base.import', { path, name, link, arch, convert, flatten, cloudInit });
      bar.finish();
      return imported;
    } finally {
      stop();
    }
  });
  if (opts.json) out.json(info);
  else out.line(`Imported base "${info.name}" (${info.arch}, ${formatBytes(info.virtualSize)} virtual${info.linked ? ', linked' : ''}).`);
}

export interface BaseListOptions {
  readonly json?: boolean;
}

/** runBaseList prints the base images, their sizes and the VMs built on each. */
export async function runBaseList(ctx: CliContext, opts: BaseListOptions): Promise<void> {
  const { out } = ctx;
  const bases = await withConnection(ctx, 'files', (api) => api.call('base.list', {}));
  if (opts.json) return out.json(bases);
  if (bases.length === 0) return out.line('No base images yet. Import a qcow2 image with "xray base import PATH".');
  out.table(
    ['NAME', 'ARCH', 'VIRTUAL', 'FILE', 'KIND', 'USED BY'],
    bases.map((b) => [b.name, b.arch, formatBytes(b.virtualSize), formatBytes(b.fileSize), b.linked ? 'linked' : 'copied', b.usedBy.join(', ') || '-']),
  );
}

export interface BaseRemoveOptions {
  readonly name: string;
  readonly force?: boolean;
}

/** runBaseRemove deletes a base (or only the link to it) once the person agrees. */
export async function runBaseRemove(ctx: CliContext, opts: BaseRemoveOptions): Promise<void> {
  const { name } = opts;
  await withConnection(ctx, 'files', async (api) => {
    const found = (await api.call('base.list', {})).find((b) => b.name === name);
    const what = found?.linked ? 'the link to it (the linked file stays)' : 'its image file';
    await confirmOrForce(ctx.term, opts.force, `Delete base "${name}" and ${what}?`);
    await api.call('base.remove', { name });
  });
  ctx.out.line(`Removed base "${name}".`);
}

export function registerBaseCommands(program: Command, ctx: CliContext): void {
  const base = program.command('base').description('manage base images');
  base
    .command('import')
    .description('import a qcow2 image as a base')
    .addArgument(arg('<path>', 'file'))
    .option('--name <name>', 'base name (default: the file name without extension)')
    .option('--link', 'symlink to the file instead of copying it')
    .addOption(new Option('--arch <arch>', "guest architecture (default: the host's)").choices(guestArchSchema.options))
    .option('--convert', 'convert a raw, vmdk, vdi, vhdx or qcow image to qcow2')
    .option('--flatten', 'import a standalone copy of an image that has a backing file')
    .option('--cloud-init', 'the image runs cloud-init: give its VMs a NoCloud seed')
    .option('--json', 'print the base as JSON')
    .action((path: string, opts: Omit<BaseImportOptions, 'path'>) => runBaseImport(ctx, { ...opts, path }));
  base
    .command('list')
    .option('--json', 'print JSON')
    .action((opts: BaseListOptions) => runBaseList(ctx, opts));
  base
    .command('remove')
    .addArgument(arg('<name>', 'base'))
    .option('-f, --force', 'do not ask')
    .action((name: string, opts: { force?: boolean }) => runBaseRemove(ctx, { ...opts, name }));
}
