// Runs in: renderer. A VM's shared folders: what it has, adding one (host
// folder, where the guest sees it, read-only or not) and removing one. The
// guest path is checked as typed by the service's own rule; the host folder
// only by the service (a browser cannot look at the host's files).
import { useState, type FormEvent } from 'react';
import { SHARES_APPLY, guestPathProblem } from '../../../src-main/shared/shares';
import { isActive } from '../../../src-main/shared/vm';
import { useActions, useXray } from '../../store/context';
import { Loaded } from '../Loaded';

export function SharesTab({ vm }: { vm: string }) {
  const running = useXray((s) => s.vms[vm] !== undefined && isActive(s.vms[vm].state));
  const shares = useXray((s) => s.shares[vm]);
  const { addShare, removeShare } = useActions();
  const [hostPath, setHostPath] = useState('');
  const [guestPath, setGuestPath] = useState('');
  const [readOnly, setReadOnly] = useState(false);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const hostProblem = hostPath !== '' && !hostPath.startsWith('/') ? 'The host folder must be an absolute path (starting with /).' : null;
  const guestProblem = guestPath === '' ? null : guestPathProblem(guestPath);
  const when = running ? `${SHARES_APPLY} ${vm} is running: stop and start it to see the change.` : SHARES_APPLY;

  const run = async (task: () => Promise<string>) => {
    setMessage(null);
    try {
      setMessage({ error: false, text: `${await task()} ${when}` });
    } catch (err) {
      setMessage({ error: true, text: err instanceof Error ? err.message : String(err) });
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (hostPath === '' || hostProblem || guestProblem) return;
    void run(async () => {
      const { share } = await addShare(vm, { hostPath, ...(guestPath === '' ? {} : { guestPath }), readOnly });
      setHostPath('');
      setGuestPath('');
      setReadOnly(false);
      return `Sharing ${share.hostPath} at ${share.guestPath}${share.readOnly ? ', read-only' : ''}.`;
    });
  };

  return (
    <div className="shares">
      <p className="hint">Folders of this computer the VM sees, mounted at boot. {when}</p>
      <Loaded value={shares}>
        {(list) =>
          list.length === 0 ? (
            <p className="hint">No shared folders.</p>
          ) : (
            <table aria-label="Shared folders">
              <thead>
                <tr>
                  <th>Host folder</th>
                  <th>In the guest</th>
                  <th>Access</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {list.map((share) => (
                  <tr key={share.guestPath}>
                    <td><code>{share.hostPath}</code></td>
                    <td><code>{share.guestPath}</code></td>
                    <td>{share.readOnly ? 'read-only' : 'read-write'}</td>
                    <td>
                      <button
                        type="button"
                        className="link"
                        aria-label={`Remove the share at ${share.guestPath}`}
                        onClick={() => void run(async () => (await removeShare(vm, share.guestPath), `No longer sharing ${share.hostPath}.`))}
                      >
                        remove
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
      <form className="share-form" onSubmit={submit} aria-label="Share a folder">
        <label>
          Host folder
          <input value={hostPath} onChange={(e) => setHostPath(e.target.value)} placeholder="/Users/me/src/app" aria-invalid={hostProblem ? true : undefined} />
        </label>
        <label>
          In the guest
          <input value={guestPath} onChange={(e) => setGuestPath(e.target.value)} placeholder="the same path" aria-invalid={guestProblem ? true : undefined} />
        </label>
        <label className="radio">
          <input type="checkbox" checked={readOnly} onChange={(e) => setReadOnly(e.target.checked)} />
          Read-only
        </label>
        <button type="submit" disabled={hostPath === '' || hostProblem !== null || guestProblem !== null}>
          Share
        </button>
      </form>
      {hostProblem && <p className="field-error">{hostProblem}</p>}
      {guestProblem && <p className="field-error">The guest path {guestProblem}.</p>}
      {message && <p className={message.error ? 'error' : 'hint'} role={message.error ? 'alert' : 'status'}>{message.text}</p>}
    </div>
  );
}
