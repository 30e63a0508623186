// Runs in: renderer. A VM's connections open now, as Little Snitch's network
// monitor shows a Mac's: where each goes, where it is, bytes each way as they
// grow, how long it has been open and what allowed it. The tab follows them
// while it is shown (announced at most once a second, only on change) and
// asks again before the supervisor's follow time runs out.
import { useEffect, useState } from 'react';
import { destinationText, formatBytes, formatDuration } from '../../../src-main/shared/format';
import { CONNECTIONS_FOLLOW_MS, type OpenConnection } from '../../../src-main/shared/live';
import { isActive } from '../../../src-main/shared/vm';
import { useActions, useXray } from '../../store/context';
import { Loaded } from '../Loaded';

/** STATE_WORDS say where a connection is, as a person reads it. */
const STATE_WORDS: { readonly [S in OpenConnection['state']]: string } = {
  deciding: 'waiting for a decision',
  sniffing: 'reading its name',
  connecting: 'connecting',
  relaying: 'open',
  intercepted: 'open (intercepted)',
};

/** useEverySecond draws the view again each second while `ticking`, so ages grow between announcements. */
function useEverySecond(ticking: boolean): void {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!ticking) return;
    const timer = setInterval(() => setTick((n) => n + 1), 1000);
    return () => clearInterval(timer);
  }, [ticking]);
}

export function OpenConnections({ vm }: { vm: string }) {
  const running = useXray((s) => (s.vms[vm] ? isActive(s.vms[vm].state) : false));
  const connections = useXray((s) => s.connections[vm]);
  const { followConnections } = useActions();
  useEverySecond(connections?.status === 'ready' && connections.value.length > 0);

  useEffect(() => {
    if (!running) return;
    void followConnections(vm);
    const renew = setInterval(() => void followConnections(vm), CONNECTIONS_FOLLOW_MS / 2);
    return () => clearInterval(renew);
  }, [vm, running, followConnections]);

  if (!running) return <p className="hint">The VM is not running, so nothing is open.</p>;
  const now = Date.now();
  return (
    <Loaded value={connections}>
      {(list) =>
        list.length === 0 ? (
          <p className="hint">Nothing is open right now.</p>
        ) : (
          <table className="log connections" aria-label="Open connections">
            <thead>
              <tr>
                <th>Destination</th>
                <th>State</th>
                <th className="num">Up</th>
                <th className="num">Down</th>
                <th>Open for</th>
                <th>Allowed by</th>
              </tr>
            </thead>
            <tbody>
              {list.map((c) => (
                <tr key={c.id} data-connection={c.id}>
                  <td>{destinationText(c.destination)}</td>
                  <td className="hint">{STATE_WORDS[c.state]}</td>
                  <td className="num">{formatBytes(c.bytesUp)}</td>
                  <td className="num">{formatBytes(c.bytesDown)}</td>
                  <td className="hint">{formatDuration((now - Date.parse(c.openedAt)) / 1000)}</td>
                  <td className="hint">{c.reason ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      }
    </Loaded>
  );
}
