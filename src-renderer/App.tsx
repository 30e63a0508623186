// Runs in: renderer. The window: a sidebar (VMs, base images) and the content
// under Xray's messages, with refused secrets and the firewall questions on top of everything (outside
// the app's element, which a question makes inert while it shows).
import { useEffect, useRef } from 'react';
import { useActions, useXray } from './store/context';
import { BasesView } from './views/BasesView';
import { CreateDialog } from './views/CreateDialog';
import { AbandonedNotice, FirewallPromptQueue } from './views/FirewallPrompt';
import { Messages } from './views/Messages';
import { SecretRefusals } from './views/SecretRefusals';
import { stateLabel } from '../src-main/shared/vm';
import { VmDetail } from './views/vm/VmDetail';
import { VmList } from './views/VmList';

export function App() {
  const view = useXray((s) => s.view);
  const names = useXray((s) => s.vmNames);
  const promptCount = useXray((s) => s.prompts.length);
  const newVm = useXray((s) => s.newVm);
  const { show, load, openNewVm, closeNewVm } = useActions();
  const app = useRef<HTMLDivElement>(null);

  useEffect(() => {
    void load();
    // A file dropped outside the drop zone must not replace the app with the file.
    const block = (e: DragEvent) => e.preventDefault();
    window.addEventListener('dragover', block);
    window.addEventListener('drop', block);
    return () => {
      window.removeEventListener('dragover', block);
      window.removeEventListener('drop', block);
    };
  }, [load]);

  return (
    <>
      <div className="app" ref={app}>
        <nav className="sidebar" aria-label="Sections">
          <div className="brand">Xray</div>
          <button type="button" className={`nav-item${view.kind === 'vms' ? ' active' : ''}`} onClick={() => show({ kind: 'vms' })}>
            Virtual machines
          </button>
          <ul className="nav-vms">
            {names.map((name) => (
              <SidebarVm key={name} name={name} active={view.kind === 'vm' && view.name === name} />
            ))}
          </ul>
          <button type="button" className={`nav-item${view.kind === 'bases' ? ' active' : ''}`} onClick={() => show({ kind: 'bases' })}>
            Base images
          </button>
          {promptCount > 0 && <div className="nav-note">{promptCount} firewall question{promptCount === 1 ? '' : 's'} waiting</div>}
        </nav>
        <main>
          <Messages />
          {view.kind === 'vms' && <VmList onCreate={() => openNewVm()} />}
          {view.kind === 'vm' && <VmDetail key={view.name} name={view.name} />}
          {view.kind === 'bases' && <BasesView />}
        </main>
        {newVm && <CreateDialog initialBase={newVm.base} onClose={closeNewVm} />}
      </div>
      <SecretRefusals />
      <FirewallPromptQueue behind={app} />
      <AbandonedNotice />
    </>
  );
}

function SidebarVm({ name, active }: { name: string; active: boolean }) {
  const state = useXray((s) => s.vms[name]?.state);
  const { show } = useActions();
  return (
    <li>
      <button type="button" className={`nav-vm${active ? ' active' : ''}`} onClick={() => show({ kind: 'vm', name })} title={state ? stateLabel(state) : undefined}>
        <span className={`dot state-${state ?? 'stopped'}`} aria-hidden="true" />
        {name}
      </button>
    </li>
  );
}
