// Runs in: renderer. Which TCP ports a running VM's guest listens on, beside
// its forwards: whether a forward has anything behind it, and the ports that
// could be forwarded. The guest is asked over SSH when the VM is ready, again
// every LISTENING_REFRESH_MS while shown, and on Refresh.
import { useEffect } from 'react';
import type { GuestListener } from '../../../src-main/shared/live';
import type { PortMapping } from '../../../src-main/shared/models';
import { useActions, useXray } from '../../store/context';

/** LISTENING_REFRESH_MS is how often a shown VM's guest is asked again (each time one SSH login and one `ss`). */
const LISTENING_REFRESH_MS = 15_000;

function useListeners(vm: string): readonly GuestListener[] | null {
  const entry = useXray((s) => s.listening[vm]);
  return entry?.status === 'ready' ? entry.value : null;
}

/** ForwardStatus tags a forward with what is behind it in the guest, once the guest has said. */
export function ForwardStatus({ vm, guest }: { vm: string; guest: number }) {
  const listeners = useListeners(vm);
  if (listeners === null) return null;
  const listener = listeners.find((l) => l.port === guest);
  if (!listener) return <span className="tag tag-vm" title="Nothing in the guest listens on this port yet.">nothing listening</span>;
  if (!listener.reachable) return <span className="tag tag-deny" title="The guest listens on loopback only, which a forward cannot reach.">loopback only</span>;
  return <span className="tag tag-allow">listening{listener.program ? ` · ${listener.program}` : ''}</span>;
}

/** GuestPorts lists the guest's listening ports, each with the forwards to it or a button that offers one. */
export function GuestPorts({ vm, sshPort, forwards, onForward }: { vm: string; sshPort: number; forwards: readonly PortMapping[]; onForward: (guest: number) => void }) {
  const ready = useXray((s) => s.vms[vm]?.state === 'ready');
  const entry = useXray((s) => s.listening[vm]);
  const { loadListening } = useActions();

  useEffect(() => {
    if (!ready) return;
    void loadListening(vm);
    const timer = setInterval(() => void loadListening(vm), LISTENING_REFRESH_MS);
    return () => clearInterval(timer);
  }, [vm, ready, loadListening]);

  const body = () => {
    if (!ready) return <p className="hint">Which ports the guest listens on shows while the VM is running.</p>;
    if (!entry || entry.status === 'loading') return <p className="hint">Asking the guest…</p>;
    if (entry.status === 'error') return <p className="error">{entry.message}</p>;
    if (entry.value === null) return <p className="hint">Which ports the guest listens on shows while the VM is running.</p>;
    if (entry.value.length === 0) return <p className="hint">Nothing in the guest listens on a TCP port.</p>;
    return (
      <ul className="plain" aria-label="Listening in guest">
        {entry.value.map((l) => {
          const from = forwards.filter((p) => p.guest === l.port).map((p) => `127.0.0.1:${p.host}`);
          if (l.port === 22) from.push(`127.0.0.1:${sshPort} (SSH)`);
          return (
            <li key={l.port} data-guest-port={l.port}>
              <strong>{l.port}</strong> {l.program ?? ''} <span className="hint">on {l.addresses.join(', ')}</span>{' '}
              {from.length > 0 ? (
                <span className="hint">← {from.join(', ')}</span>
              ) : l.reachable ? (
                <button type="button" className="link" onClick={() => onForward(l.port)} aria-label={`Forward guest port ${l.port}`}>
                  forward…
                </button>
              ) : (
                <span className="hint">(loopback only: a forward cannot reach it)</span>
              )}
            </li>
          );
        })}
      </ul>
    );
  };

  return (
    <div className="guest-ports">
      <h3>
        Listening in guest{' '}
        {ready && (
          <button type="button" className="link" onClick={() => void loadListening(vm)}>
            Refresh
          </button>
        )}
      </h3>
      {body()}
    </div>
  );
}
