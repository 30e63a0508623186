// Runs in: renderer. A VM's hooks tab: its hook scripts, the runs seen since
// the window opened with their output, and plugin commands to run against it.
import { useEffect, useState } from 'react';
import { useActions, useXray } from '../../store/context';
import { Loaded } from '../Loaded';

export function HooksTab({ vm }: { vm: string }) {
  const scripts = useXray((s) => s.hookScripts[vm]);
  const runs = useXray((s) => s.hookRuns[vm]);
  const output = useXray((s) => s.hookOutput[vm]);
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
      {!runs || runs.length === 0 ? (
        <p className="hint">No hook has run since this window opened.</p>
      ) : (
        <ul className="plain">
          {runs.map((r) => (
            <li key={`${r.script}@${r.startedAt}`}>
              {r.type} {r.script}:{' '}
              {r.finishedAt === null ? 'running…' : r.exitCode === 0 ? <span className="tag tag-allow">ok</span> : <span className="tag tag-deny">{r.error ?? `exit ${r.exitCode}`}</span>}
            </li>
          ))}
        </ul>
      )}
      {output && output.length > 0 && <pre className="console">{output.join('\n')}</pre>}
      <PluginActions vm={vm} />
    </div>
  );
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
