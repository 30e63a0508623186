// Runs in: plain Node (core).
import { watch, type FSWatcher } from 'node:fs';
import { basename } from 'node:path';
import type { ParsedParams, Results } from '../../shared/contract';
import type { FirewallRule, GlobalSettings, SecretBinding } from '../../shared/models';
import { FirewallLog, NameCache, PromptBroker, RuleSet, VmFirewall, guestResolver } from '../firewall';
import { Interceptor } from '../firewall/intercept';
import { VmCertificateAuthority } from '../firewall/tls-ca';
import { type UpstreamTrust, upstreamTrust } from '../firewall/upstream-trust';
import type { EgressOptions } from '../firewall/vm-firewall';
import type { XrayService } from '../service';
import { connectVm } from '../ssh';
import { PromptWatch } from './prompt-watch';

interface LiveFirewall {
  readonly firewall: VmFirewall;
  readonly rules: RuleSet;
  readonly log: FirewallLog;
  /** bindings are the VM's secret bindings, which the egress interceptor follows. */
  readonly bindings: { current: readonly SecretBinding[] };
  /** watcher follows vm.toml, so rules and bindings written there by anyone reach the running VM. */
  readonly watcher: FSWatcher | null;
}

const GUEST_LOGIN_MS = 10_000;
/** RELOAD_DELAY_MS gathers the file events of one write (temp file, rename) into one reload. */
const RELOAD_DELAY_MS = 50;

/**
 * FirewallHost owns the egress firewalls of running VMs: one VmFirewall (SOCKS5
 * proxy + DNS) per VM, one prompt broker shared by all, and the rules in
 * memory, which follow the defaults file and each VM's vm.toml as they change
 * (the service's RuleStore writes those files, whoever asks).
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
      persist: (vm, rule) => service.firewallRules.put(vm, rule),
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
    const parsed = await this.service.firewallRules.defaults();
    for (const problem of parsed.problems) {
      this.service.emit({ type: 'log', level: 'warn', source: 'firewall', message: `${this.service.paths.defaultFirewallRules}: ${problem}` });
    }
    this.defaults = parsed.entries;
    for (const { firewall } of this.live.values()) firewall.reloadDefaults(this.defaults);
  }

  /** storedRules reads a VM's persistent rules from vm.toml, reporting entries it skips. */
  private async storedRules(vm: string): Promise<FirewallRule[]> {
    const read = await this.service.firewallRules.read(vm);
    for (const problem of read.problems) {
      this.service.emit({ type: 'log', level: 'warn', source: 'firewall', message: `VM "${vm}": ${problem}` });
    }
    return read.rules;
  }

  /** followConfig reloads a running VM's persistent rules and secret bindings whenever its vm.toml changes. */
  private followConfig(vm: string, live: Pick<LiveFirewall, 'rules' | 'bindings'>): FSWatcher | null {
    let timer: NodeJS.Timeout | null = null;
    const reload = (): void => {
      timer = null;
      Promise.all([this.storedRules(vm), this.service.secretBindings.list(vm)]).then(
        ([stored, bindings]) => {
          live.rules.replacePersisted(stored);
          live.bindings.current = bindings;
        },
        (err: Error) => this.service.emit({ type: 'log', level: 'warn', source: 'firewall', message: `VM "${vm}": rules not reloaded: ${err.message}` }),
      );
    };
    try {
      const watcher = watch(this.service.paths.vm(vm).dir, (_event, name) => {
        if (name !== 'vm.toml' || timer) return;
        timer = setTimeout(reload, RELOAD_DELAY_MS);
      });
      watcher.unref();
      return watcher;
    } catch {
      return null;
    }
  }

  /** startVm opens the VM's proxy and DNS sockets; QEMU's guestfwd connects to them. */
  async startVm(vm: string, opts: { allowAll: boolean }): Promise<void> {
    await this.stopVm(vm);
    const settings = await this.applySettings();
    await this.loadDefaults();
    const rules = new RuleSet(await this.storedRules(vm), this.defaults);
    const paths = this.service.paths.vm(vm);
    const log = new FirewallLog({ file: paths.firewallLog });
    const bindings = { current: await this.service.secretBindings.list(vm) };
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
      egress: await this.egress(vm, settings, () => bindings.current),
    });
    await firewall.start();
    this.live.set(vm, { firewall, rules, log, bindings, watcher: this.followConfig(vm, { rules, bindings }) });
  }

  /**
   * egress sets up a VM's interception: its certificate authority, the
   * trust real servers are verified against, its secrets read from the
   * host's store on use, and reports announced as `egress.report` events.
   */
  private async egress(vm: string, settings: GlobalSettings, bindings: () => readonly SecretBinding[]): Promise<EgressOptions> {
    const ca = await VmCertificateAuthority.open(vm, this.service.paths.vm(vm).egressCa);
    const interceptor = new Interceptor({
      vm,
      ca,
      trust: await this.upstreamTrust(settings),
      reveal: (secret) => this.service.secrets.reveal(secret),
      report: (report) => this.service.emit({ type: 'egress.report', report }),
    });
    return { interceptor, bindings };
  }

  /** upstreamTrust is the host's trust store and upstream_ca_file; a file that cannot be read is reported and left out. */
  private async upstreamTrust(settings: GlobalSettings): Promise<UpstreamTrust> {
    try {
      return await upstreamTrust({ extraCaFile: settings.upstreamCaFile });
    } catch (err) {
      this.service.emit({ type: 'log', level: 'warn', source: 'firewall', message: `${(err as Error).message} Intercepted hosts are verified against the system's trust store alone.` });
      return upstreamTrust({ extraCaFile: null, env: {} });
    }
  }

  async stopVm(vm: string): Promise<void> {
    const entry = this.live.get(vm);
    if (!entry) return;
    this.live.delete(vm);
    entry.watcher?.close();
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

  /** liveFirewall is a running VM's rules and connection log, for the service's firewall requests. */
  liveFirewall(vm: string): { readonly rules: RuleSet; readonly log: FirewallLog } | null {
    return this.live.get(vm) ?? null;
  }

  readonly handlers = {
    'prompt.list': async (): Promise<Results['prompt.list']> => this.broker.list(),
    'prompt.answer': async (p: ParsedParams<'prompt.answer'>): Promise<null> => {
      await this.broker.answer(p);
      return null;
    },
  };
}
