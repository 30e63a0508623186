// Runs in: plain Node (core).
import type { XrayEvent } from '../../shared/contract';
import { IMAGE_CATALOG } from '../../shared/catalog';
import { XrayError } from '../../shared/errors';
import type { GlobalSettings } from '../../shared/models';
import { baseNameFromFile } from '../../shared/names';
import type { Handler } from '../engine';
import type { BaseCatalog } from './catalog';

export type BaseMethod = 'base.list' | 'base.import' | 'base.catalog' | 'base.pull' | 'base.cancel' | 'base.remove';

export interface BaseApiDeps {
  readonly bases: BaseCatalog;
  readonly settings: { read(): Promise<GlobalSettings> };
  readonly emit: (event: XrayEvent) => void;
}

/**
 * baseHandlers serve the base images: listing, importing, pulling from the
 * catalog or a URL (one pull per name at a time, cancellable), removing.
 * They need no supervisor.
 */
export function baseHandlers(deps: BaseApiDeps): { [M in BaseMethod]: Handler<M> } {
  /** jobs are pulls under way, by base name, so base.cancel can stop one. */
  const jobs = new Map<string, AbortController>();
  const startJob = (name: string): AbortController => {
    if (jobs.has(name)) throw new XrayError('busy', `"${name}" is already being pulled; wait for it or cancel it.`);
    const abort = new AbortController();
    jobs.set(name, abort);
    return abort;
  };
  return {
    'base.list': () => deps.bases.list(),
    'base.import': async (params) => {
      const name = params.name ?? baseNameFromFile(params.path);
      const info = await deps.bases.import({
        ...params,
        onProgress: (done, total) => deps.emit({ type: 'base.progress', name, done, total }),
      });
      deps.emit({ type: 'base.changed' });
      return info;
    },
    'base.catalog': async () => {
      const bases = new Set((await deps.bases.list()).map((b) => b.name));
      return IMAGE_CATALOG.map(({ name, arch, title, url }) => ({ name, arch, title, url, imported: bases.has(name) }));
    },
    'base.pull': async (params) => {
      const { fileNameOf } = await import('./pull');
      const name = params.name ?? (params.source.includes('://') ? baseNameFromFile(fileNameOf(params.source)) : params.source);
      const settings = await deps.settings.read();
      const abort = startJob(name);
      try {
        const info = await deps.bases.pull({
          ...params,
          name: params.name,
          mirror: process.env.XRAY_IMAGE_MIRROR || settings.imageMirror,
          signal: abort.signal,
          onProgress: (p) => deps.emit({ type: 'base.progress', name, phase: p.phase, done: p.done, total: p.total ?? 0, bytesPerSecond: p.bytesPerSecond }),
        });
        deps.emit({ type: 'base.changed' });
        return info;
      } finally {
        jobs.delete(name);
      }
    },
    'base.cancel': async ({ name }) => {
      const job = jobs.get(name);
      if (!job) throw new XrayError('not-found', `Nothing is being pulled or imported as "${name}".`);
      job.abort();
      return null;
    },
    'base.remove': async ({ name }) => {
      await deps.bases.remove(name);
      deps.emit({ type: 'base.changed' });
      return null;
    },
  };
}
