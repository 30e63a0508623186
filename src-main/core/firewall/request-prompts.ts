// Runs in: plain Node (core).
import type { RuleAction } from '../../shared/models';
import type { AskedRequest } from './intercept';
import type { Decision } from './prompt-types';
import type { PromptBroker } from './prompts';
import { serviceName } from './services';

/** HOW_UNANSWERED words the broker's reasons for a prompt that no one answered, for the refusal the guest reads. */
const HOW_UNANSWERED: Readonly<Record<string, string>> = {
  timeout: 'nobody answered in time',
  'no-client': 'no app was open to ask (deny_when_no_client)',
  'default-deny': 'unknown requests are denied (default_action)',
  'vm-stopped': 'the VM stopped',
  abandoned: 'the program gave up before an answer',
  'too-many-prompts': 'too many questions are waiting for this VM',
};

/**
 * requestAsker is the interceptor's `ask` for one broker: a request no HTTP
 * rule covers becomes a prompt showing its host, method and path, held like
 * a connection (the same timeout, default action and no-client settings),
 * and identical requests share it. The answer's rule, if it lasts, decides
 * later requests without asking.
 */
export function requestAsker(broker: PromptBroker): (request: AskedRequest) => Promise<{ action: RuleAction; reason: string }> {
  return async ({ vm, name, ip, port, method, path }) => {
    const decision = await broker.request(vm, { ip, port, name, nameSource: 'sni', service: serviceName(port) }, { method, path });
    return { action: decision.action, reason: askedReason(decision) };
  };
}

function askedReason(decision: Decision): string {
  if (decision.reason === 'answered') return decision.action === 'deny' ? 'denied when asked' : 'allowed when asked';
  return HOW_UNANSWERED[decision.reason] ?? decision.reason;
}
