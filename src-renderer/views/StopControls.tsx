// Runs in: renderer. Stopping a VM, in its row and its header: Stop asks the
// guest to shut down (power button, then poweroff over SSH, then a kill),
// Force stop kills QEMU at once after a confirmation, and how the last stop
// ended is said beside the VM.
import { useRef, useState } from 'react';
import { useActions, useXray } from '../store/context';
import { Dialog } from './Dialog';

/**
 * StopControls are a running VM's stop buttons. The header has Stop and
 * Force stop…; a row, short of room, has Stop, which becomes Force stop…
 * while a stop waits on the guest (the moment a person wants it).
 */
export function StopControls({ name, place }: { name: string; place: 'row' | 'header' }) {
  const state = useXray((s) => s.vms[name]?.state);
  const { stopVm } = useActions();
  const [asking, setAsking] = useState(false);
  const stopping = state === 'stopping';
  const inRow = place === 'row';
  const stop = (
    <button type="button" onClick={() => void stopVm(name)} disabled={stopping} aria-label={inRow ? `Stop ${name}` : undefined}>
      Stop
    </button>
  );
  const force = (
    <button type="button" className="danger" onClick={() => setAsking(true)} aria-label={inRow ? `Force stop ${name}` : undefined}>
      Force stop…
    </button>
  );
  return (
    <>
      {inRow ? (stopping ? force : stop) : (
        <>
          {stop}
          {force}
        </>
      )}
      {asking && (
        <ForceStopConfirm
          vm={name}
          onCancel={() => setAsking(false)}
          onConfirm={() => {
            setAsking(false);
            void stopVm(name, true);
          }}
        />
      )}
    </>
  );
}

/** ForceStopConfirm asks before QEMU is killed; Esc or Cancel leaves the VM running (or its gentle stop going on). */
function ForceStopConfirm({ vm, onConfirm, onCancel }: { vm: string; onConfirm: () => void; onCancel: () => void }) {
  const cancel = useRef<HTMLButtonElement>(null);
  return (
    <Dialog role="alertdialog" labelledBy="force-stop-question" className="confirm" onCancel={onCancel} initialFocus={cancel}>
      <p id="force-stop-question">
        Force stop {vm}? Its QEMU is killed at once, like pulling the power cord: whatever the guest has not yet written to its disk is lost.
      </p>
      <footer>
        <button ref={cancel} type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="danger" onClick={onConfirm}>
          Force stop
        </button>
      </footer>
    </Dialog>
  );
}

/** StopNotice says how the VM's last stop ended, until it starts again. */
export function StopNotice({ name, className }: { name: string; className: string }) {
  const notice = useXray((s) => s.stopNotices[name]);
  if (!notice) return null;
  return (
    <div className={className} role="status" data-testid="stop-notice">
      {notice}
    </div>
  );
}
