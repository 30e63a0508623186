// Runs in: renderer. A VM's hooks tab: its hook scripts, each run with its
// outcome, how long it took and what it printed (the service keeps the newest
// runs; new ones appear as they start), and plugin commands to run against it.
import { useEffect, useState } from 'react';
import type { HookRunRecord } from '../../../src-main/shared/models';
import { useActions, useXray } from '../../store/context';
import { formatDuration, formatTime } from '../format';
import { Loaded } from '../Loaded';

export function HooksTab({ vm }: { vm: string }) {
  const scripts = useXray((s) => s.hookScripts[vm]);
  const runs = useXray((s) => s.hookRuns[vm]);
  return (
    <div>
      <h3>Scripts</h3>
      <Loaded value={scripts}>
        {(list) =>
          list.length === 0 ? (
            <p className="hint">No hook scripts. Put scripts in the VM's scripts/boot folder to run them at every start.</p>
          ) : (
            <ul className="plain">
              {list.map((h) => (
                <li key={`${h.type}/${h.script}`}>
                  <strong>{h.type}</strong> {h.script} <span className="hint">({h.source})</span>
                </li>
              ))}
            </ul>
          )
        }
      </Loaded>
      <h3>Runs</h3>
      <Loaded value={runs}>
        {(list) =>
          list.length === 0 ? (
            <p className="hint">No hook has run yet. Hooks run when the VM is created and each time it boots.</p>
          ) : (
            <ol className="hook-runs" aria-label="Hook runs, newest first">
              {[...list].reverse().map((record) => (
                <HookRunItem key={`${record.run.type}/${record.run.script}@${record.run.startedAt}`} record={record} />
              ))}
            </ol>
          )
        }
      </Loaded>
      <PluginActions vm={vm} />
    </div>
  );
}

/** HookRunItem is one run: its outcome, hook, source, duration and start in one line, its output below; a failed run opens on why. */
function HookRunItem({ record }: { record: HookRunRecord }) {
  const { run, durationMs, output } = record;
  const failed = run.finishedAt !== null && (run.exitCode !== 0 || run.error !== null);
  return (
    <li className="hook-run" data-script={run.script}>
      <details open={failed}>
        <summary>
          <Outcome record={record} /> <strong>{run.type}</strong> {run.script} <span className="hint">({run.source})</span>
          <span className="hint run-facts">
            {durationMs !== null ? `${formatDuration(durationMs)} · ` : ''}
            {formatTime(run.startedAt)}
          </span>
        </summary>
        {output.length === 0 ? (
          <p className="hint">{run.finishedAt === null ? 'Nothing printed yet.' : 'It printed nothing.'}</p>
        ) : (
          <pre className="console" aria-label={`Output of ${run.script}`}>
            {output.map((line, i) => (
              <span key={i} className={line.stream === 'stderr' ? 'stderr' : undefined}>
                {line.text}
                {'\n'}
              </span>
            ))}
          </pre>
        )}
      </details>
    </li>
  );
}

/** Outcome says how a run ended: its exit code, or why it has none (killed, failed to start); "running…" until it ends. */
function Outcome({ record: { run } }: { record: HookRunRecord }) {
  if (run.finishedAt === null) return <span className="tag tag-running">running…</span>;
  if (run.exitCode === 0 && run.error === null) return <span className="tag tag-allow">exit 0</span>;
  return <span className="tag tag-deny">{run.exitCode !== null ? `exit ${run.exitCode}` : (run.error ?? 'failed')}</span>;
}

/** PluginActions offers the commands of XRAY_HOME/plugins as buttons run against this VM; nothing when there are none. */
function PluginActions({ vm }: { vm: string }) {
  const plugins = useXray((s) => s.plugins);
  const { loadPlugins, runPlugin } = useActions();
  const [result, setResult] = useState<{ title: string; text: string; failed: boolean } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  useEffect(() => {
    void loadPlugins();
  }, [loadPlugins]);
  const loaded = plugins?.status === 'ready' ? plugins.value : [];
  const commands = loaded.filter((p) => p.error === null).flatMap((p) => p.commands.map((c) => ({ plugin: p.name, ...c })));
  if (commands.length === 0) return null;
  const run = async (plugin: string, command: string) => {
    const title = `${plugin} ${command}`;
    setBusy(title);
    try {
      const output = await runPlugin(plugin, command, vm);
      setResult({ title, text: output.trimEnd() || 'Done.', failed: false });
    } catch (err) {
      setResult({ title, text: err instanceof Error ? err.message : String(err), failed: true });
    } finally {
      setBusy(null);
    }
  };
  return (
    <>
      <h3>Plugin actions</h3>
      <ul className="plain">
        {commands.map((c) => (
          <li key={`${c.plugin}/${c.name}`}>
            <button type="button" disabled={busy !== null} onClick={() => void run(c.plugin, c.name)}>
              {c.plugin}: {c.name}
            </button>{' '}
            <span className="hint">{c.description}</span>
          </li>
        ))}
      </ul>
      {busy && <p className="hint" role="status">Running {busy}…</p>}
      {result && (
        <pre className={result.failed ? 'console error' : 'console'} aria-label={`Output of ${result.title}`}>
          {result.text}
        </pre>
      )}
    </>
  );
}
