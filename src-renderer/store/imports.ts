// Runs in: renderer. The imports slice: the base images, and importing a
// dropped file (Electron hands over its path; browser mode uploads it first).
import type { XrayEvent } from '../../src-main/shared/contract';
import { baseNameFromFile } from '../../src-main/shared/names';
import { loadAll, message } from './helpers';
import type { ImportEvent, ImportJob, ImportsSlice, SliceContext } from './types';

type BaseEvent = Extract<XrayEvent, { type: 'base.changed' | 'base.progress' }>;

/**
 * inFileWords puts the dropped file's own name where an error names the
 * temporary copy browser mode uploaded it to: that path means nothing to
 * the person who dropped the file, and is gone once the import ends.
 */
function inFileWords(text: string, uploadedPath: string | null, fileName: string): string {
  return uploadedPath ? text.split(uploadedPath).join(fileName) : text;
}

/** importsSlice builds the imports slice; an import reports each step as an event, so only onImportEvent writes its job. */
export function importsSlice(ctx: SliceContext): ImportsSlice {
  const { client, get } = ctx;
  let lastId = 0;
  const emit = (event: ImportEvent) => get().handleEvent(event);
  return {
    bases: { status: 'loading' },
    importJob: null,
    refreshBases: () => loadAll(ctx, 'bases', () => client.call('base.list', {})),
    async importFile(file) {
      const id = ++lastId;
      const base = baseNameFromFile(file.name);
      const uploads = !client.pathForFile && client.upload !== undefined;
      let uploaded: string | null = null;
      emit({ type: 'import.started', id, file: file.name, base, phase: uploads ? 'uploading' : 'importing', total: file.size });
      try {
        let path: string;
        if (client.pathForFile) {
          path = client.pathForFile(file);
        } else if (client.upload) {
          path = uploaded = await client.upload(file, (done, total) => emit({ type: 'import.uploaded', id, done, total }));
          if (get().importJob?.id !== id) return;
          emit({ type: 'import.importing', id });
        } else {
          throw new Error('This window cannot read dropped files; use "xray base import PATH" instead.');
        }
        await client.call('base.import', { path, name: base });
        emit({ type: 'import.finished', id, error: null });
        await get().refreshBases();
      } catch (err) {
        emit({ type: 'import.finished', id, error: inFileWords(message(err), uploaded, file.name) });
      }
    },
    dismissImport: () => emit({ type: 'import.dismissed' }),
  };
}

/** nextJob is the import job after one event; events for another import than the current one change nothing. */
function nextJob(job: ImportJob | null, event: ImportEvent | Extract<BaseEvent, { type: 'base.progress' }>): ImportJob | null {
  if (event.type === 'import.started') return { id: event.id, file: event.file, base: event.base, phase: event.phase, done: 0, total: event.total };
  if (event.type === 'import.dismissed') return null;
  if (!job) return null;
  switch (event.type) {
    case 'base.progress':
      return job.phase === 'importing' && job.base === event.name ? { ...job, done: event.done, total: event.total } : job;
    case 'import.uploaded':
      return job.id === event.id && job.phase === 'uploading' ? { ...job, done: event.done, total: event.total } : job;
    case 'import.importing':
      return job.id === event.id ? { ...job, phase: 'importing', done: 0 } : job;
    case 'import.finished':
      if (job.id !== event.id) return job;
      return event.error === null ? { ...job, phase: 'done', done: job.total } : { ...job, phase: 'failed', done: 0, error: event.error };
  }
}

/** onImportEvent applies base changes and every step of an import; it is the only writer of importJob. */
export function onImportEvent(ctx: SliceContext, event: ImportEvent | BaseEvent): void {
  if (event.type === 'base.changed') {
    void ctx.get().refreshBases();
    return;
  }
  const job = ctx.get().importJob;
  const next = nextJob(job, event);
  if (next !== job) ctx.set({ importJob: next });
}
