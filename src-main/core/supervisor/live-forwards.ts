// Runs in: plain Node (core).
import type { PortMapping } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import { isPort } from '../../shared/vm';
import type { LiveForwards } from '../engine';
import { portHolder } from '../host';
import { USER_NETDEV_ID } from '../qemu';
import type { QmpChannel } from '../qmp';

/**
 * checkedPort lets only a TCP port number into a monitor line: whatever
 * reaches here was validated already, and this makes sure nothing else can.
 */
function checkedPort(port: number): number {
  if (!isPort(port)) throw new XrayError('invalid-argument', `${String(port)} is not a TCP port from 1 to 65535.`);
  return port;
}

/**
 * hostfwdAddLine is the HMP line that forwards 127.0.0.1:host to the
 * guest's port on the VM's user network. QEMU changes forwards only through
 * HMP (there is no QMP command for it), so the line is made of fixed words
 * and checked integers alone, never of anything a person typed.
 */
export function hostfwdAddLine(mapping: PortMapping): string {
  return `hostfwd_add ${USER_NETDEV_ID} tcp:127.0.0.1:${checkedPort(mapping.host)}-:${checkedPort(mapping.guest)}`;
}

/** hostfwdRemoveLine is the HMP line that ends the forward from 127.0.0.1:host (see hostfwdAddLine). */
export function hostfwdRemoveLine(hostPort: number): string {
  return `hostfwd_remove ${USER_NETDEV_ID} tcp:127.0.0.1:${checkedPort(hostPort)}`;
}

/**
 * liveForwards changes a running VM's forwards through its QMP monitor.
 * human-monitor-command answers with the text HMP would print: nothing when
 * a forward was added, "Could not set up host forwarding rule …" when the
 * host port cannot be bound, and "… removed" or "… not found" on removal
 * (measured with QEMU 7.2; the words come from net/slirp.c).
 */
export function liveForwards(vm: string, monitor: QmpChannel, holderOf: (port: number) => Promise<string | null> = portHolder): LiveForwards {
  const hmp = async (line: string): Promise<string> => String(await monitor.execute<string>('human-monitor-command', { 'command-line': line })).trim();
  return {
    async add(mapping) {
      const said = await hmp(hostfwdAddLine(mapping));
      if (said === '') return;
      if (/could not set up host forwarding/i.test(said)) {
        const holder = await holderOf(mapping.host);
        throw new XrayError('in-use', `Host port ${mapping.host} is in use on this machine${holder ? ` (held by ${holder})` : ''}; pick another host port.`);
      }
      throw new XrayError('qemu', `QEMU did not forward host port ${mapping.host} for VM "${vm}" (${said.replace(/[.\s]+$/, '')}).`);
    },
    async remove(mapping) {
      const said = await hmp(hostfwdRemoveLine(mapping.host));
      if (/\b(removed|not found)$/.test(said)) return;
      throw new XrayError('qemu', `QEMU did not remove the forward from host port ${mapping.host} for VM "${vm}" (${said.replace(/[.\s]+$/, '')}).`);
    },
  };
}
