// Runs in: renderer. The firewall question: may this VM reach this destination?
// One prompt at a time, the rest queue visibly; Enter allows, Esc denies.
import { useEffect, useState } from 'react';
import type { FirewallPrompt, PromptLifetime, PromptScope } from '../../src-main/core/api/models';
import { scopeChoices } from '../../src-main/core/api/scopes';
import { useActions, useXray } from '../store/context';
import { destinationText } from './format';

const ONE_HOUR = 3600;

type LifetimeChoice = 'once' | 'hour' | 'until-stop' | 'forever';

const lifetimes: { value: LifetimeChoice; label: string }[] = [
  { value: 'once', label: 'Once' },
  { value: 'hour', label: '1 hour' },
  { value: 'until-stop', label: 'Until the VM stops' },
  { value: 'forever', label: 'Forever' },
];

export function FirewallPromptQueue() {
  const prompts = useXray((s) => s.prompts);
  const current = prompts[0];
  if (!current) return null;
  return (
    <div className="overlay prompt-overlay">
      <PromptCard key={current.id} prompt={current} queued={prompts.slice(1)} />
    </div>
  );
}

function PromptCard({ prompt, queued }: { prompt: FirewallPrompt; queued: readonly FirewallPrompt[] }) {
  const { answerPrompt, loadFirewallLog } = useActions();
  const log = useXray((s) => s.firewallLog[prompt.vm]);
  const [scope, setScope] = useState<PromptScope>('host-port');
  const [lifetime, setLifetime] = useState<LifetimeChoice>('once');
  const [error, setError] = useState<string | null>(null);
  const remaining = useCountdown(prompt.deadline);
  const d = prompt.destination;

  useEffect(() => {
    if (!log) void loadFirewallLog(prompt.vm);
  }, [log, loadFirewallLog, prompt.vm]);

  const answer = (action: 'allow' | 'deny') => {
    setError(null);
    const params = lifetime === 'hour'
      ? { id: prompt.id, action, scope, lifetime: 'duration' as PromptLifetime, durationSeconds: ONE_HOUR }
      : { id: prompt.id, action, scope, lifetime: lifetime as PromptLifetime };
    answerPrompt(params).catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)));
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        answer('allow');
      } else if (e.key === 'Escape') {
        e.preventDefault();
        answer('deny');
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const recent = log?.status === 'ready' ? log.value.filter((e) => e.kind === 'decision').slice(-5).reverse() : [];

  return (
    <section className="dialog prompt" role="alertdialog" aria-labelledby={`prompt-${prompt.id}`}>
      <h2 id={`prompt-${prompt.id}`}>
        <span className="vm-name">{prompt.vm}</span> wants to connect to <span className="dest">{destinationText(d)}</span>
      </h2>
      <dl className="facts">
        <dt>Name</dt>
        <dd>{d.name ?? '—'}{d.nameSource ? <span className="hint"> (from {d.nameSource})</span> : null}</dd>
        <dt>IP</dt>
        <dd>{d.ip ?? '—'}</dd>
        <dt>Port</dt>
        <dd>{d.port}</dd>
        <dt>Service</dt>
        <dd>{d.service ?? 'unknown'}</dd>
        {prompt.guestProcess && (
          <>
            <dt>Process</dt>
            <dd>{prompt.guestProcess.command} (pid {prompt.guestProcess.pid})</dd>
          </>
        )}
      </dl>
      <fieldset>
        <legend>Applies to</legend>
        {scopeChoices(d).map((s) => (
          <label key={s.scope} className="radio">
            <input type="radio" name="scope" value={s.scope} checked={scope === s.scope} onChange={() => setScope(s.scope)} />
            {s.label}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>For</legend>
        {lifetimes.map((l) => (
          <label key={l.value} className="radio">
            <input type="radio" name="lifetime" value={l.value} checked={lifetime === l.value} onChange={() => setLifetime(l.value)} />
            {l.label}
          </label>
        ))}
      </fieldset>
      {recent.length > 0 && (
        <div className="recent">
          <h3>Recent decisions for {prompt.vm}</h3>
          <ul>
            {recent.map((e, i) => (
              <li key={i}>
                <span className={`tag tag-${e.action ?? 'disk'}`}>{e.action}</span> {destinationText(e.destination)}
              </li>
            ))}
          </ul>
        </div>
      )}
      {error && <p className="error" role="alert">{error}</p>}
      <footer>
        <span className="countdown" role="timer">
          Denied in {remaining} s unless you answer
        </span>
        <button type="button" className="danger" onClick={() => answer('deny')}>
          Deny <kbd>Esc</kbd>
        </button>
        <button type="button" className="primary" onClick={() => answer('allow')}>
          Allow <kbd>↵</kbd>
        </button>
      </footer>
      {queued.length > 0 && (
        <div className="queue" aria-label="Waiting questions">
          <strong>{queued.length} more waiting:</strong>
          <ul>
            {queued.map((p) => (
              <li key={p.id}>
                {p.vm} → {destinationText(p.destination)}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

/** useCountdown gives whole seconds left until `deadline`, ticking every second. */
function useCountdown(deadline: string): number {
  const left = () => Math.max(0, Math.ceil((Date.parse(deadline) - Date.now()) / 1000));
  const [seconds, setSeconds] = useState(left);
  useEffect(() => {
    const timer = setInterval(() => setSeconds(left()), 1000);
    return () => clearInterval(timer);
  });
  return seconds;
}
