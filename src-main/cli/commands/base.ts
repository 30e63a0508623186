// Runs in: plain Node (CLI). `xray base …`: import, list and remove base images.
import { Option, type Command } from 'commander';
import { CATALOG_NAMES } from '../../shared/catalog';
import type { GuestArch } from '../../shared/enums';
import { GUEST_ARCHES } from '../../shared/words';
import { formatBytes, transferText } from '../../shared/format';
import { baseNameFromFile } from '../../shared/names';
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

export interface BasePullOptions {
  readonly source?: string;
  readonly list?: boolean;
  readonly arch?: GuestArch;
  readonly name?: string;
  readonly sha256?: string;
  readonly checksums?: string;
  readonly insecureNoChecksum?: boolean;
  readonly json?: boolean;
}

/**
 * runBasePull gets an image from the catalog or a URL, drawing the download
 * (sizes, rate, time left) and the import on a terminal. Ctrl-C cancels it
 * and keeps nothing; a download that broke off is resumed by the next pull.
 */
export async function runBasePull(ctx: CliContext, opts: BasePullOptions): Promise<void> {
  const { out } = ctx;
  if (opts.list || opts.source === undefined) return runCatalog(ctx, opts);
  const source = opts.source;
  const info = await withConnection(ctx, 'files', async (api) => {
    const name = opts.name ?? (source.includes('://') ? baseNameFromFile(decodeURIComponent(new URL(source).pathname)) : source);
    const bars = { download: new ProgressBar(out.stderr, 'Downloading'), import: new ProgressBar(out.stderr, 'Importing') };
    let phase: 'download' | 'import' = 'download';
    const stop = api.subscribe((event) => {
      if (event.type !== 'base.progress' || event.name !== name || !event.phase) return;
      if (event.phase !== phase) {
        bars[phase].finish();
        phase = event.phase;
      }
      bars[phase].update(event.done, event.total, event.phase === 'download' ? transferText(event.done, event.total, event.bytesPerSecond ?? 0) : '');
    });
    const release = ctx.onInterrupt(() => void api.call('base.cancel', { name }).catch(() => undefined));
    try {
      const pulled = await api.call('base.pull', {
        source,
        arch: opts.arch,
        name: opts.name,
        checksum: opts.sha256,
        checksumsUrl: opts.checksums,
        insecureNoChecksum: opts.insecureNoChecksum,
      });
      bars[phase].finish();
      return pulled;
    } finally {
      release();
      stop();
    }
  });
  if (opts.json) out.json(info);
  else out.line(`Pulled base "${info.name}" (${info.arch}, ${formatBytes(info.virtualSize)} virtual); create a VM on it with "xray create NAME --base ${info.name}".`);
}

/** runCatalog lists the images `base pull NAME` can fetch, and which are imported. */
async function runCatalog(ctx: CliContext, opts: BasePullOptions): Promise<void> {
  const entries = await withConnection(ctx, 'files', (api) => api.call('base.catalog', {}));
  if (opts.json) return ctx.out.json(entries);
  ctx.out.table(
    ['NAME', 'ARCH', 'IMAGE', 'IMPORTED'],
    entries.map((e) => [e.name, e.arch, e.title, e.imported ? 'yes' : '-']),
  );
}

export function registerBaseCommands(program: Command, ctx: CliContext): void {
  const base = program.command('base').description('manage base images');
  base
    .command('import')
    .description('import a qcow2 image as a base')
    .addArgument(arg('<path>', 'file'))
    .option('--name <name>', 'base name (default: the file name without extension)')
    .option('--link', 'symlink to the file instead of copying it')
    .addOption(new Option('--arch <arch>', "guest architecture (default: the host's)").choices(GUEST_ARCHES))
    .option('--convert', 'convert a raw, vmdk, vdi, vhdx or qcow image to qcow2')
    .option('--flatten', 'import a standalone copy of an image that has a backing file')
    .option('--cloud-init', 'give its VMs a cloud-init NoCloud seed: user, key, host name (the default)')
    .option('--no-cloud-init', 'the image has no cloud-init: its VMs get no seed')
    .option('--json', 'print the base as JSON')
    .action((path: string, opts: Omit<BaseImportOptions, 'path'>) => runBaseImport(ctx, { ...opts, path }));
  base
    .command('list')
    .option('--json', 'print JSON')
    .action((opts: BaseListOptions) => runBaseList(ctx, opts));
  base
    .command('pull')
    .description('get an official cloud image (see --list), or an image from a URL with its checksum')
    .addArgument(arg('[source]', CATALOG_NAMES))
    .option('--list', 'show the catalog and which images are imported')
    .addOption(new Option('--arch <arch>', "guest architecture (default: the host's)").choices(GUEST_ARCHES))
    .option('--name <name>', 'base name (default: the catalog name, or the file name)')
    .option('--sha256 <hex>', "the image's SHA-256 (for a URL)")
    .option('--checksums <url>', 'a SHA256SUMS or SHA512SUMS file that lists the image (for a URL)')
    .option('--insecure-no-checksum', 'take an image from a URL without checking it')
    .option('--json', 'print JSON')
    .action((source: string | undefined, opts: Omit<BasePullOptions, 'source'>) => runBasePull(ctx, { ...opts, source }));
  base
    .command('remove')
    .addArgument(arg('<name>', 'base'))
    .option('-f, --force', 'do not ask')
    .action((name: string, opts: { force?: boolean }) => runBaseRemove(ctx, { ...opts, name }));
}
