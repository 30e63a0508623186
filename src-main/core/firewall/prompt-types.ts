// Runs in: plain Node (core). What the prompt broker is built from, what a
// held connection learns, and what an answer says.
import type { FirewallRule, PromptLifetime, PromptScope, RuleAction } from '../../shared/models';
import type { XrayEvent } from '../../shared/contract';
import type { RuleSet } from './rules';

/** Decision is what a held connection learns: go ahead or be closed, and why. */
export interface Decision {
  readonly action: RuleAction;
  readonly reason: string;
  readonly rule?: FirewallRule;
}

/** PromptAnswer is the user's answer to prompt `id`: the action, what it covers and for how long. */
export interface PromptAnswer {
  readonly id: string;
  readonly action: RuleAction;
  /** scope defaults to the prompt's narrowest (defaultScope). */
  readonly scope?: PromptScope | undefined;
  readonly lifetime: PromptLifetime;
  readonly durationSeconds?: number;
}

/** PromptBrokerOptions are what a PromptBroker is built from: where it announces and stores, and its limits. */
export interface PromptBrokerOptions {
  readonly emit: (event: XrayEvent) => void;
  /** clientCount says how many UIs (app, browser, CLI watchers) can answer prompts now. */
  readonly clientCount: () => number;
  /** rulesFor returns the running VM's rule set, where answers add their rule. */
  readonly rulesFor: (vm: string) => RuleSet | null;
  /** persist writes a persistent rule (forever, duration) an answer made to vm.toml. */
  readonly persist: (vm: string, rule: FirewallRule) => Promise<void>;
  readonly timeoutSeconds?: number;
  readonly denyWhenNoClient?: boolean;
  /** defaultAction `deny` refuses unknown destinations at once instead of asking (config `default_action`). */
  readonly defaultAction?: 'ask' | 'deny';
  /** maxPendingPerVm bounds the prompts one VM can open at once; beyond it, deny. */
  readonly maxPendingPerVm?: number;
  /**
   * Each held connection keeps a socket (a file descriptor) open in the
   * supervisor. These bound how many one destination, one VM and all VMs
   * together may hold, so one guest cannot use up the descriptors that other
   * VMs' connections and the control socket need; beyond them, deny.
   */
  readonly maxWaitingPerDestination?: number;
  readonly maxWaitingPerVm?: number;
  readonly maxWaitingTotal?: number;
  /** updateDelayMs gathers the `prompt.updated` events a burst of connections causes into one. */
  readonly updateDelayMs?: number;
  readonly now?: () => number;
}
