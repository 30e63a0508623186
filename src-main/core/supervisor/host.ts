// Runs in: plain Node (core). Hosted by the Electron app and by `xray daemon`.
import { createService } from '../bootstrap';
import { ControlServer } from '../control/server';
import { XrayError } from '../../shared/errors';
import type { HomePaths } from '../paths';
import type { XrayService } from '../service';
import { egressFactsOf, egressHook } from '../guest/egress';
import { guestSetupHooks } from '../guest/setup';
import { sharesHook, sharesOf } from '../guest/shares';
import { SupervisorLock } from './lock';
import { Supervisor } from './supervisor';
import type { SupervisorDeps, SupervisorOptions } from './supervisor-deps';

export interface SupervisorHost {
  readonly service: XrayService;
  readonly supervisor: Supervisor;
  readonly control: ControlServer;
  /** close stops serving; VMs keep running unless `stopVms` (they are adopted next time). */
  close(opts?: { stopVms?: boolean }): Promise<void>;
}

export interface HostOptions {
  readonly env?: NodeJS.ProcessEnv;
  /**
   * guestHooks false leaves out the built-in hooks that set a guest up (the
   * firewall redirection, shares, egress); for testing, with a fake guest that
   * has no shell to run them.
   */
  readonly guestHooks?: boolean;
}

/**
 * hostSupervisor makes this process the supervisor of an XRAY_HOME: it takes
 * the lock, serves the control socket, adopts VMs left running and starts the
 * autostart list. It fails with `busy` when another process already is.
 */
export async function hostSupervisor(paths: HomePaths, options: SupervisorOptions & HostOptions = {}): Promise<SupervisorHost> {
  const { lock, holder } = await SupervisorLock.acquire(paths.lockFile);
  if (!lock) {
    throw new XrayError('busy', `Another Xray process (pid ${holder ?? 'unknown'}) already supervises ${paths.root}.`);
  }
  try {
    let supervisor: Supervisor | null = null;
    const builtInHooks = options.guestHooks === false ? [] : [
      ...guestSetupHooks({
        onVerified: (vm, active) => supervisor?.setGuestFirewall(vm, active),
        probeSeen: (vm, nonce) => supervisor?.firewalls.probeSeen(vm, nonce) ?? false,
      }),
      sharesHook({ sharesFor: sharesOf(paths), hostUid: process.getuid?.() ?? 0 }),
      egressHook({ egressFor: egressFactsOf(paths) }),
    ];
    const service = await createService(paths, options.env, { builtInHooks });
    supervisor = new Supervisor(supervisorDeps(service), options);
    service.attachEngine(supervisor);
    const control = new ControlServer(service, paths.controlSocket);
    supervisor.setClientCount(() => control.subscriberCount);
    await supervisor.firewalls.init();
    // Adopted before anyone can ask: a request for a running VM must find it adopted, not stopped.
    await supervisor.adoptRunning();
    await control.listen();
    const settings = await service.settings.read();
    if (Array.isArray(settings.autostart)) {
      for (const name of settings.autostart) {
        service.call('vm.start', { name }).catch((err: Error) =>
          service.emit({ type: 'log', level: 'error', source: 'autostart', message: `VM "${name}" did not start: ${err.message}` }),
        );
      }
    }
    let closed = false;
    return {
      service,
      supervisor,
      control,
      async close(opts = {}) {
        if (closed) return;
        closed = true;
        await control.close();
        if (opts.stopVms) await supervisor.stopAll();
        await supervisor.detach();
        // The timeline's last entries (a VM stopping as the app quits) reach the file before the process ends.
        await service.journal.close();
        await lock.release();
      },
    };
  } catch (err) {
    await lock.release();
    throw err;
  }
}

/** supervisorDeps takes what a supervisor needs from the service it serves. */
export function supervisorDeps(service: XrayService): SupervisorDeps {
  return {
    paths: service.paths,
    vms: service.catalog.store,
    summary: (vm) => service.catalog.summary(vm),
    bases: service.bases,
    settings: service.settings,
    ruleStore: service.firewallRules,
    secretBindings: service.secretBindings,
    secrets: service.secrets,
    qemuImg: service.qemuImg,
    emit: service.emit,
    sshTarget: (vm) => service.sshTarget(vm),
    runStartHooks: async (vm, session) => service.hooks.runLifecycle(vm, 'start', await service.sshTarget(vm), session),
  };
}
