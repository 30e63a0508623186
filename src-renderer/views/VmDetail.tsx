// Runs in: renderer. One VM: its settings (editable while stopped), ports,
// snapshots, firewall rules and log, hook runs and the console tail.
import { isActive, stateLabel } from '../../src-main/shared/vm';
import { formatBytes } from '../../src-main/shared/format';
import { useEffect, useState, type FormEvent, type KeyboardEvent, type ReactNode } from 'react';
import type { PluginInfo } from '../../src-main/shared/contract';
import type { FirewallRule, RuleTarget } from '../../src-main/shared/models';
import { useActions, useClient, useXray } from '../store/context';
import type { Loadable } from '../store/store';
import { parsePorts } from './CreateDialog';
import { destinationText, formatPorts, formatTime } from './format';
import { SnapshotTimeline } from './SnapshotTimeline';

const tabs = ['Overview', 'Snapshots', 'Firewall', 'Hooks', 'Console'] as const;
type Tab = (typeof tabs)[number];

export function VmDetail({ name }: { name: string }) {
  const vm = useXray((s) => s.vms[name]);
  const info = useXray((s) => s.info[name]);
  const error = useXray((s) => s.actionErrors[name]);
  const { startVm, stopVm, show } = useActions();
  const [tab, setTab] = useState<Tab>('Overview');

  if (!vm) {
    return (
      <section className="content">
        {info?.status === 'error' ? <p className="error">{info.message}</p> : <p className="hint">Loading {name}…</p>}
      </section>
    );
  }
  const running = isActive(vm.state);
  const onTabKey = (e: KeyboardEvent) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const index = tabs.indexOf(tab) + (e.key === 'ArrowRight' ? 1 : -1);
    const next = tabs[(index + tabs.length) % tabs.length]!;
    setTab(next);
    document.getElementById(`tab-${next}`)?.focus();
  };

  return (
    <section className="content" aria-label={`VM ${name}`}>
      <header className="toolbar">
        <button type="button" className="link back" onClick={() => show({ kind: 'vms' })} aria-label="Back to the VM list">
          ‹ VMs
        </button>
        <h1>{name}</h1>
        <span className={`state state-${vm.state}`} data-testid="detail-state">{stateLabel(vm.state)}</span>
        <span className="spacer" />
        {running ? (
          <button type="button" onClick={() => void stopVm(name)} disabled={vm.state === 'stopping'}>
            Stop
          </button>
        ) : (
          <button type="button" className="primary" onClick={() => void startVm(name)}>
            Start
          </button>
        )}
      </header>
      {error && <p className="error" role="alert">{error}</p>}
      {vm.crash && vm.state === 'crashed' && (
        <div className="error" role="alert">
          The VM crashed{vm.crash.exitCode !== null ? ` (exit ${vm.crash.exitCode})` : vm.crash.signal ? ` (${vm.crash.signal})` : ''}. {vm.crash.stderrTail.at(-1) ?? ''}
        </div>
      )}
      <div className="tabs" role="tablist" onKeyDown={onTabKey}>
        {tabs.map((t) => (
          <button key={t} id={`tab-${t}`} type="button" role="tab" aria-selected={tab === t} tabIndex={tab === t ? 0 : -1} onClick={() => setTab(t)}>
            {t}
          </button>
        ))}
      </div>
      <div role="tabpanel" aria-labelledby={`tab-${tab}`} className="tabpanel">
        {tab === 'Overview' && <Overview name={name} />}
        {tab === 'Snapshots' && <SnapshotTimeline vm={name} />}
        {tab === 'Firewall' && <Firewall vm={name} />}
        {tab === 'Hooks' && <Hooks vm={name} />}
        {tab === 'Console' && <Console vm={name} />}
      </div>
    </section>
  );
}

/** Loaded renders a Loadable: a hint while loading, the error text in place, or the content. */
function Loaded<T>({ value, children }: { value: Loadable<T> | undefined; children: (v: T) => ReactNode }) {
  if (!value || value.status === 'loading') return <p className="hint">Loading…</p>;
  if (value.status === 'error') return <p className="error">{value.message}</p>;
  return <>{children(value.value)}</>;
}

function Overview({ name }: { name: string }) {
  const vm = useXray((s) => s.vms[name])!;
  const info = useXray((s) => s.info[name]);
  const { updateVm, refreshVm } = useActions();
  const client = useClient();
  const editable = !isActive(vm.state);
  const [memory, setMemory] = useState(String(vm.memoryMb));
  const [cpus, setCpus] = useState(String(vm.cpus));
  const [sshUser, setSshUser] = useState(vm.sshUser);
  const [newPort, setNewPort] = useState('');
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const memoryOk = /^\d+$/.test(memory) && Number(memory) >= 128;
  const cpusOk = /^\d+$/.test(cpus) && Number(cpus) >= 1 && Number(cpus) <= 64;
  const changed = Number(memory) !== vm.memoryMb || Number(cpus) !== vm.cpus || sshUser !== vm.sshUser;
  const parsedPort = parsePorts(newPort);

  const run = async (task: () => Promise<unknown>, done: string) => {
    setMessage(null);
    try {
      await task();
      setMessage({ error: false, text: done });
    } catch (err) {
      setMessage({ error: true, text: err instanceof Error ? err.message : String(err) });
    }
  };
  const save = (e: FormEvent) => {
    e.preventDefault();
    if (!memoryOk || !cpusOk || !sshUser) return;
    void run(() => updateVm({ name, memoryMb: Number(memory), cpus: Number(cpus), sshUser }), 'Saved.');
  };
  const addPort = (e: FormEvent) => {
    e.preventDefault();
    const mapping = parsedPort.ports[0];
    if (!mapping || parsedPort.problem) return;
    void run(async () => {
      await client.call('port.add', { vm: name, mapping });
      setNewPort('');
      await refreshVm(name);
    }, `Forwarding 127.0.0.1:${mapping.host} to guest port ${mapping.guest} from the next start.`);
  };

  return (
    <div className="overview">
      <form onSubmit={save} className="settings" aria-label="Settings">
        {!editable && <p className="hint">Stop the VM to change its memory, CPUs or SSH user.</p>}
        <div className="row">
          <label>
            Memory (MB)
            <input value={memory} disabled={!editable} onChange={(e) => setMemory(e.target.value)} aria-invalid={memoryOk ? undefined : true} />
          </label>
          <label>
            CPUs
            <input value={cpus} disabled={!editable} onChange={(e) => setCpus(e.target.value)} aria-invalid={cpusOk ? undefined : true} />
          </label>
          <label>
            SSH user
            <input value={sshUser} disabled={!editable} onChange={(e) => setSshUser(e.target.value)} />
          </label>
        </div>
        {editable && (
          <button type="submit" className="primary" disabled={!changed || !memoryOk || !cpusOk || !sshUser}>
            Save
          </button>
        )}
      </form>
      {message && <p className={message.error ? 'error' : 'hint'} role={message.error ? 'alert' : 'status'}>{message.text}</p>}
      <dl className="facts">
        <dt>Base</dt>
        <dd>{vm.base} ({vm.arch})</dd>
        <dt>SSH</dt>
        <dd><code>ssh -p {vm.sshPort} {vm.sshUser}@127.0.0.1</code></dd>
        <dt>Accelerator</dt>
        <dd>{vm.accelerator ?? '—'}</dd>
        <dt>Firewall</dt>
        <dd>{vm.firewallActive ? `active · ${vm.openConnections} open connection${vm.openConnections === 1 ? '' : 's'}` : 'inactive'}</dd>
        <dt>Ports</dt>
        <dd>
          {vm.ports.length === 0 ? 'none' : vm.ports.map((p) => (
            <span key={`${p.host}:${p.guest}`} className="port">
              127.0.0.1:{p.host} → {p.guest}{' '}
              <button
                type="button"
                className="link"
                aria-label={`Remove port ${p.host}`}
                onClick={() => void run(async () => { await client.call('port.remove', { vm: name, mapping: p }); await refreshVm(name); }, `Removed ${formatPorts([p])}.`)}
              >
                remove
              </button>
            </span>
          ))}
        </dd>
      </dl>
      <form className="inline-form" onSubmit={addPort} aria-label="Add a port">
        <input value={newPort} onChange={(e) => setNewPort(e.target.value)} placeholder="host:guest, e.g. 8080:80" aria-label="New port" />
        <button type="submit" disabled={!newPort || !!parsedPort.problem}>Add port</button>
      </form>
      <Loaded value={info}>
        {(i) => (
          <>
            <h3>Disk</h3>
            <ul className="plain">
              {i.diskChain.map((d) => (
                <li key={d.filename}>
                  {d.filename.split('/').at(-1)} — {d.format}, {formatBytes(d.virtualSize)} virtual, {formatBytes(d.actualSize)} used
                </li>
              ))}
            </ul>
          </>
        )}
      </Loaded>
    </div>
  );
}

function targetText(t: RuleTarget): string {
  const port = t.port === null ? 'any port' : `port ${t.port}`;
  switch (t.kind) {
    case 'ip':
      return `${t.ip}, ${port}`;
    case 'cidr':
      return `${t.cidr}, ${port}`;
    case 'domain':
      return `${t.domain}, ${port}`;
    case 'domain-suffix':
      return `*.${t.domain}, ${port}`;
  }
}

function lifetimeText(r: FirewallRule): string {
  switch (r.lifetime.kind) {
    case 'once':
      return 'once';
    case 'duration':
      return `until ${formatTime(r.lifetime.until)}`;
    case 'until-stop':
      return 'until the VM stops';
    case 'forever':
      return 'forever';
  }
}

function Firewall({ vm }: { vm: string }) {
  const rules = useXray((s) => s.rules[vm]);
  const log = useXray((s) => s.firewallLog[vm]);
  return (
    <div>
      <h3>Rules</h3>
      <Loaded value={rules}>
        {(list) =>
          list.length === 0 ? (
            <p className="hint">No rules yet: the first time this VM connects somewhere new, Xray asks you.</p>
          ) : (
            <table>
              <tbody>
                {list.map((r) => (
                  <tr key={r.id}>
                    <td><span className={`tag tag-${r.action}`}>{r.action}</span></td>
                    <td>{targetText(r.target)}</td>
                    <td>{lifetimeText(r)}</td>
                    <td className="hint">{r.source}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
      <h3>Connections</h3>
      <Loaded value={log}>
        {(entries) =>
          entries.length === 0 ? (
            <p className="hint">No connections yet.</p>
          ) : (
            <table className="log">
              <tbody>
                {[...entries].reverse().map((e, i) => (
                  <tr key={i}>
                    <td className="hint">{formatTime(e.at)}</td>
                    <td>{e.kind}</td>
                    <td>{destinationText(e.destination)}</td>
                    <td>{e.action ? <span className={`tag tag-${e.action}`}>{e.action}</span> : null}</td>
                    <td className="hint">
                      {e.reason ?? ''}
                      {e.bytesUp !== undefined ? ` ↑${formatBytes(e.bytesUp)} ↓${formatBytes(e.bytesDown ?? 0)}` : ''}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </div>
  );
}

function Hooks({ vm }: { vm: string }) {
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

/** PluginActions offers the commands of XRAY_HOME/plugins as buttons run against this VM. */
function PluginActions({ vm }: { vm: string }) {
  const client = useClient();
  const [plugins, setPlugins] = useState<PluginInfo[] | null>(null);
  const [result, setResult] = useState<{ title: string; text: string; failed: boolean } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    client.call('plugin.list', {}).then(
      (list) => live && setPlugins(list),
      () => live && setPlugins([]),
    );
    return () => {
      live = false;
    };
  }, [client]);
  const commands = (plugins ?? []).filter((p) => p.error === null).flatMap((p) => p.commands.map((c) => ({ plugin: p.name, ...c })));
  if (commands.length === 0) return null;
  const run = async (plugin: string, command: string) => {
    const title = `${plugin} ${command}`;
    setBusy(title);
    try {
      const { output } = await client.call('plugin.run', { plugin, command, args: [vm] });
      setResult({ title, text: output.trimEnd() || 'Done.', failed: false });
    } catch (err) {
      setResult({ title, text: (err as Error).message, failed: true });
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

function Console({ vm }: { vm: string }) {
  const tail = useXray((s) => s.consoleTail[vm]);
  const { loadConsole } = useActions();
  useEffect(() => {
    void loadConsole(vm);
  }, [vm, loadConsole]);
  return (
    <Loaded value={tail}>
      {(lines) => (lines.length === 0 ? <p className="hint">The console is empty; it fills when the VM boots.</p> : <pre className="console">{lines.join('\n')}</pre>)}
    </Loaded>
  );
}
