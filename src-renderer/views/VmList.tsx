// Runs in: renderer. The VM table: one memoized row per VM, each selecting only
// its own summary, so a state change to one VM re-renders one row. With no VM
// and no base yet, it offers the image catalog.
import { isActive, stateLabel } from '../../src-main/shared/vm';
import { memo, useLayoutEffect, useRef, type KeyboardEvent } from 'react';
import { useActions, useXray } from '../store/context';
import { Catalog } from './Catalog';
import { formatPorts } from './format';
import { StopControls, StopNotice } from './StopControls';

export function VmList({ onCreate }: { onCreate: () => void }) {
  const names = useXray((s) => s.vmNames);
  const loaded = useXray((s) => s.vmsLoaded);
  const error = useXray((s) => s.vmsError);
  const hasBases = useXray((s) => s.bases.status === 'ready' && s.bases.value.length > 0);
  const { show } = useActions();
  const marked = useRef(false);

  useLayoutEffect(() => {
    if (!marked.current && names.length > 0) {
      marked.current = true;
      performance.mark('xray:vm-list-rendered');
    }
  }, [names]);

  const onKeyDown = (e: KeyboardEvent<HTMLTableSectionElement>) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const rows = [...e.currentTarget.querySelectorAll<HTMLTableRowElement>('tr[data-vm]')];
    const index = rows.indexOf(document.activeElement as HTMLTableRowElement);
    const next = rows[Math.max(0, Math.min(rows.length - 1, index + (e.key === 'ArrowDown' ? 1 : -1)))];
    next?.focus();
    e.preventDefault();
  };

  return (
    <section className="content" aria-label="Virtual machines">
      <header className="toolbar">
        <h1>Virtual machines</h1>
        <button type="button" className="primary" onClick={onCreate}>
          New VM…
        </button>
      </header>
      {error && <p className="error" role="alert">{error}</p>}
      {loaded && !error && names.length === 0 && (
        <div className="empty">
          <h2>No virtual machines yet</h2>
          {hasBases ? (
            <>
              <p>Create your first VM from one of your base images. It is ready in a moment: a copy-on-write overlay, not a copy.</p>
              <button type="button" className="primary" onClick={onCreate}>
                New VM…
              </button>
            </>
          ) : (
            <>
              <p>
                A VM starts from a base image. Get an official one here, or drop your own qcow2 disk in{' '}
                <button type="button" className="link" onClick={() => show({ kind: 'bases' })}>Base images</button>.
              </p>
              <Catalog />
            </>
          )}
        </div>
      )}
      {names.length > 0 && (
        <table className="vm-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Status</th>
              <th>Base</th>
              <th>Resources</th>
              <th>SSH</th>
              <th>Ports</th>
              {/* The soft hyphen lets the header break in a narrow window rather than widen the table. */}
              <th>Connec&shy;tions</th>
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody onKeyDown={onKeyDown}>
            {names.map((name) => (
              <VmRow key={name} name={name} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** VmRow shows one VM; memo + a by-name selector keep other VMs' updates away from it. */
export const VmRow = memo(function VmRow({ name }: { name: string }) {
  const vm = useXray((s) => s.vms[name]);
  const error = useXray((s) => s.actionErrors[name]);
  const { startVm, show } = useActions();
  if (!vm) return null;
  const running = isActive(vm.state);
  const open = () => show({ kind: 'vm', name });
  return (
    <tr
      data-vm={name}
      tabIndex={0}
      onDoubleClick={open}
      onKeyDown={(e) => {
        if (e.key === 'Enter' && e.target === e.currentTarget) open();
      }}
    >
      <td className="name">
        <button type="button" className="link" onClick={open}>
          {name}
        </button>
        {error && <div className="error small" role="alert">{error}</div>}
        {vm.configError && <div className="error small">{vm.configError}</div>}
        {vm.diagnosis && <div className="error small" data-testid="diagnosis">{vm.diagnosis.message}</div>}
        <StopNotice name={name} className="hint small" />
      </td>
      <td>
        <span className={`state state-${vm.state}${vm.diagnosis ? ' state-stuck' : ''}`} data-testid="state">{stateLabel(vm.state)}</span>
        {vm.pendingPrompts > 0 && <span className="badge" title="Firewall questions waiting">{vm.pendingPrompts}</span>}
      </td>
      <td className="base">{vm.base}</td>
      <td className="resources">
        {vm.cpus} CPU · {vm.memoryMb} MB
      </td>
      <td>{vm.sshPort}</td>
      <td className="ports">
        {vm.ports.length === 0
          ? '—'
          : vm.ports.map((p, i) => (
              <span key={`${p.host}:${p.guest}`}>
                {i > 0 && ', '}
                <span className="mapping">{formatPorts([p])}</span>
              </span>
            ))}
      </td>
      <td>{running ? vm.openConnections : '—'}</td>
      <td className="actions">
        {running ? (
          <StopControls name={name} place="row" />
        ) : (
          <button type="button" onClick={() => void startVm(name)} aria-label={`Start ${name}`}>
            Start
          </button>
        )}
      </td>
    </tr>
  );
});
