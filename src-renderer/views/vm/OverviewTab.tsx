// Runs in: renderer. A VM's overview tab: its settings (editable while it is
// stopped, checked as typed by the rules the service applies), how to reach
// it, its forwarded ports (changed live while it runs) beside the ports its
// guest listens on, and its disk chain.
import { useRef, useState, type FormEvent } from 'react';
import { formatBytes } from '../../../src-main/shared/format';
import { isActive, parsePortMapping } from '../../../src-main/shared/vm';
import { useActions, useXray } from '../../store/context';
import { settingProblem, type VmSetting } from '../fields';
import { formatPorts } from '../format';
import { Loaded } from '../Loaded';
import { ForwardStatus, GuestPorts } from './GuestPorts';

const settings: readonly { readonly setting: VmSetting; readonly label: string }[] = [
  { setting: 'memoryMb', label: 'Memory (MB)' },
  { setting: 'cpus', label: 'CPUs' },
  { setting: 'sshUser', label: 'SSH user' },
];

export function OverviewTab({ name }: { name: string }) {
  const vm = useXray((s) => s.vms[name])!;
  const info = useXray((s) => s.info[name]);
  const { updateVm, addPort, removePort } = useActions();
  const editable = !isActive(vm.state);
  const [values, setValues] = useState<Record<VmSetting, string>>({ memoryMb: String(vm.memoryMb), cpus: String(vm.cpus), sshUser: vm.sshUser });
  const [newPort, setNewPort] = useState('');
  const newPortField = useRef<HTMLInputElement>(null);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const problems = settings.map(({ setting }) => settingProblem('vm.update', setting, values[setting])).filter((p) => p !== null);
  const changed = Number(values.memoryMb) !== vm.memoryMb || Number(values.cpus) !== vm.cpus || values.sshUser !== vm.sshUser;
  const mapping = parsePortMapping(newPort);

  /** run does what a button asked and says how it went: the task's own sentence, else `done`. */
  const run = async (task: () => Promise<string | void>, done = '') => {
    setMessage(null);
    try {
      setMessage({ error: false, text: (await task()) || done });
    } catch (err) {
      setMessage({ error: true, text: err instanceof Error ? err.message : String(err) });
    }
  };
  const save = (e: FormEvent) => {
    e.preventDefault();
    if (problems.length > 0) return;
    void run(() => updateVm({ name, memoryMb: Number(values.memoryMb), cpus: Number(values.cpus), sshUser: values.sshUser }), 'Saved.');
  };
  const submitPort = (e: FormEvent) => {
    e.preventDefault();
    if (!mapping) return;
    void run(async () => {
      const { live } = await addPort(name, mapping);
      setNewPort('');
      return `Forwarding 127.0.0.1:${mapping.host} to guest port ${mapping.guest}${live ? '' : ' from the next start'}.`;
    });
  };
  const offerForward = (guest: number) => {
    setNewPort(`${guest}:${guest}`);
    newPortField.current?.focus();
  };

  return (
    <div className="overview">
      <form onSubmit={save} className="settings" aria-label="Settings">
        {!editable && <p className="hint">Stop the VM to change its memory, CPUs or SSH user.</p>}
        <div className="row">
          {settings.map(({ setting, label }) => (
            <label key={setting}>
              {label}
              <input
                value={values[setting]}
                disabled={!editable}
                onChange={(e) => setValues({ ...values, [setting]: e.target.value })}
                aria-invalid={settingProblem('vm.update', setting, values[setting]) ? true : undefined}
              />
            </label>
          ))}
        </div>
        {editable && problems.map((p) => <p key={p} className="field-error">{p}</p>)}
        {editable && (
          <button type="submit" className="primary" disabled={!changed || problems.length > 0}>
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
              127.0.0.1:{p.host} → {p.guest} <ForwardStatus vm={name} guest={p.guest} />{' '}
              <button type="button" className="link" aria-label={`Remove port ${p.host}`} onClick={() => void run(() => removePort(name, p), `Removed ${formatPorts([p])}.`)}>
                remove
              </button>
            </span>
          ))}
        </dd>
      </dl>
      <form className="inline-form" onSubmit={submitPort} aria-label="Add a port">
        <input ref={newPortField} value={newPort} onChange={(e) => setNewPort(e.target.value)} placeholder="host:guest, e.g. 8080:80" aria-label="New port" />
        <button type="submit" disabled={!mapping}>Add port</button>
      </form>
      <GuestPorts vm={name} sshPort={vm.sshPort} forwards={vm.ports} onForward={offerForward} />
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
