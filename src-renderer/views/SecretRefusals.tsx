// Runs in: renderer. Secrets refused on their way out: a VM sent a secret's
// placeholder where its binding does not let it go (another host, another
// header, a URL, a body), Xray refused the request, and the window says which
// secret went where. Each notice stays until dismissed and lets the user
// decide: for a host the secret is not bound to, allow it there (the binding
// gains that host) or keep refusing; a URL, a body or another header can
// never carry a secret, so there is only keeping it refused. Nothing is sent
// again: the program in the VM retries if it wants.
import { useState } from 'react';
import { describeEgressReport } from '../../src-main/shared/egress';
import { useActions, useXray } from '../store/context';
import type { SecretRefusal } from '../store/types';
import { ARMING_DELAY_MS, useArmed } from './FirewallPrompt';

/** SecretRefusals shows the refused secrets, newest last, over the window's lower right corner. */
export function SecretRefusals() {
  const refusals = useXray((s) => s.secretRefusals);
  if (refusals.length === 0) return null;
  return (
    <section className="refusals" aria-label="Refused secrets">
      {refusals.map((r) => (
        <RefusalCard key={r.key} refusal={r} />
      ))}
    </section>
  );
}

function RefusalCard({ refusal }: { refusal: SecretRefusal }) {
  const { allowSecretHost, dismissRefusal } = useActions();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const armed = useArmed(ARMING_DELAY_MS);
  const { report, count, allowed } = refusal;
  const title = `Secret "${report.secret}" refused`;

  const allow = () => {
    if (!armed || busy) return;
    setBusy(true);
    setError(null);
    allowSecretHost(refusal.key)
      .catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)))
      .finally(() => setBusy(false));
  };

  return (
    <div className="refusal" role="alert" aria-label={title}>
      <h3>{title}</h3>
      <p>
        {describeEgressReport(report)}
        {count > 1 && <span className="hint"> ({count} times)</span>}
      </p>
      {allowed ? (
        <p>
          {report.vm} now sends secret &ldquo;{report.secret}&rdquo; to {report.host} too. The refused request was not sent again; the program in the VM can retry it.
        </p>
      ) : report.place === 'host' ? (
        <p className="hint">
          Allowing binds the secret to {report.host} as well: Xray puts its value in the {report.header} header of requests there from now on.
        </p>
      ) : (
        <p className="hint">A secret goes only into its own header, to the hosts it is bound to; Xray never sends it in a URL, a body or another header.</p>
      )}
      {error && (
        <p className="error small" role="status">
          {error}
        </p>
      )}
      <div className="buttons">
        {!allowed && report.place === 'host' && (
          <button type="button" className="danger" disabled={!armed || busy} onClick={allow}>
            Allow sending {report.secret} to {report.host}
          </button>
        )}
        <button type="button" disabled={!armed || busy} onClick={() => dismissRefusal(refusal.key)}>
          {allowed ? 'Dismiss' : 'Keep refusing'}
        </button>
      </div>
    </div>
  );
}
