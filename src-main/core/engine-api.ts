// Runs in: plain Node (core).
// The API methods only a supervisor can serve, and what is answered without one.
import type { ParsedParams, Results } from '../shared/contract';
import { consoleNotRunning } from '../shared/console';
import { XrayError } from '../shared/errors';
import type { VmSummary } from '../shared/models';
import type { Engine, EngineMethod, Handler } from './engine';
import { validateName } from './names';
import type { HomePaths } from './paths';
import type { VmStore } from './store/vm-store';
import { readLivePid } from './vms/runtime';

/** EngineApiDeps is what engineHandlers need from the service. */
export interface EngineApiDeps {
  readonly paths: HomePaths;
  readonly vms: Pick<VmStore, 'read'>;
  /** summary is a VM as its files describe it. */
  readonly summary: (vm: string) => Promise<VmSummary>;
  /** engine is this process's supervisor, when it has one. */
  readonly engine: () => Engine | null;
}

/**
 * withoutEngine answers what it can with no supervisor in this process:
 * there are no prompts, and a VM that is not running is already stopped,
 * has no open connections and no guest to ask about its ports. The rest
 * needs the supervisor.
 */
async function withoutEngine(deps: EngineApiDeps, method: EngineMethod, params: ParsedParams<EngineMethod>): Promise<Results[EngineMethod]> {
  if (method === 'prompt.list') return [];
  if (method === 'firewall.connections' || method === 'port.listening') {
    const { vm } = params as ParsedParams<'firewall.connections' | 'port.listening'>;
    await deps.vms.read(validateName('VM', vm));
    if (readLivePid(deps.paths.vm(vm)) === null) return method === 'firewall.connections' ? [] : null;
  }
  if (method === 'vm.stop' || method === 'vm.consoleInput') {
    const { name } = params as ParsedParams<'vm.stop' | 'vm.consoleInput'>;
    const summary = await deps.summary(validateName('VM', name));
    if (summary.pid === null && method === 'vm.consoleInput') throw consoleNotRunning(name);
    if (summary.pid === null) return { ...summary, stoppedBy: null };
  }
  throw new XrayError('unsupported', `"${method}" needs the Xray supervisor; start the Xray app or run "xray daemon".`);
}

/** engineHandlers pass each engine method to the supervisor when this process has one, else to withoutEngine. */
export function engineHandlers(deps: EngineApiDeps): { [M in EngineMethod]: Handler<M> } {
  const viaEngine =
    <M extends EngineMethod>(method: M): Handler<M> =>
    async (params) => {
      const engine = deps.engine();
      return engine ? engine.handlers[method](params) : (withoutEngine(deps, method, params) as Promise<Results[M]>);
    };
  return {
    'vm.start': viaEngine('vm.start'),
    'vm.stop': viaEngine('vm.stop'),
    'vm.consoleInput': viaEngine('vm.consoleInput'),
    'prompt.list': viaEngine('prompt.list'),
    'prompt.answer': viaEngine('prompt.answer'),
    'firewall.connections': viaEngine('firewall.connections'),
    'port.listening': viaEngine('port.listening'),
  };
}
