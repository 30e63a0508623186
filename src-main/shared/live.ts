// Runs in: anywhere (pure). What a running VM shows live: its open
// connections (the firewall's view, as Little Snitch's network monitor shows
// a Mac's) and the TCP ports its guest listens on, next to its forwards.
import type { ConnectionState } from './enums';
import type { Destination, PortMapping } from './models';

/**
 * OpenConnection is one connection of a VM that is open now: where it goes,
 * where it is, the bytes it carried so far (up: guest to destination), when
 * the guest asked for it, and what allowed it (null while it is decided).
 */
export interface OpenConnection {
  /** id is unique among the VM's connections while its firewall runs. */
  readonly id: number;
  readonly destination: Destination;
  readonly state: ConnectionState;
  readonly bytesUp: number;
  readonly bytesDown: number;
  readonly openedAt: string;
  /** reason is the decision's reason ("rule *.github.com", "answered: …", "allow-all"); null until decided. */
  readonly reason: string | null;
  /** rule is the id of the rule that allowed it, to revoke it; null when none did (a once answer, allow-all) or not decided yet. */
  readonly rule: string | null;
}

/** CONNECTIONS_FOLLOW_MS is how long one `firewall.connections` call with `follow` keeps the VM's events coming; followers call again before. */
export const CONNECTIONS_FOLLOW_MS = 30_000;

/** CONNECTIONS_INTERVAL_MS is how often, at most, a followed VM's connections are announced (and only when they changed). */
export const CONNECTIONS_INTERVAL_MS = 1000;

/**
 * GuestListener is one TCP port a guest listens on: the addresses it is
 * bound to, the program when the guest says (it needs sudo), and whether a
 * forward can reach it: QEMU delivers forwarded connections to the guest's
 * network address, so a port bound to loopback alone is out of reach.
 */
export interface GuestListener {
  readonly port: number;
  readonly addresses: readonly string[];
  readonly program: string | null;
  readonly reachable: boolean;
}

/** PortChange is a VM's forwards after a change, and whether QEMU applied it now (the VM runs) or it waits for the next start. */
export interface PortChange {
  readonly ports: PortMapping[];
  readonly live: boolean;
}
