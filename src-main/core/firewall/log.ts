// Runs in: plain Node (core).
import type { FirewallLogEntry } from '../../shared/models';
import { JsonLinesLog, type JsonLinesLogOptions } from '../store/jsonl-log';

export type FirewallLogOptions = JsonLinesLogOptions;

/**
 * FirewallLog is one VM's recent firewall activity (decisions, connections,
 * DNS answers): the ring the UI and `xray firewall log` read while it runs,
 * and firewall.log, written off the connection path.
 */
export class FirewallLog extends JsonLinesLog<FirewallLogEntry> {}
