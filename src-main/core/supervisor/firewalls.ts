// Runs in: plain Node (core).
import type { ParsedParams, Results, XrayEvent } from '../../shared/contract';
import { XrayError } from '../../shared/errors';
import type { OpenConnection } from '../../shared/live';
import type { GlobalSettings, SecretBinding } from '../../shared/models';
import { FirewallLog, NameCache, PromptBroker, RuleSet, VmFirewall, guestResolver } from '../firewall';
import { Interceptor } from '../firewall/intercept';
import { type ForwardedRequest, LearnRecorder } from '../firewall/learn';
import { LiveRules } from '../firewall/live-rules';
import { requestAsker } from '../firewall/request-prompts';
import type { RuleStore } from '../firewall/rule-store';
import { VmCertificateAuthority } from '../firewall/tls-ca';
import { type UpstreamTrust, upstreamTrust } from '../firewall/upstream-trust';
import type { EgressOptions } from '../firewall/vm-firewall-options';
import type { HomePaths } from '../paths';
import type { SecretBindings } from '../secrets/bindings';
import type { SecretStore } from '../secrets/store';
import type { SshSession } from '../ssh';
import { ConnectionFeed } from './connection-feed';
import { PromptWatch } from './prompt-watch';

interface LiveFirewall {
  readonly firewall: VmFirewall;
  readonly rules: RuleSet;
  readonly log: FirewallLog;
  /** learned is the VM's learn run while it runs with learn on, else null. */
  readonly learned: LearnRecorder | null;
}

export interface FirewallHostDeps {
  readonly paths: HomePaths;
  readonly settings: { read(): Promise<GlobalSettings> };
  readonly ruleStore: RuleStore;
  /** secretBindings are read when a VM starts and whenever its vm.toml changes; secrets are revealed as intercepted requests need them. */
  readonly secretBindings: Pick<SecretBindings, 'list'>;
  readonly secrets: Pick<SecretStore, 'reveal'>;
  readonly emit: (event: XrayEvent) => void;
  /** clientCount is how many UIs could answer a prompt now. */
  readonly clientCount: () => number;
  /** guestReachable says whether Xray can log in to a VM now (it is ready). */
  readonly guestReachable: (vm: string) => boolean;
  /** login opens an SSH session to a running VM, for PromptWatch. */
  readonly login: (vm: string) => Promise<SshSession>;
}

/**
 * startModeProblem says why a start cannot take learn mode or allow-all:
 * both at once, or a VM already running (they apply from a start); null
 * when it can.
 */
export function startModeProblem(name: string, mode: { readonly allowAll?: boolean; readonly learn?: boolean }, running: boolean): XrayError | null {
  if (running && (mode.learn || mode.allowAll)) {
    const flag = mode.learn ? 'learn' : 'allow-all';
    return new XrayError('in-use', `VM "${name}" is already running, and ${flag} applies from a start; stop it first, then start it with ${flag}.`, {
      cli: `VM "${name}" is already running, and --${flag} applies from a start; run "xray stop ${name}", then "xray start ${name} --${flag}".`,
    });
  }
  if (mode.learn && mode.allowAll) {
    return new XrayError('invalid-argument', 'Learn mode already allows what allow-all would; ask for one of them.', { cli: 'Give --learn or --allow-all, not both: learning already allows what --allow-all would.' });
  }
  return null;
}

/**
 * FirewallHost owns the egress firewalls of running VMs: one VmFirewall (SOCKS5
 * proxy + DNS) per VM and one prompt broker shared by all. The rules in memory
 * follow the files through LiveRules; open connections are announced to
 * whoever follows them through a ConnectionFeed.
 */
export class FirewallHost {
  readonly broker: PromptBroker;
  private readonly watch: PromptWatch;
  private readonly rules: LiveRules;
  private readonly live = new Map<string, LiveFirewall>();
  private readonly feed: ConnectionFeed;

  constructor(private readonly deps: FirewallHostDeps) {
    this.rules = new LiveRules({ paths: deps.paths, store: deps.ruleStore, bindings: deps.secretBindings, emit: deps.emit });
    this.broker = new PromptBroker({
      emit: (event) => {
        deps.emit(event);
        if (event.type === 'prompt.opened') this.watch.promptOpened(event.prompt);
      },
      clientCount: deps.clientCount,
      rulesFor: (vm) => this.live.get(vm)?.rules ?? null,
      persist: (vm, rule) => deps.ruleStore.put(vm, rule),
    });
    this.watch = new PromptWatch({ broker: this.broker, reachable: deps.guestReachable, openSession: deps.login });
    this.feed = new ConnectionFeed({ connections: (vm) => this.live.get(vm)?.firewall.connections() ?? null, emit: deps.emit });
  }

  /** init applies settings and starts following the defaults file. */
  async init(): Promise<void> {
    await this.applySettings();
    await this.rules.init();
  }

  close(): void {
    this.watch.stop();
    this.feed.close();
    this.rules.closeAll();
  }

  /**
   * startVm opens the VM's proxy and DNS sockets; QEMU's guestfwd connects
   * to them. With `learn`, a new learn run records what the VM reaches.
   */
  async startVm(vm: string, opts: { allowAll: boolean; learn?: boolean }): Promise<void> {
    await this.stopVm(vm);
    const settings = await this.applySettings();
    const paths = this.deps.paths.vm(vm);
    const warn = (message: string) => this.deps.emit({ type: 'log', level: 'warn', source: 'firewall', message });
    const learned = opts.learn ? await LearnRecorder.begin(vm, paths.learned, { warn }) : null;
    const { rules, bindings } = await this.rules.open(vm);
    const log = new FirewallLog({ file: paths.firewallLog });
    const firewall = new VmFirewall({
      vm,
      proxySocket: paths.proxySocket,
      dnsSocket: paths.dnsSocket,
      rules,
      broker: this.broker,
      nameCache: new NameCache(),
      dnsResolver: guestResolver(settings.dnsServers),
      emit: this.deps.emit,
      allowAll: opts.allowAll,
      ...(learned ? { learn: learned } : {}),
      log,
      egress: await this.egress(vm, settings, bindings, learned),
    });
    try {
      await firewall.start();
    } catch (err) {
      this.rules.close(vm);
      await learned?.close();
      throw err;
    }
    this.live.set(vm, { firewall, rules, log, learned });
  }

  async stopVm(vm: string): Promise<void> {
    const entry = this.live.get(vm);
    if (!entry) return;
    this.live.delete(vm);
    this.rules.close(vm);
    this.broker.cancelVm(vm);
    entry.rules.vmStopped();
    await entry.firewall.stop();
    await entry.log.close();
    await entry.learned?.close();
  }

  /** probeSeen tells whether the running VM's firewall answered its guest's probe with `nonce`. */
  probeSeen(vm: string, nonce: string): boolean {
    return this.live.get(vm)?.firewall.probeSeen(nonce) ?? false;
  }

  counts(vm: string): { openConnections: number; pendingPrompts: number } {
    return { openConnections: this.live.get(vm)?.firewall.openConnections ?? 0, pendingPrompts: this.broker.list(vm).length };
  }

  /** connections are a VM's open connections (none while it is stopped); `follow` keeps them announced for a while (see ConnectionFeed). */
  connections(vm: string, follow: boolean): OpenConnection[] {
    const open = this.live.get(vm)?.firewall.connections() ?? [];
    if (follow) this.feed.follow(vm, open);
    return open;
  }

  /** liveFirewall is a running VM's rules, connection log and learn run, for the service's firewall requests. */
  liveFirewall(vm: string): { readonly rules: RuleSet; readonly log: FirewallLog; readonly learned: LearnRecorder | null } | null {
    return this.live.get(vm) ?? null;
  }

  readonly handlers = {
    'prompt.list': async (): Promise<Results['prompt.list']> => this.broker.list(),
    'prompt.answer': async (p: ParsedParams<'prompt.answer'>): Promise<null> => {
      await this.broker.answer(p);
      return null;
    },
  };

  /**
   * egress sets up a VM's interception: its certificate authority, the
   * trust real servers are verified against, its secrets read from the
   * host's store on use, reports announced as `egress.report` events,
   * requests no HTTP rule covers asked about through the prompt broker, and
   * forwarded requests told to the learn run, if there is one.
   */
  private async egress(vm: string, settings: GlobalSettings, bindings: () => readonly SecretBinding[], learned: LearnRecorder | null): Promise<EgressOptions> {
    const interceptor = new Interceptor({
      vm,
      ca: await VmCertificateAuthority.open(vm, this.deps.paths.vm(vm).egressCa),
      trust: await this.upstreamTrust(settings),
      reveal: (secret) => this.deps.secrets.reveal(secret),
      report: (report) => this.deps.emit({ type: 'egress.report', report }),
      ask: requestAsker(this.broker),
      ...(learned ? { forwarded: (request: ForwardedRequest) => learned.request(request) } : {}),
    });
    return { interceptor, bindings };
  }

  /** upstreamTrust is the host's trust store and upstream_ca_file; a file that cannot be read is reported and left out. */
  private async upstreamTrust(settings: GlobalSettings): Promise<UpstreamTrust> {
    try {
      return await upstreamTrust({ extraCaFile: settings.upstreamCaFile });
    } catch (err) {
      this.deps.emit({ type: 'log', level: 'warn', source: 'firewall', message: `${(err as Error).message} Intercepted hosts are verified against the system's trust store alone.` });
      return upstreamTrust({ extraCaFile: null, env: {} });
    }
  }

  private async applySettings(): Promise<GlobalSettings> {
    const settings = await this.deps.settings.read();
    this.broker.configure({ timeoutSeconds: settings.promptTimeoutSeconds, denyWhenNoClient: settings.denyWhenNoClient, defaultAction: settings.defaultAction });
    return settings;
  }
}
