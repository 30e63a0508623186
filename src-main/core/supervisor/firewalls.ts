// Runs in: plain Node (core).
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ParsedParams, Results } from '../api/contract';
import type { FirewallLogEntry, FirewallRule, GlobalSettings, RuleLifetime } from '../api/models';
import { XrayError } from '../errors';
import {
  FirewallLog,
  NameCache,
  PromptBroker,
  RuleSet,
  VmFirewall,
  fromFirewallTable,
  guestResolver,
  parseDefaultRules,
  parseUserRuleTarget,
  toFirewallTable,
  tryParseRuleTarget,
} from '../firewall';
import { validateName } from '../names';
import type { XrayService } from '../service';
import { connectVm } from '../ssh';
import type { FirewallEntry } from '../store/vm-config';
import { tailOf } from '../vms/logs';
import { PromptWatch } from './prompt-watch';

interface LiveFirewall {
  readonly firewall: VmFirewall;
  readonly rules: RuleSet;
  readonly log: FirewallLog;
}

const LOG_FILE_LINES = 5000;
const GUEST_LOGIN_MS = 10_000;

/**
 * FirewallHost owns the egress firewalls of running VMs: one VmFirewall (SOCKS5
 * proxy + DNS) per VM, one prompt broker shared by all, the defaults file
 * (reloaded when it changes), and the rules in each vm.toml.
 */
export class FirewallHost {
  readonly broker: PromptBroker;
  private readonly watch: PromptWatch;
  private readonly live = new Map<string, LiveFirewall>();
  private defaults: string[] = [];
  private watcher: FSWatcher | null = null;
  private uiClients = 0;

  constructor(
    private readonly service: XrayService,
    private readonly clientCount: () => number,
    /** guestReachable says whether Xray can log in to a VM now (it is ready). */
    private readonly guestReachable: (vm: string) => boolean = () => false,
  ) {
    this.broker = new PromptBroker({
      emit: (event) => {
        service.emit(event);
        if (event.type === 'prompt.opened') this.watch.promptOpened(event.prompt);
      },
      clientCount: () => this.clientCount() + this.uiClients,
      rulesFor: (vm) => this.live.get(vm)?.rules ?? null,
      persist: (vm, rules) => this.persist(vm, rules),
    });
    this.watch = new PromptWatch({
      broker: this.broker,
      reachable: guestReachable,
      openSession: async (vm) => connectVm(service.paths, vm, await service.sshTarget(vm), { timeoutMs: GUEST_LOGIN_MS }),
    });
  }

  /** registerUi counts a UI that can answer prompts (an app window) until released. */
  registerUi(): () => void {
    this.uiClients++;
    let released = false;
    return () => {
      if (!released) this.uiClients--;
      released = true;
    };
  }

  /** init loads settings and the defaults file and watches it, so edits apply to running VMs. */
  async init(): Promise<void> {
    await this.applySettings();
    await this.loadDefaults();
    try {
      const file = basename(this.service.paths.defaultFirewallRules);
      this.watcher = watch(this.service.paths.root, (_event, name) => {
        if (name === file) void this.loadDefaults();
      });
      this.watcher.unref();
    } catch {
      // Without file watching, defaults still load at every VM start.
    }
  }

  async applySettings(): Promise<GlobalSettings> {
    const settings = await this.service.settings.read();
    this.broker.configure({ timeoutSeconds: settings.promptTimeoutSeconds, denyWhenNoClient: settings.denyWhenNoClient, defaultAction: settings.defaultAction });
    return settings;
  }

  close(): void {
    this.watch.stop();
    this.watcher?.close();
    this.watcher = null;
  }

  private async loadDefaults(): Promise<void> {
    const text = await readFile(this.service.paths.defaultFirewallRules, 'utf8').catch(() => '');
    const parsed = parseDefaultRules(text);
    for (const problem of parsed.problems) {
      this.service.emit({ type: 'log', level: 'warn', source: 'firewall', message: `${this.service.paths.defaultFirewallRules}: ${problem}` });
    }
    this.defaults = parsed.entries;
    for (const { firewall } of this.live.values()) firewall.reloadDefaults(this.defaults);
  }

  /** storedRules reads a VM's persistent rules from vm.toml, with the defaults below them. */
  private async storedRules(vm: string): Promise<RuleSet> {
    const config = await this.service.catalog.store.read(vm);
    const read = fromFirewallTable(config.firewall);
    for (const problem of read.problems) {
      this.service.emit({ type: 'log', level: 'warn', source: 'firewall', message: `VM "${vm}": ${problem}` });
    }
    return new RuleSet(read.rules, this.defaults);
  }

  /** startVm opens the VM's proxy and DNS sockets; QEMU's guestfwd connects to them. */
  async startVm(vm: string, opts: { allowAll: boolean }): Promise<void> {
    await this.stopVm(vm);
    const settings = await this.applySettings();
    await this.loadDefaults();
    const rules = await this.storedRules(vm);
    const paths = this.service.paths.vm(vm);
    const log = new FirewallLog({ file: paths.firewallLog });
    const firewall = new VmFirewall({
      vm,
      proxySocket: paths.proxySocket,
      dnsSocket: paths.dnsSocket,
      rules,
      broker: this.broker,
      nameCache: new NameCache(),
      dnsResolver: guestResolver(settings.dnsServers),
      emit: (event) => this.service.emit(event),
      allowAll: opts.allowAll,
      log,
    });
    await firewall.start();
    this.live.set(vm, { firewall, rules, log });
  }

  async stopVm(vm: string): Promise<void> {
    const entry = this.live.get(vm);
    if (!entry) return;
    this.live.delete(vm);
    this.broker.cancelVm(vm);
    entry.rules.vmStopped();
    await entry.firewall.stop();
    await entry.log.close();
  }

  /** probeSeen tells whether the running VM's firewall answered its guest's probe with `nonce`. */
  probeSeen(vm: string, nonce: string): boolean {
    return this.live.get(vm)?.firewall.probeSeen(nonce) ?? false;
  }

  counts(vm: string): { openConnections: number; pendingPrompts: number } {
    return { openConnections: this.live.get(vm)?.firewall.openConnections ?? 0, pendingPrompts: this.broker.list(vm).length };
  }

  /**
   * persist writes a VM's persistent rules to vm.toml atomically. Entries this
   * version cannot read are kept as they are, so nothing a user wrote is lost.
   */
  private async persist(vm: string, rules: readonly FirewallRule[]): Promise<void> {
    await this.service.catalog.store.update(vm, (cfg) => {
      const kept: Record<string, FirewallEntry> = {};
      for (const [key, value] of Object.entries(cfg.firewall)) {
        if (tryParseRuleTarget(key) === null) kept[key] = value;
      }
      cfg.firewall = { ...kept, ...(toFirewallTable(rules) as Record<string, FirewallEntry>) };
    });
  }

  private async ruleSetOf(vm: string): Promise<{ rules: RuleSet; live: boolean }> {
    const entry = this.live.get(validateName('VM', vm));
    if (entry) return { rules: entry.rules, live: true };
    return { rules: await this.storedRules(vm), live: false };
  }

  readonly handlers = {
    'firewall.rules': async ({ vm }: ParsedParams<'firewall.rules'>): Promise<Results['firewall.rules']> => (await this.ruleSetOf(vm)).rules.list(),
    'firewall.add': async (p: ParsedParams<'firewall.add'>): Promise<Results['firewall.add']> => {
      const target = parseUserRuleTarget(p.target);
      const { rules, live } = await this.ruleSetOf(p.vm);
      if (!live && (p.lifetime === 'once' || p.lifetime === 'until-stop')) {
        throw new XrayError('invalid-argument', `VM "${p.vm}" is not running, so a rule "${p.lifetime}" would never apply; use --for or --forever.`);
      }
      if (p.lifetime === 'duration' && !p.durationSeconds) {
        throw new XrayError('invalid-argument', 'A rule for a while needs its duration, like --for 1h.');
      }
      const lifetime: RuleLifetime =
        p.lifetime === 'duration' ? { kind: 'duration', until: new Date(Date.now() + p.durationSeconds! * 1000).toISOString() } : { kind: p.lifetime };
      const rule = rules.add({ target, action: p.action, lifetime });
      if (lifetime.kind === 'forever' || lifetime.kind === 'duration') await this.persist(p.vm, rules.persistent());
      this.service.emit({ type: 'vm.changed', vm: p.vm });
      return rule;
    },
    'firewall.remove': async ({ vm, id }: ParsedParams<'firewall.remove'>): Promise<null> => {
      const { rules } = await this.ruleSetOf(vm);
      if (id.startsWith('default:')) {
        throw new XrayError('invalid-argument', `Rule "${id}" comes from ${this.service.paths.defaultFirewallRules}; edit that file to change it.`);
      }
      if (!rules.remove(id)) throw new XrayError('not-found', `VM "${vm}" has no rule "${id}"; see "xray firewall list ${vm}".`);
      await this.persist(vm, rules.persistent());
      this.service.emit({ type: 'vm.changed', vm });
      return null;
    },
    'firewall.clear': async ({ vm }: ParsedParams<'firewall.clear'>): Promise<null> => {
      const { rules } = await this.ruleSetOf(vm);
      rules.clear();
      await this.persist(vm, []);
      this.service.emit({ type: 'vm.changed', vm });
      return null;
    },
    'firewall.log': async ({ vm, limit }: ParsedParams<'firewall.log'>): Promise<FirewallLogEntry[]> => {
      await this.service.catalog.store.read(validateName('VM', vm));
      const entry = this.live.get(vm);
      if (entry) return entry.log.entries(limit ?? 200);
      const lines = await tailOf(this.service.paths.vm(vm).firewallLog, Math.min(limit ?? 200, LOG_FILE_LINES));
      return lines.flatMap((line) => {
        try {
          return [JSON.parse(line) as FirewallLogEntry];
        } catch {
          return [];
        }
      });
    },
    'prompt.list': async (): Promise<Results['prompt.list']> => this.broker.list(),
    'prompt.answer': async (p: ParsedParams<'prompt.answer'>): Promise<null> => {
      await this.broker.answer(p);
      return null;
    },
  };
}
