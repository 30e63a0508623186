// Runs in: renderer. A VM's console tab: the tail of its serial console, fetched at each visit.
import { useEffect } from 'react';
import { useActions, useXray } from '../../store/context';
import { Loaded } from '../Loaded';

export function ConsoleTab({ vm }: { vm: string }) {
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
