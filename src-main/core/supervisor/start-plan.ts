// Runs in: plain Node (core).
// A start's plan: the checks and preparation done before a VM's QEMU is launched.
import type { ParsedParams, XrayEvent } from '../../shared/contract';
import { XrayError } from '../../shared/errors';
import type { BaseInfo } from '../../shared/models';
import { validateName } from '../names';
import type { HomePaths, VmPaths } from '../paths';
import type { VmStore } from '../store/vm-store';
import { readLivePid, removeRuntimeFiles } from '../vms/runtime';
import { consoleSize } from './boot-check';
import type { Launcher, PreparedLaunch } from './launcher';

/** StartPlanDeps is what planStart needs from the supervisor. */
export interface StartPlanDeps {
  readonly paths: HomePaths;
  readonly vms: Pick<VmStore, 'read'>;
  readonly bases: { list(): Promise<BaseInfo[]> };
  readonly launcher: Pick<Launcher, 'prepare'>;
  readonly emit: (event: XrayEvent) => void;
}

/** StartPlan is what a start launches: the VM's files, QEMU's command and where its console log stood. */
export interface StartPlan {
  readonly vm: VmPaths;
  readonly prepared: PreparedLaunch;
  /** consoleFrom is console.log's size before this boot, so this boot's output is told apart. */
  readonly consoleFrom: number;
}

/**
 * planStart checks that a stopped VM can start (no other Xray process runs
 * it, its base is there), prepares QEMU's command, announces its warning and
 * what the start changed (a moved SSH port), and clears the last run's
 * runtime files.
 */
export async function planStart(deps: StartPlanDeps, name: string, params: ParsedParams<'vm.start'>): Promise<StartPlan> {
  const config = await deps.vms.read(name);
  const vm = deps.paths.vm(name);
  if (readLivePid(vm)) {
    throw new XrayError('in-use', `VM "${name}" is already running under another Xray process.`);
  }
  const base = (await deps.bases.list()).find((b) => b.name === config.base);
  if (!base) {
    throw new XrayError('not-found', `VM "${name}" is built on base "${config.base}", which is missing; re-import it with "xray base import PATH --name ${config.base}".`);
  }
  if (params.fromSnapshot) validateName('snapshot', params.fromSnapshot);
  const prepared = await deps.launcher.prepare(name, config, base.arch, { display: params.display ?? 'none', startPaused: Boolean(params.fromSnapshot) });
  if (prepared.warning) deps.emit({ type: 'log', level: 'warn', source: 'qemu', message: prepared.warning });
  if (prepared.notice) deps.emit({ type: 'log', level: 'warn', source: 'start', message: prepared.notice });
  await removeRuntimeFiles(vm);
  return { vm, prepared, consoleFrom: await consoleSize(vm.consoleLog) };
}
