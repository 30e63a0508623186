// Runs in: plain Node (core).
import { watch, type FSWatcher } from 'node:fs';
import { basename } from 'node:path';
import type { XrayEvent } from '../../shared/contract';
import type { FirewallRule, SecretBinding } from '../../shared/models';
import type { HomePaths } from '../paths';
import type { RuleStore } from './rule-store';
import { RuleSet } from './rules';

/** RELOAD_DELAY_MS gathers the file events of one write (temp file, rename) into one reload. */
const RELOAD_DELAY_MS = 50;

export interface LiveRulesDeps {
  readonly paths: HomePaths;
  readonly store: RuleStore;
  readonly bindings: { list(vm: string): Promise<SecretBinding[]> };
  readonly emit: (event: XrayEvent) => void;
}

/** VmPolicy is what a running VM's firewall follows: its rules, and its secret bindings as they are now. */
export interface VmPolicy {
  readonly rules: RuleSet;
  readonly bindings: () => readonly SecretBinding[];
}

interface Followed {
  readonly rules: RuleSet;
  bindings: readonly SecretBinding[];
  watcher: FSWatcher | null;
}

/**
 * LiveRules keeps running VMs' rules and secret bindings in memory in step
 * with their files: the defaults file and each VM's vm.toml are watched, so
 * a rule or binding written there by anyone (the CLI, a prompt answer, a
 * hand edit) reaches the VM.
 */
export class LiveRules {
  private readonly followed = new Map<string, Followed>();
  private defaults: string[] = [];
  private watcher: FSWatcher | null = null;

  constructor(private readonly deps: LiveRulesDeps) {}

  /** init loads the defaults file and watches it. */
  async init(): Promise<void> {
    await this.loadDefaults();
    try {
      const file = basename(this.deps.paths.defaultFirewallRules);
      this.watcher = watch(this.deps.paths.root, (_event, name) => {
        if (name === file) void this.loadDefaults();
      });
      this.watcher.unref();
    } catch {
      // Without file watching, defaults still load at every VM start.
    }
  }

  /** open reads a VM's rules and bindings as it starts and follows its vm.toml until close. */
  async open(vm: string): Promise<VmPolicy> {
    this.close(vm);
    await this.loadDefaults();
    const followed: Followed = { rules: new RuleSet(await this.stored(vm), this.defaults), bindings: await this.deps.bindings.list(vm), watcher: null };
    followed.watcher = this.follow(vm, followed);
    this.followed.set(vm, followed);
    return { rules: followed.rules, bindings: () => followed.bindings };
  }

  /** close stops following a VM's vm.toml. */
  close(vm: string): void {
    this.followed.get(vm)?.watcher?.close();
    this.followed.delete(vm);
  }

  /** closeAll stops every watch. */
  closeAll(): void {
    for (const vm of [...this.followed.keys()]) this.close(vm);
    this.watcher?.close();
    this.watcher = null;
  }

  private async loadDefaults(): Promise<void> {
    const parsed = await this.deps.store.defaults();
    for (const problem of parsed.problems) this.warn(`${this.deps.paths.defaultFirewallRules}: ${problem}`);
    this.defaults = parsed.entries;
    for (const { rules } of this.followed.values()) rules.setDefaults(this.defaults);
  }

  /** stored reads a VM's persistent rules from vm.toml, reporting entries it skips. */
  private async stored(vm: string): Promise<FirewallRule[]> {
    const read = await this.deps.store.read(vm);
    for (const problem of read.problems) this.warn(`VM "${vm}": ${problem}`);
    return read.rules;
  }

  private follow(vm: string, followed: Followed): FSWatcher | null {
    let timer: NodeJS.Timeout | null = null;
    const reload = (): void => {
      timer = null;
      Promise.all([this.stored(vm), this.deps.bindings.list(vm)]).then(
        ([stored, bindings]) => {
          followed.rules.replacePersisted(stored);
          followed.bindings = bindings;
        },
        (err: Error) => this.warn(`VM "${vm}": rules not reloaded: ${err.message}`),
      );
    };
    try {
      const watcher = watch(this.deps.paths.vm(vm).dir, (_event, name) => {
        if (name !== 'vm.toml' || timer) return;
        timer = setTimeout(reload, RELOAD_DELAY_MS);
      });
      watcher.unref();
      return watcher;
    } catch {
      return null;
    }
  }

  private warn(message: string): void {
    this.deps.emit({ type: 'log', level: 'warn', source: 'firewall', message });
  }
}
