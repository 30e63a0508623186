// Runs in: plain Node (core).
import type { Destination, FirewallPrompt, FirewallRule, GuestProcess, HttpRequestLine, RuleLifetime } from '../../shared/models';
import type { PromptCloseReason } from '../../shared/enums';
import { XrayError } from '../../shared/errors';
import { defaultScope, formatRuleTarget, promptTarget, scopesOf } from '../../shared/scopes';
import { canonicalIp } from './address';
import { heldConnectionBudget } from './held-budget';
import { matchHttpRule } from './http-rules';
import type { Decision, PromptAnswer, PromptBrokerOptions } from './prompt-types';
import type { RuleSet } from './rules';
import { nodeCrypto } from '../builtins';

interface Pending {
  prompt: FirewallPrompt;
  readonly key: string;
  readonly waiters: ((decision: Decision) => void)[];
  readonly timer: NodeJS.Timeout;
  /** update is the scheduled `prompt.updated` for waiters that joined, if one is due. */
  update: NodeJS.Timeout | null;
}

/**
 * PromptBroker turns unknown destinations into questions for the user. Each
 * held connection waits on its own promise, so a prompt never blocks another
 * destination or VM; connections to the same destination (same VM, name or
 * address, and port) share one prompt. Unanswered prompts time out to deny.
 * An HTTP request no rule covers on an intercepted connection is asked
 * about the same way, with its method and path; identical requests (same
 * destination, method and path) share one prompt.
 */
export class PromptBroker {
  private readonly pending = new Map<string, Pending>();
  private readonly byKey = new Map<string, Pending>();
  private timeoutSeconds: number;
  private denyWhenNoClient: boolean;
  private defaultAction: 'ask' | 'deny';
  private readonly maxPendingPerVm: number;
  private readonly maxWaitingPerDestination: number;
  private readonly maxWaitingPerVm: number;
  private readonly maxWaitingTotal: number;
  private readonly updateDelayMs: number;
  private readonly waitingByVm = new Map<string, number>();
  private waitingTotal = 0;
  private readonly now: () => number;

  constructor(private readonly options: PromptBrokerOptions) {
    this.timeoutSeconds = options.timeoutSeconds ?? 300;
    this.denyWhenNoClient = options.denyWhenNoClient ?? false;
    this.defaultAction = options.defaultAction ?? 'ask';
    this.maxPendingPerVm = options.maxPendingPerVm ?? 256;
    this.maxWaitingTotal = options.maxWaitingTotal ?? heldConnectionBudget();
    this.maxWaitingPerVm = options.maxWaitingPerVm ?? Math.min(1024, this.maxWaitingTotal);
    this.maxWaitingPerDestination = options.maxWaitingPerDestination ?? 256;
    this.updateDelayMs = options.updateDelayMs ?? 100;
    this.now = options.now ?? Date.now;
  }

  /** waiting is how many connections are held on prompts, for one VM or in all. */
  waiting(vm?: string): number {
    return vm === undefined ? this.waitingTotal : (this.waitingByVm.get(vm) ?? 0);
  }

  /** overCap names the limit one more held connection of `vm` would pass, or null. */
  private overCap(vm: string, existing: Pending | undefined): string | null {
    if (existing && existing.waiters.length >= this.maxWaitingPerDestination) return 'too many connections waiting for this destination';
    if (this.waiting(vm) >= this.maxWaitingPerVm) return 'too many connections waiting for answers in this VM';
    if (this.waitingTotal >= this.maxWaitingTotal) return 'too many connections waiting for answers';
    return null;
  }

  /** hold adds one waiting connection to `entry` and counts it. */
  private hold(entry: Pending, resolve: (decision: Decision) => void): void {
    entry.waiters.push(resolve);
    this.waitingTotal += 1;
    this.waitingByVm.set(entry.prompt.vm, this.waiting(entry.prompt.vm) + 1);
  }

  /** scheduleUpdate announces the new waiting count once for a burst of joining connections. */
  private scheduleUpdate(entry: Pending): void {
    if (entry.update) return;
    entry.update = setTimeout(() => {
      entry.update = null;
      if (this.pending.get(entry.prompt.id) === entry) this.options.emit({ type: 'prompt.updated', prompt: entry.prompt });
    }, this.updateDelayMs);
    entry.update.unref();
  }

  /** configure applies changed global settings to prompts opened from now on. */
  configure(settings: { timeoutSeconds?: number; denyWhenNoClient?: boolean; defaultAction?: 'ask' | 'deny' }): void {
    if (settings.timeoutSeconds !== undefined) this.timeoutSeconds = settings.timeoutSeconds;
    if (settings.denyWhenNoClient !== undefined) this.denyWhenNoClient = settings.denyWhenNoClient;
    if (settings.defaultAction !== undefined) this.defaultAction = settings.defaultAction;
  }

  /**
   * request holds the caller until the user answers, the prompt times out or
   * the VM stops. With `http`, the question is that request on an
   * intercepted connection to `destination`, not the connection.
   */
  request(vm: string, destination: Destination, http?: HttpRequestLine): Promise<Decision> {
    const key = destinationKey(vm, destination) + (http ? `\u0000${http.method}\u0000${http.path}` : '');
    const existing = this.byKey.get(key);
    const cap = this.overCap(vm, existing);
    if (cap !== null) return Promise.resolve({ action: 'deny', reason: cap });
    if (existing) {
      existing.prompt = { ...existing.prompt, waitingConnections: existing.prompt.waitingConnections + 1 };
      this.scheduleUpdate(existing);
      return new Promise((resolve) => this.hold(existing, resolve));
    }
    if (this.defaultAction === 'deny') {
      return Promise.resolve({ action: 'deny', reason: 'default-deny' });
    }
    if (this.denyWhenNoClient && this.options.clientCount() === 0) {
      return Promise.resolve({ action: 'deny', reason: 'no-client' });
    }
    if (this.list(vm).length >= this.maxPendingPerVm) {
      return Promise.resolve({ action: 'deny', reason: 'too-many-prompts' });
    }
    const now = this.now();
    const prompt: FirewallPrompt = {
      id: nodeCrypto().randomUUID(),
      vm,
      destination,
      ...(http ? { request: { method: http.method, path: http.path } } : {}),
      openedAt: new Date(now).toISOString(),
      deadline: new Date(now + this.timeoutSeconds * 1000).toISOString(),
      waitingConnections: 1,
      guestProcess: null,
    };
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.close(prompt.id, { action: 'deny', reason: 'timeout' }, 'timeout'), this.timeoutSeconds * 1000);
      timer.unref();
      const entry: Pending = { prompt, key, waiters: [], timer, update: null };
      this.hold(entry, resolve);
      this.pending.set(prompt.id, entry);
      this.byKey.set(key, entry);
      this.options.emit({ type: 'prompt.opened', prompt });
    });
  }

  /** list returns the open prompts, oldest first, optionally for one VM. */
  list(vm?: string): FirewallPrompt[] {
    return [...this.pending.values()].map((p) => p.prompt).filter((p) => vm === undefined || p.vm === vm);
  }

  /**
   * answer releases every connection waiting on the prompt and, unless the
   * lifetime is `once` with nothing to remember, adds the rule the answer
   * implies. Other open prompts of the VM that the new rule now covers are
   * settled by it too. Persistent rules are written through `persist`; a
   * failure to write rejects after the connections were released.
   */
  async answer(answer: PromptAnswer): Promise<FirewallRule> {
    const entry = this.pending.get(answer.id);
    if (!entry) {
      throw new XrayError('not-found', `No open firewall prompt has id "${answer.id}"; it may have timed out or been answered already.`);
    }
    const { vm } = entry.prompt;
    const scope = answer.scope ?? defaultScope(entry.prompt);
    if (!scopesOf(entry.prompt).includes(scope)) {
      const what = entry.prompt.request ? 'an HTTP request' : 'a connection';
      throw new XrayError('invalid-argument', `Prompt "${answer.id}" asks about ${what}, so its answer covers one of: ${scopesOf(entry.prompt).join(', ')}.`);
    }
    const rules = this.options.rulesFor(vm);
    const lifetime = ruleLifetime(answer, this.now());
    const target = promptTarget(entry.prompt, scope);
    if (target === null) {
      throw new XrayError('invalid-argument', 'This destination has neither a name nor an address to make a rule from.');
    }
    const input = { target, action: answer.action, lifetime };
    let rule: FirewallRule;
    if (rules && lifetime.kind !== 'once') {
      rule = rules.add(input);
    } else {
      rule = { id: formatRuleTarget(target), ...input, source: 'session' };
    }
    this.close(answer.id, { action: answer.action, reason: 'answered', rule }, 'answered');
    if (rules && lifetime.kind !== 'once') this.settleCovered(vm, rules);
    if (rules && (lifetime.kind === 'forever' || lifetime.kind === 'duration')) {
      await this.options.persist(vm, rule);
    }
    return rule;
  }

  /** setGuestProcess attaches what the guest says opened the connection. */
  setGuestProcess(id: string, guestProcess: GuestProcess): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    entry.prompt = { ...entry.prompt, guestProcess };
    this.options.emit({ type: 'prompt.updated', prompt: entry.prompt, guestProcess });
  }

  /**
   * abandon closes a prompt whose connections all went away before anyone
   * answered (the guest's program gave up); whatever still waits on it on
   * the host side is refused, and no rule is written.
   */
  abandon(id: string): void {
    this.close(id, { action: 'deny', reason: 'abandoned' }, 'abandoned');
  }

  /** cancelVm denies every open prompt of a VM that is stopping. */
  cancelVm(vm: string): void {
    for (const prompt of this.list(vm)) this.close(prompt.id, { action: 'deny', reason: 'vm-stopped' }, 'vm-stopped');
  }

  private settleCovered(vm: string, rules: RuleSet): void {
    for (const prompt of this.list(vm)) {
      const { request } = prompt;
      const match = request ? matchHttpRule(rules.httpRules(prompt.destination, this.now()), request.method, request.path) : rules.match(prompt.destination, this.now());
      if (match) this.close(prompt.id, { action: match.action, reason: 'answered', rule: match.rule }, 'answered');
    }
  }

  private close(id: string, decision: Decision, reason: PromptCloseReason): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    clearTimeout(entry.timer);
    if (entry.update) clearTimeout(entry.update);
    this.pending.delete(id);
    this.byKey.delete(entry.key);
    this.waitingTotal -= entry.waiters.length;
    this.waitingByVm.set(entry.prompt.vm, this.waiting(entry.prompt.vm) - entry.waiters.length);
    for (const resolve of entry.waiters) resolve(decision);
    this.options.emit({ type: 'prompt.closed', id, vm: entry.prompt.vm, action: decision.action, reason });
  }
}

/** destinationKey is what makes two requests "the same destination". */
function destinationKey(vm: string, d: Destination): string {
  const host = d.name ?? (d.ip === null ? '' : (canonicalIp(d.ip) ?? d.ip));
  return `${vm}\u0000${host}\u0000${d.port}`;
}

function ruleLifetime(answer: PromptAnswer, now: number): RuleLifetime {
  switch (answer.lifetime) {
    case 'once':
      return { kind: 'once' };
    case 'until-stop':
      return { kind: 'until-stop' };
    case 'forever':
      return { kind: 'forever' };
    case 'duration':
      if (!answer.durationSeconds || answer.durationSeconds <= 0) {
        throw new XrayError('invalid-argument', 'A rule for a duration needs durationSeconds greater than zero.');
      }
      return { kind: 'duration', until: new Date(now + answer.durationSeconds * 1000).toISOString() };
  }
}
