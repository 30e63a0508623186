// Runs in: renderer. The switch for a VM's automatic snapshots (after its
// first boot, before risky hooks and plugin commands): on, off, or as
// config.toml says. It may change while the VM runs.
import { useState } from 'react';
import { useActions, useXray } from '../../store/context';

type Choice = 'default' | 'on' | 'off';
const CHOICES: Record<Choice, boolean | null> = { default: null, on: true, off: false };

/** AutoSnapshotsSetting shows whether the VM snapshots itself, who decided, how many it keeps, and changes it. */
export function AutoSnapshotsSetting({ vm }: { vm: string }) {
  const info = useXray((s) => s.info[vm]);
  const { updateVm } = useActions();
  const [error, setError] = useState<string | null>(null);
  if (info?.status !== 'ready') return null;
  const auto = info.value.autoSnapshots;
  const current: Choice = auto.fromDefault ? 'default' : auto.enabled ? 'on' : 'off';

  const change = (next: Choice) => {
    setError(null);
    updateVm({ name: vm, autoSnapshots: CHOICES[next] }).catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)));
  };

  return (
    <div className="auto-snapshots">
      <label>
        Automatic snapshots{' '}
        <select value={current} onChange={(e) => change(e.target.value as Choice)}>
          <option value="default">as config.toml says{auto.fromDefault ? ` (${auto.enabled ? 'on' : 'off'})` : ''}</option>
          <option value="on">on</option>
          <option value="off">off</option>
        </select>
      </label>
      <span className="hint small">
        {auto.enabled
          ? `After the first boot and before risky hooks and commands; the newest ${auto.keep} are kept, and yours are never deleted.`
          : 'None are taken; snapshots are yours alone.'}
      </span>
      {error && <p className="error" role="alert">{error}</p>}
    </div>
  );
}
