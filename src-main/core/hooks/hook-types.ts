// Runs in: plain Node (core).
import type { HookRun } from '../../shared/models';
import type { HookType } from '../../shared/enums';
import type { SshTarget } from '../ssh/connect';
import type { SshSession } from '../ssh/session';
import type { AutoMoment } from '../vms/auto-snapshots';

/** hook-types holds the shapes hooks are described and run by: built-in hooks, listings, targets. */

/** HookSource says where a hook comes from: built into Xray, a global or per-VM script, or a plugin. */
export type HookSource = HookRun['source'];

/** HookTarget is how hooks reach the guest; host scripts get it as XRAY_SSH_* variables. */
export type HookTarget = SshTarget;

/** BuiltInHookContext is what a built-in hook gets to do its work. */
export interface BuiltInHookContext {
  readonly vm: string;
  readonly type: HookType;
  readonly target: HookTarget;
  /** session returns the SSH session to the guest, opening it on first use. */
  session(): Promise<SshSession>;
  /** output adds text to the hook's output (events and the VM's hook log). */
  output(stream: 'stdout' | 'stderr', text: string): void;
  /** signal is aborted when the hook runs past its timeout. */
  readonly signal: AbortSignal;
}

/** BuiltInHook is a hook Xray ships (guest setup); it fails by throwing. */
export interface BuiltInHook {
  readonly name: string;
  readonly type: HookType;
  run(ctx: BuiltInHookContext): Promise<void>;
}

/** HookListing is one hook that would run: its type, script or plugin name, source and risk. */
export interface HookListing {
  readonly type: HookType;
  readonly script: string;
  readonly source: HookSource;
  /** risky hooks get an automatic snapshot before they run (hooks/risky.ts says how they are marked). */
  readonly risky: boolean;
}

/** HookSnapshots takes automatic snapshots (AutoSnapshots): after a first boot, before a risky hook; null when they are off. */
export interface HookSnapshots {
  take(vm: string, moment: AutoMoment): Promise<unknown>;
}
