// Runs in: renderer. A VM's firewall tab: its rules, and its connections and
// decisions as they happen, newest first.
import { destinationText, formatBytes, lifetimeText } from '../../../src-main/shared/format';
import { ruleTargetLabel } from '../../../src-main/shared/scopes';
import { useXray } from '../../store/context';
import { formatTime } from '../format';
import { Loaded } from '../Loaded';

export function FirewallTab({ vm }: { vm: string }) {
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
                    <td>{ruleTargetLabel(r.target)}</td>
                    <td>{lifetimeText(r.lifetime, formatTime)}</td>
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
