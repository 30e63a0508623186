// Runs in: renderer. One VM: its header (state, start and stop, why the last
// try failed, the VM crashed or its guest does not answer) and its tabs, one file each.
import { useState, type KeyboardEvent } from 'react';
import { isActive, stateLabel } from '../../../src-main/shared/vm';
import { useActions, useXray } from '../../store/context';
import { StopControls, StopNotice } from '../StopControls';
import { ConsoleTab } from './ConsoleTab';
import { FirewallTab } from './FirewallTab';
import { HooksTab } from './HooksTab';
import { OverviewTab } from './OverviewTab';
import { SharesTab } from './SharesTab';
import { TimelineTab } from './TimelineTab';

const tabs = ['Overview', 'Timeline', 'Firewall', 'Shares', 'Hooks', 'Console'] as const;
type Tab = (typeof tabs)[number];

export function VmDetail({ name }: { name: string }) {
  const vm = useXray((s) => s.vms[name]);
  const info = useXray((s) => s.info[name]);
  const error = useXray((s) => s.actionErrors[name]);
  const { startVm, show } = useActions();
  const [tab, setTab] = useState<Tab>('Overview');

  if (!vm) {
    return (
      <section className="content">
        {info?.status === 'error' ? <p className="error">{info.message}</p> : <p className="hint">Loading {name}…</p>}
      </section>
    );
  }
  const running = isActive(vm.state);
  const onTabKey = (e: KeyboardEvent) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const index = tabs.indexOf(tab) + (e.key === 'ArrowRight' ? 1 : -1);
    const next = tabs[(index + tabs.length) % tabs.length]!;
    setTab(next);
    document.getElementById(`tab-${next}`)?.focus();
  };

  return (
    <section className="content" aria-label={`VM ${name}`}>
      <header className="toolbar">
        <button type="button" className="link back" onClick={() => show({ kind: 'vms' })} aria-label="Back to the VM list">
          ‹ VMs
        </button>
        <h1>{name}</h1>
        <span className={`state state-${vm.state}${vm.diagnosis ? ' state-stuck' : ''}`} data-testid="detail-state">{stateLabel(vm.state)}</span>
        <span className="spacer" />
        {running ? (
          <StopControls name={name} place="header" />
        ) : (
          <button type="button" className="primary" onClick={() => void startVm(name)}>
            Start
          </button>
        )}
      </header>
      {error && <p className="error" role="alert">{error}</p>}
      <StopNotice name={name} className="hint" />
      {vm.crash && vm.state === 'crashed' && (
        <div className="error" role="alert">
          The VM crashed{vm.crash.exitCode !== null ? ` (exit ${vm.crash.exitCode})` : vm.crash.signal ? ` (${vm.crash.signal})` : ''}. {vm.crash.stderrTail.at(-1) ?? ''}
        </div>
      )}
      {vm.diagnosis && (
        <div className="error diagnosis" role="alert">
          <p>{vm.diagnosis.message}</p>
          {vm.diagnosis.consoleTail.length > 0 && (
            <pre className="console" aria-label="End of the console">
              {vm.diagnosis.consoleTail.join('\n')}
            </pre>
          )}
        </div>
      )}
      <div className="tabs" role="tablist" onKeyDown={onTabKey}>
        {tabs.map((t) => (
          <button key={t} id={`tab-${t}`} type="button" role="tab" aria-selected={tab === t} tabIndex={tab === t ? 0 : -1} onClick={() => setTab(t)}>
            {t}
          </button>
        ))}
      </div>
      <div role="tabpanel" aria-labelledby={`tab-${tab}`} className="tabpanel">
        {tab === 'Overview' && <OverviewTab name={name} />}
        {tab === 'Timeline' && <TimelineTab vm={name} />}
        {tab === 'Firewall' && <FirewallTab vm={name} />}
        {tab === 'Shares' && <SharesTab vm={name} />}
        {tab === 'Hooks' && <HooksTab vm={name} />}
        {tab === 'Console' && <ConsoleTab vm={name} />}
      </div>
    </section>
  );
}
