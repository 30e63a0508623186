// Runs in: renderer. The question asked before a snapshot is reverted to or
// deleted, which both lose what was there.
import { useRef } from 'react';
import { Dialog } from '../Dialog';

/** SnapshotQuestion is what is about to happen: a revert to, or a delete of, one snapshot. */
export interface SnapshotQuestion {
  readonly operation: 'revert' | 'delete';
  readonly snapshot: string;
}

/** SnapshotConfirm asks before a revert or delete; Esc or Cancel leaves everything as it is. */
export function SnapshotConfirm({ vm, question, onConfirm, onCancel }: { vm: string; question: SnapshotQuestion; onConfirm: () => void; onCancel: () => void }) {
  const act = useRef<HTMLButtonElement>(null);
  return (
    <Dialog role="alertdialog" labelledBy="confirm-question" className="confirm" onCancel={onCancel} initialFocus={act}>
      <p id="confirm-question">
        {question.operation === 'revert'
          ? `Revert ${vm} to “${question.snapshot}”? Changes made since then are lost.`
          : `Delete snapshot “${question.snapshot}” of ${vm}? This cannot be undone.`}
      </p>
      <footer>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button ref={act} type="button" className={question.operation === 'delete' ? 'danger' : 'primary'} onClick={onConfirm}>
          {question.operation === 'revert' ? 'Revert' : 'Delete'}
        </button>
      </footer>
    </Dialog>
  );
}
