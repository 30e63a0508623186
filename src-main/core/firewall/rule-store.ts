// Runs in: plain Node (core).
import { readFile } from 'node:fs/promises';
import type { FirewallLogEntry, FirewallRule } from '../../shared/models';
import { formatRuleTarget } from '../../shared/scopes';
import type { HomePaths } from '../paths';
import type { FirewallEntry } from '../store/vm-config';
import type { VmStore } from '../store/vm-store';
import { tailOf } from '../vms/logs';
import { type FirewallTableRead, fromFirewallTable, parseDefaultRules, toFirewallTable } from './rule-table';
import { tryParseRuleTarget } from './rule-target';

/** LOG_FILE_LINES bounds what is read back from a stopped VM's firewall.log. */
const LOG_FILE_LINES = 5000;

/**
 * RuleStore is the firewall's files: each VM's persistent rules in vm.toml's
 * [firewall] table, the defaults file, and the connection log. It needs no
 * supervisor, so rules of a stopped VM are read and written in the process
 * that asks (the CLI), and a running VM's supervisor writes through it too.
 *
 * Every change is a read-modify-write of only the entries it concerns, under
 * vm.toml's lock: concurrent writers (CLI processes, prompt answers, the app,
 * a hand edit) never drop each other's rules. A rule's entry is found by its
 * target whatever its spelling in the file ("Example.COM:443" is
 * example.com:443); entries Xray cannot read are left as they are; expired
 * entries are dropped by any write that passes by.
 */
export class RuleStore {
  constructor(
    private readonly paths: HomePaths,
    private readonly store: VmStore,
  ) {}

  /** read returns a VM's persistent rules, with a sentence for each entry that was skipped. */
  async read(vm: string): Promise<FirewallTableRead> {
    return fromFirewallTable((await this.store.read(vm)).firewall);
  }

  /** put writes one persistent rule, replacing the entry for the same target. */
  async put(vm: string, rule: FirewallRule): Promise<void> {
    const [key, entry] = Object.entries(toFirewallTable([rule]))[0] ?? [];
    if (key === undefined || entry === undefined) return;
    await this.change(vm, (table) => {
      dropTarget(table, rule.id);
      table[key] = entry;
    });
  }

  /** remove drops the entry for rule `id`; false when the file had none. */
  async remove(vm: string, id: string): Promise<boolean> {
    let removed = false;
    await this.change(vm, (table) => {
      removed = dropTarget(table, id);
    });
    return removed;
  }

  /** clear drops every rule the file holds that Xray can read. */
  async clear(vm: string): Promise<void> {
    await this.change(vm, (table) => {
      for (const key of Object.keys(table)) if (tryParseRuleTarget(key) !== null) delete table[key];
    });
  }

  /** defaults reads the defaults file: its entries, and a sentence for each line that is not a target. */
  async defaults(): Promise<{ entries: string[]; problems: string[] }> {
    return parseDefaultRules(await readFile(this.paths.defaultFirewallRules, 'utf8').catch(() => ''));
  }

  /** log reads the newest `limit` entries of a VM's firewall.log. */
  async log(vm: string, limit: number): Promise<FirewallLogEntry[]> {
    await this.store.read(vm);
    const lines = await tailOf(this.paths.vm(vm).firewallLog, Math.min(limit, LOG_FILE_LINES));
    return lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as FirewallLogEntry];
      } catch {
        return [];
      }
    });
  }

  private async change(vm: string, edit: (table: Record<string, FirewallEntry>) => void): Promise<void> {
    await this.store.update(vm, (cfg) => {
      const table = { ...cfg.firewall };
      dropExpired(table, Date.now());
      edit(table);
      cfg.firewall = table;
    });
  }
}

/** dropTarget deletes every key whose target is rule `id`, however it is spelled; true if there was one. */
function dropTarget(table: Record<string, FirewallEntry>, id: string): boolean {
  let found = false;
  for (const key of Object.keys(table)) {
    const target = tryParseRuleTarget(key);
    if (target !== null && formatRuleTarget(target) === id) {
      delete table[key];
      found = true;
    }
  }
  return found;
}

/** dropExpired deletes readable entries whose expiry has passed. */
function dropExpired(table: Record<string, FirewallEntry>, now: number): void {
  for (const [key, entry] of Object.entries(table)) {
    if (typeof entry !== 'object' || entry.expires === undefined || tryParseRuleTarget(key) === null) continue;
    const raw: unknown = entry.expires;
    const expires = raw instanceof Date ? raw.getTime() : Date.parse(String(raw));
    if (!Number.isNaN(expires) && expires <= now) delete table[key];
  }
}
