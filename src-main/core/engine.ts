// Runs in: plain Node (core).
import type { Method, ParsedParams, Results } from '../shared/contract';
import type { LearnedRecord } from '../shared/learned';
import type { ConsoleScrollback, PortMapping, VmSummary } from '../shared/models';
import type { FirewallLog, RuleSet } from './firewall';

export type Handler<M extends Method> = (params: ParsedParams<M>) => Promise<Results[M]>;

/**
 * EngineMethod is what only a running supervisor can do: start and stop
 * QEMU, type into a console, list and answer prompts, show a VM's open
 * connections and ask its guest which ports it listens on.
 */
export type EngineMethod = 'vm.start' | 'vm.stop' | 'vm.consoleInput' | 'prompt.list' | 'prompt.answer' | 'firewall.connections' | 'port.listening';
export type SnapshotMethod = 'snapshot.list' | 'snapshot.create' | 'snapshot.revert' | 'snapshot.delete';

/** LiveConsole is a running VM's serial console: its scrollback, and a way to type into it. */
export interface LiveConsole {
  scrollback(): Promise<ConsoleScrollback>;
  write(data: string): Promise<void>;
}

/** LiveForwards changes a running VM's port forwards in QEMU now; what vm.toml says is the catalog's part. */
export interface LiveForwards {
  /** add forwards 127.0.0.1:host to the guest's port, or fails with one sentence (the host port is taken). */
  add(mapping: PortMapping): Promise<void>;
  /** remove ends the forward from 127.0.0.1:host; one QEMU does not have is left as it is. */
  remove(mapping: PortMapping): Promise<void>;
}

/**
 * Engine is what a running supervisor adds to the service: everything that
 * needs a live process (QEMU, the firewall's prompts). A service without one
 * still serves every file method; the engine methods then answer what they
 * can or say a supervisor is needed. It lives apart from the service so the
 * supervisor implements it without importing the service.
 */
export interface Engine {
  /** handlers covers every engine method (the compiler checks an engine has them all). */
  readonly handlers: { [M in EngineMethod]: Handler<M> };
  /** decorate overlays live state (state, pid, connections) on a stored summary. */
  decorate(summary: VmSummary): VmSummary;
  /** isRunning tells whether the engine has a QEMU for this VM now. */
  isRunning(vm: string): boolean;
  /** live handles snapshot requests for a running VM (memory included). */
  readonly live: { [M in SnapshotMethod]: Handler<M> };
  /** liveFirewall is a running VM's rules and connection log in memory, and its learn run if it is learning; or null. */
  liveFirewall(vm: string): { readonly rules: RuleSet; readonly log: FirewallLog; readonly learned?: { record(): LearnedRecord } | null } | null;
  /** liveConsole is a running VM's serial console, or null. */
  liveConsole(vm: string): LiveConsole | null;
  /**
   * forwards runs a change to a VM's forwards in turn with its starts and
   * stops, handing it QEMU's live forwards while the VM runs here, else null
   * (then vm.toml alone changes, for the next start).
   */
  forwards<T>(vm: string, change: (live: LiveForwards | null) => Promise<T>): Promise<T>;
}
