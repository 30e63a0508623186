// Runs in: renderer. Base images: the list, getting one from the catalog, and
// importing by dropping a file (or choosing one) with progress, cancel and the
// reason when it fails.
import { formatBytes } from '../../src-main/shared/format';
import { useRef, useState, type DragEvent } from 'react';
import { useActions, useXray } from '../store/context';
import { Catalog } from './Catalog';
import { formatTime } from './format';

export function BasesView() {
  const bases = useXray((s) => s.bases);
  const job = useXray((s) => s.importJob);
  const { importFile, dismissImport } = useActions();
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const busy = job?.phase === 'uploading' || job?.phase === 'importing';

  const take = (files: FileList | null) => {
    const file = files?.[0];
    if (file && !busy) void importFile(file);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    take(e.dataTransfer.files);
  };

  return (
    <section className="content" aria-label="Base images">
      <header className="toolbar">
        <h1>Base images</h1>
        <button type="button" onClick={() => input.current?.click()} disabled={busy}>
          Import…
        </button>
      </header>
      <div className="get-images">
        <Catalog />
        <div
          className={`dropzone${over ? ' over' : ''}`}
          data-testid="dropzone"
          onDragOver={(e) => {
            e.preventDefault();
            setOver(true);
          }}
          onDragLeave={() => setOver(false)}
          onDrop={onDrop}
        >
          <p>
            Drop a <strong>qcow2</strong> disk image here to import it as a base. VMs are created from bases as copy-on-write overlays, so the base itself never changes.
          </p>
          <input ref={input} type="file" hidden aria-label="Image file" onChange={(e) => { take(e.target.files); e.target.value = ''; }} />
        </div>
      </div>
      {job && (
        <div className={`import-job ${job.phase}`} role="status">
          {job.phase === 'failed' ? (
            <>
              <p className="error" role="alert">
                Could not import {job.file}: {job.error}
              </p>
              <button type="button" onClick={dismissImport}>Dismiss</button>
            </>
          ) : job.phase === 'done' ? (
            <>
              <p>Imported {job.file}.</p>
              <button type="button" onClick={dismissImport}>Dismiss</button>
            </>
          ) : (
            <>
              <p>
                {job.phase === 'uploading' ? 'Uploading' : 'Importing'} {job.file}
                {job.total > 0 ? ` — ${Math.round((job.done / job.total) * 100)} %` : '…'}
              </p>
              <progress max={job.total || 1} value={job.done} />
              <button type="button" onClick={dismissImport}>Cancel</button>
            </>
          )}
        </div>
      )}
      {bases.status === 'loading' && <p className="hint">Loading base images…</p>}
      {bases.status === 'error' && <p className="error">{bases.message}</p>}
      {bases.status === 'ready' && bases.value.length === 0 && (
        <div className="empty">
          <h2>No base images yet</h2>
          <p>Get one from the catalog, or drop a qcow2 image of your own. Then create VMs from it in Virtual machines.</p>
        </div>
      )}
      {bases.status === 'ready' && bases.value.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Arch</th>
              <th>Disk size</th>
              <th>File</th>
              <th>Imported</th>
              <th>Used by</th>
            </tr>
          </thead>
          <tbody>
            {bases.value.map((b) => (
              <tr key={b.name} data-base={b.name}>
                <td>{b.name}</td>
                <td>{b.arch}</td>
                <td>{formatBytes(b.virtualSize)}</td>
                <td>
                  {formatBytes(b.fileSize)}
                  {b.linked ? ' (linked)' : ''}
                </td>
                <td>{b.importedAt ? formatTime(b.importedAt) : '—'}</td>
                <td>{b.usedBy.join(', ') || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
