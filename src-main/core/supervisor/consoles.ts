// Runs in: plain Node (core).
import type { ParsedParams, XrayEvent } from '../../shared/contract';
import { consoleNotRunning } from '../../shared/console';
import type { LiveConsole } from '../engine';
import { validateName } from '../names';
import type { HomePaths } from '../paths';
import { ConsoleRelay } from './console-relay';

/**
 * Consoles holds the serial console relay of each VM this supervisor runs:
 * opened when QEMU is up (launched or adopted), closed once it is gone.
 */
export class Consoles {
  private readonly relays = new Map<string, Promise<ConsoleRelay>>();

  constructor(private readonly deps: { readonly paths: HomePaths; readonly emit: (event: XrayEvent) => void }) {}

  /** attach starts relaying a running VM's console from `from` in its log (null for an adopted VM: a scrollback's worth back). */
  async attach(vm: string, from: number | null): Promise<void> {
    await this.detach(vm);
    const paths = this.deps.paths.vm(vm);
    const relay = ConsoleRelay.open({ vm, input: paths.consolePipe.input, log: paths.consoleLog, from, emit: this.deps.emit });
    this.relays.set(vm, relay);
    await relay;
  }

  /** detach announces the last output of a VM whose QEMU is gone and closes its relay. */
  async detach(vm: string): Promise<void> {
    const relay = this.relays.get(vm);
    if (!relay) return;
    this.relays.delete(vm);
    await (await relay).close();
  }

  async detachAll(): Promise<void> {
    await Promise.all([...this.relays.keys()].map((vm) => this.detach(vm)));
  }

  /** live is a running VM's console, or null when this supervisor relays none for it. */
  live(vm: string): LiveConsole | null {
    const relay = this.relays.get(vm);
    if (!relay) return null;
    return { scrollback: async () => (await relay).scrollback(), write: async (data) => (await relay).write(data) };
  }

  /** input types into a running VM's serial console. */
  async input({ name, data }: ParsedParams<'vm.consoleInput'>): Promise<null> {
    const live = this.live(validateName('VM', name));
    if (!live) throw consoleNotRunning(name);
    await live.write(data);
    return null;
  }
}
