// Runs in: renderer. How long an answer to a prompt or a rule added by hand
// lasts, as the app offers it: the choices, their words, and the request each
// one makes. The prompt and the Firewall tab offer the same words.
import type { PromptLifetime } from '../../src-main/shared/models';

/** ONE_HOUR is the app's one "for a while", in seconds: long enough for a task, short enough to be asked again the same day. */
const ONE_HOUR = 3600;

export type LifetimeChoice = 'once' | 'hour' | 'until-stop' | 'forever';

export const lifetimeLabels: Readonly<Record<LifetimeChoice, string>> = {
  once: 'Once',
  hour: '1 hour',
  'until-stop': 'Until the VM stops',
  forever: 'Forever',
};

/** lifetimeParams is a choice as the API takes it: "1 hour" is a rule for a while, the others their own lifetime. */
export function lifetimeParams(choice: LifetimeChoice): { lifetime: PromptLifetime; durationSeconds?: number } {
  return choice === 'hour' ? { lifetime: 'duration', durationSeconds: ONE_HOUR } : { lifetime: choice };
}
