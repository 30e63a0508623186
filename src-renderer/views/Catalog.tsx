// Runs in: renderer. The catalog of official cloud images Xray can get: each
// image for both architectures, this computer's likely one first; getting one
// shows its bytes, rate and time left, can be cancelled, and ends in the New
// VM dialog with the new base chosen (the store opens it).
import { useEffect } from 'react';
import type { CatalogEntry } from '../../src-main/shared/contract';
import { formatBytes } from '../../src-main/shared/format';
import type { GuestArch } from '../../src-main/shared/models';
import { useActions, useXray } from '../store/context';
import type { PullJob } from '../store/types';
import { archLabels, likelyArch } from './catalog-arch';
import { formatDuration } from './format';

export function Catalog() {
  const catalog = useXray((s) => s.catalog);
  const pulls = useXray((s) => s.pulls);
  const likely = useXray((s) =>
    likelyArch(s.platform, [...(s.bases.status === 'ready' ? s.bases.value.map((b) => b.arch) : []), ...s.vmNames.map((n) => s.vms[n]?.arch ?? 'x86_64')], navigator.userAgent),
  );
  const { loadCatalog } = useActions();
  useEffect(() => {
    void loadCatalog();
  }, [loadCatalog]);

  if (!catalog || catalog.status === 'loading') return <p className="hint">Loading the image catalog…</p>;
  if (catalog.status === 'error') return <p className="error">{catalog.message}</p>;
  if (catalog.value.length === 0) return null;
  const arches: GuestArch[] = likely === 'aarch64' ? ['aarch64', 'x86_64'] : ['x86_64', 'aarch64'];
  const images = [...new Map(catalog.value.map((e) => [e.name, e.title])).entries()];
  return (
    <section className="catalog" aria-labelledby="catalog-title">
      <h2 id="catalog-title">Get an image</h2>
      <p className="hint">Official cloud images, downloaded and checked against their vendor's checksums.</p>
      <table className="catalog-table">
        <thead>
          <tr>
            <th>Image</th>
            {arches.map((arch) => (
              <th key={arch}>
                {archLabels[arch]}
                {arch === likely && <span className="likely"> likely this computer</span>}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {images.map(([name, title]) => (
            <tr key={name} data-image={name}>
              <td>{title}</td>
              {arches.map((arch) => (
                <td key={arch}>
                  <CatalogCell entry={catalog.value.find((e) => e.name === name && e.arch === arch)} likely={arch === likely} job={pulls[name]} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {Object.values(pulls).map((job) => (
        <PullProgress key={job.name} job={job} />
      ))}
    </section>
  );
}

/** CatalogCell offers one image for one architecture: to get it, or, once it is in, a VM from it. */
function CatalogCell({ entry, likely, job }: { entry: CatalogEntry | undefined; likely: boolean; job: PullJob | undefined }) {
  const base = useXray((s) => (entry && s.bases.status === 'ready' ? s.bases.value.find((b) => b.name === entry.name) : undefined));
  const { pullBase, openNewVm } = useActions();
  if (!entry) return <span className="hint">—</span>;
  const label = `${entry.title} for ${archLabels[entry.arch]}`;
  if (job && job.phase !== 'failed') return <span className="hint">{job.arch === entry.arch ? 'Getting…' : '—'}</span>;
  if (entry.imported) {
    // One base name serves both architectures: the base there is one of them.
    if (base && base.arch !== entry.arch) return <span className="hint" title={`The base ${entry.name} is the ${archLabels[base.arch]} image.`}>—</span>;
    return (
      <>
        <span className="tag tag-allow">in</span>{' '}
        <button type="button" className="link" onClick={() => openNewVm(entry.name)} aria-label={`New VM from ${label}`}>
          New VM…
        </button>
      </>
    );
  }
  return (
    <button type="button" className={likely ? 'primary' : undefined} onClick={() => void pullBase(entry)} aria-label={`Get ${label}`}>
      Get
    </button>
  );
}

/** PullProgress follows one image being got: bytes, rate and time left while it downloads, then its import; or why it failed. */
function PullProgress({ job }: { job: PullJob }) {
  const { cancelPull, dismissPull } = useActions();
  if (job.phase === 'failed') {
    return (
      <div className="pull-job failed" data-pull={job.name}>
        <p className="error" role="alert">
          Could not get {job.title}: {job.error}
        </p>
        <button type="button" onClick={() => dismissPull(job.name)}>
          Dismiss
        </button>
      </div>
    );
  }
  return (
    <div className="pull-job" data-pull={job.name} role="status">
      <p>{pullText(job)}</p>
      {job.total > 0 ? <progress max={job.total} value={job.done} /> : <progress />}
      <button type="button" disabled={job.phase === 'cancelling'} onClick={() => void cancelPull(job.name)} aria-label={`Cancel getting ${job.title}`}>
        Cancel
      </button>
    </div>
  );
}

/** pullText says where a pull is: "Downloading Debian 12 — 120 MiB of 410 MiB · 12 MiB/s · about 25 s left". */
function pullText(job: PullJob): string {
  const what = `${job.title} for ${archLabels[job.arch]}`;
  switch (job.phase) {
    case 'starting':
      return `Getting ${what}…`;
    case 'cancelling':
      return `Cancelling ${what}…`;
    case 'import':
      return `Importing ${what}${job.total > 0 ? ` — ${Math.floor((job.done / job.total) * 100)} %` : '…'}`;
    case 'download': {
      const amount = job.total > 0 ? `${formatBytes(job.done)} of ${formatBytes(job.total)}` : `${formatBytes(job.done)} so far`;
      const rate = job.bytesPerSecond ? ` · ${formatBytes(Math.round(job.bytesPerSecond))}/s` : '';
      const left = job.total > 0 && job.bytesPerSecond ? ` · about ${formatDuration(((job.total - job.done) / job.bytesPerSecond) * 1000)} left` : '';
      return `Downloading ${what} — ${amount}${rate}${left}`;
    }
    case 'failed':
      return `Could not get ${what}: ${job.error}`;
  }
}
