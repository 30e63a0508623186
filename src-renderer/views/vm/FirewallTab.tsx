// Runs in: renderer. A VM's firewall tab: what it has open now
// (OpenConnections), its rules (FirewallRules) and their policy file
// (FirewallPolicy), and its connections and decisions as they happen, newest
// first.
import { destinationText, formatBytes } from '../../../src-main/shared/format';
import { useXray } from '../../store/context';
import { formatTime } from '../format';
import { Loaded } from '../Loaded';
import { FirewallPolicy } from './FirewallPolicy';
import { FirewallRules } from './FirewallRules';
import { OpenConnections } from './OpenConnections';

export function FirewallTab({ vm }: { vm: string }) {
  const log = useXray((s) => s.firewallLog[vm]);
  return (
    <div>
      <h3>Open now</h3>
      <OpenConnections vm={vm} />
      <h3>Rules</h3>
      <FirewallPolicy vm={vm} />
      <FirewallRules vm={vm} />
      <h3>Log</h3>
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
