// Runs in: renderer. The firewall question: may this VM reach this destination,
// or, on a host whose requests HTTP rules decide, send this request? One
// prompt at a time, the rest queue visibly. An answer must be deliberate:
// the prompt takes focus onto itself (never onto Allow), keeps Tab inside and
// the window behind it inert, ignores its controls for ARMING_DELAY_MS after it
// appears, and answers only through its buttons (Enter or Space on the focused
// one, or a click) or Esc, which denies. A prompt that closes because the
// program waiting on it gave up leaves a short notice (AbandonedNotice).
import { useEffect, useState, type RefObject } from 'react';
import type { FirewallPrompt, PromptScope } from '../../src-main/shared/models';
import { defaultScope, promptScopeChoices } from '../../src-main/shared/scopes';
import { useActions, useXray } from '../store/context';
import { Dialog } from './Dialog';
import { destinationText, questionText } from '../../src-main/shared/format';
import { programName } from '../../src-main/shared/names';
import { lifetimeLabels, lifetimeParams, type LifetimeChoice } from './lifetimes';

/**
 * ARMING_DELAY_MS is how long a new prompt ignores keys and clicks. A prompt
 * appears unasked, under a pointer or a keyboard busy with something else, so
 * a click or keystroke already on its way must not answer it: the typing and
 * double-click races of https://bugzilla.mozilla.org/show_bug.cgi?id=162020,
 * which Firefox's install dialogs and macOS security dialogs answer the same
 * way. 800 ms outlasts a double-click (Windows' default limit is 500 ms) and
 * the gap between typed keys, yet is over before anyone has read the question.
 */
export const ARMING_DELAY_MS = 800;

/** NOTICE_MS is how long the notice about an abandoned prompt stays: time enough to read it twice. */
export const NOTICE_MS = 6000;

const lifetimes: readonly LifetimeChoice[] = ['once', 'hour', 'until-stop', 'forever'];

/**
 * FirewallPromptQueue shows the oldest waiting prompt over the window. `behind`
 * is the content it covers, made inert while a prompt shows so clicks, Tab and
 * screen readers reach only the prompt; focus goes back to where it was once
 * the last prompt is answered.
 */
export function FirewallPromptQueue({ behind }: { behind?: RefObject<HTMLElement | null> }) {
  const prompts = useXray((s) => s.prompts);
  const current = prompts[0];
  if (!current) return null;
  return <PromptCard key={current.id} prompt={current} queued={prompts.slice(1)} behind={behind} />;
}

function PromptCard({ prompt, queued, behind }: { prompt: FirewallPrompt; queued: readonly FirewallPrompt[]; behind: RefObject<HTMLElement | null> | undefined }) {
  const { answerPrompt, loadFirewallLog } = useActions();
  const log = useXray((s) => s.firewallLog[prompt.vm]);
  const [scope, setScope] = useState<PromptScope>(() => defaultScope(prompt));
  const [lifetime, setLifetime] = useState<LifetimeChoice>('once');
  const [error, setError] = useState<string | null>(null);
  const [answering, setAnswering] = useState(false);
  const armed = useArmed(ARMING_DELAY_MS);
  const remaining = useCountdown(prompt.deadline);
  const d = prompt.destination;
  const { request } = prompt;

  useEffect(() => {
    if (!log) void loadFirewallLog(prompt.vm);
  }, [log, loadFirewallLog, prompt.vm]);

  const answer = (action: 'allow' | 'deny') => {
    if (!armed || answering) return;
    setError(null);
    setAnswering(true);
    answerPrompt({ id: prompt.id, action, scope, ...lifetimeParams(lifetime) }).catch((err: unknown) => {
      setError(err instanceof Error ? err.message : String(err));
      setAnswering(false);
    });
  };

  const recent = log?.status === 'ready' ? log.value.filter((e) => e.kind === 'decision').slice(-5).reverse() : [];

  return (
    <Dialog role="alertdialog" labelledBy={`prompt-${prompt.id}`} className="prompt" overlayClassName="prompt-overlay" onCancel={() => answer('deny')} behind={behind}>
      <h2 id={`prompt-${prompt.id}`}>
        <span className="vm-name">{prompt.vm}</span> {request ? 'wants to send' : 'wants to connect to'} <span className="dest">{questionText(prompt)}</span>
      </h2>
      <div className="prompt-body">
        <dl className="facts">
          {request && (
            <>
              <dt>Method</dt>
              <dd>{request.method}</dd>
              <dt>Path</dt>
              <dd className="path">{request.path}</dd>
            </>
          )}
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
          <dt>Waiting</dt>
          <dd>
            {prompt.waitingConnections} connection{prompt.waitingConnections === 1 ? '' : 's'}
          </dd>
        </dl>
        {request && <p className="hint">HTTP rules decide each request to {d.name}; none covers this one.</p>}
        <div className="choices">
          <fieldset disabled={!armed}>
            <legend>Applies to</legend>
            {promptScopeChoices(prompt).map((s) => (
              <label key={s.scope} className="radio">
                <input type="radio" name="scope" value={s.scope} checked={scope === s.scope} onChange={() => setScope(s.scope)} />
                {s.label}
              </label>
            ))}
          </fieldset>
          <fieldset disabled={!armed}>
            <legend>For</legend>
            {lifetimes.map((l) => (
              <label key={l} className="radio">
                <input type="radio" name="lifetime" value={l} checked={lifetime === l} onChange={() => setLifetime(l)} />
                {lifetimeLabels[l]}
              </label>
            ))}
          </fieldset>
        </div>
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
        {queued.length > 0 && (
          <div className="queue" aria-label="Waiting questions">
            <strong>{queued.length} more waiting:</strong>
            <ul>
              {queued.map((p) => (
                <li key={p.id}>
                  {p.vm} → {questionText(p)}
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      <footer>
        <span className="countdown" role="timer">
          Denied in {remaining} s unless you answer
        </span>
        <button type="button" className="danger" disabled={!armed || answering} onClick={() => answer('deny')}>
          Deny <kbd>Esc</kbd>
        </button>
        <button type="button" className="primary" disabled={!armed || answering} onClick={() => answer('allow')}>
          Allow
        </button>
      </footer>
    </Dialog>
  );
}

/**
 * AbandonedNotice says, briefly and without taking focus, that a prompt went
 * away unanswered because the program waiting on it gave up, so a question
 * that vanishes is not a mystery. It names the latest such prompt, counts any
 * others, and goes after NOTICE_MS or when dismissed. Its live region (the
 * text alone) stays in the page, empty, so screen readers announce each one.
 */
export function AbandonedNotice() {
  const abandoned = useXray((s) => s.abandonedPrompts);
  const { clearAbandoned } = useActions();
  const latest = abandoned.at(-1);

  useEffect(() => {
    if (!latest) return;
    const timer = setTimeout(clearAbandoned, NOTICE_MS);
    return () => clearTimeout(timer);
  }, [latest, clearAbandoned]);

  const others = abandoned.length - 1;
  const text = latest
    ? `${abandonedText(latest)}${others > 0 ? ` (${others} more question${others === 1 ? '' : 's'} closed the same way)` : ''}`
    : '';
  return (
    <div className="notices">
      <div className={latest ? 'notice' : 'notice empty'}>
        <span role="status" title={text || undefined}>
          {text}
        </span>
        {latest && (
          // Pressing it must not take focus out of a prompt that is showing.
          <button type="button" className="link" aria-label="Dismiss" onMouseDown={(e) => e.preventDefault()} onClick={clearAbandoned}>
            ×
          </button>
        )}
      </div>
    </div>
  );
}

/** abandonedText says what became of a prompt whose program gave up: "dev: curl gave up on example.com:443 before you answered". */
function abandonedText(p: FirewallPrompt): string {
  const program = p.guestProcess ? programName(p.guestProcess.command) : null;
  return `${p.vm}: ${program ?? 'a program'} gave up on ${questionText(p)} before you answered`;
}

/** useArmed turns true `delayMs` after the component appears: what appears unasked takes no click or key before. */
export function useArmed(delayMs: number): boolean {
  const [armed, setArmed] = useState(false);
  useEffect(() => {
    const timer = setTimeout(() => setArmed(true), delayMs);
    return () => clearTimeout(timer);
  }, [delayMs]);
  return armed;
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
