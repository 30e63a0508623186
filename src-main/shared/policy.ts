// Runs in: anywhere (pure). Firewall policies: a VM's lasting rules and secret
// bindings as a file a project keeps beside its code, and what applying one changes.
import type { RuleAction } from './models';

/** POLICY_VERSION is the `xray_policy` a policy file declares; a file of another version is refused. */
export const POLICY_VERSION = 1;

/** POLICY_MAX_BYTES bounds a policy file's text (it crosses the API whole). */
export const POLICY_MAX_BYTES = 1024 * 1024;

/** PolicyRule is one lasting rule of a policy: its target text, action and expiry (null: forever). */
export interface PolicyRule {
  readonly target: string;
  readonly action: RuleAction;
  readonly expires: string | null;
}

/**
 * PolicyBinding is a secret binding as a policy carries it: no value and no
 * placeholder, which each VM makes for itself (an existing binding keeps its
 * own when a policy changes it, so the guest's copy stays good).
 */
export interface PolicyBinding {
  readonly secret: string;
  readonly hosts: readonly string[];
  readonly header: string;
  readonly format: string;
  readonly env: string;
}

/** Changes is what applying a policy does to one kind of thing: added, removed, and changed from → to. */
export interface Changes<T> {
  readonly added: readonly T[];
  readonly removed: readonly T[];
  readonly changed: readonly { readonly from: T; readonly to: T }[];
}

export interface PolicyDiff {
  readonly rules: Changes<PolicyRule>;
  readonly bindings: Changes<PolicyBinding>;
}

/** PolicyExport is a VM's policy as TOML text, and how much it holds. */
export interface PolicyExport {
  readonly text: string;
  readonly rules: number;
  readonly bindings: number;
}

/**
 * PolicyImport is what importing a policy changes (or would, on a dry run),
 * whether it was applied, and the secrets its bindings name that are not set
 * on this computer (the binding is made; requests needing it fail until the
 * secret is set).
 */
export interface PolicyImport {
  readonly diff: PolicyDiff;
  readonly applied: boolean;
  readonly missingSecrets: readonly string[];
}

/** policyDiffEmpty tells whether applying a policy would change nothing. */
export function policyDiffEmpty(diff: PolicyDiff): boolean {
  const none = (c: Changes<unknown>) => c.added.length === 0 && c.removed.length === 0 && c.changed.length === 0;
  return none(diff.rules) && none(diff.bindings);
}

/** policyRuleText is a rule as a diff line shows it: `allow api.github.com GET /repos/*`, with its expiry if it has one. */
export function policyRuleText(rule: PolicyRule): string {
  return `${rule.action} ${rule.target}${rule.expires ? ` until ${rule.expires}` : ''}`;
}

/** policyBindingText is a binding as a diff line shows it: `github → api.github.com in Authorization as "Bearer {}" (GITHUB_TOKEN)`. */
export function policyBindingText(binding: PolicyBinding): string {
  return `${binding.secret} → ${binding.hosts.join(', ')} in ${binding.header} as "${binding.format}" (${binding.env})`;
}

/**
 * describePolicyDiff is a diff as lines a person reads, one change a line,
 * marked `+` (added), `-` (removed) or `~` (changed, old → new).
 */
export function describePolicyDiff(diff: PolicyDiff): string[] {
  const lines: string[] = [];
  const section = <T>(title: string, changes: Changes<T>, text: (item: T) => string): void => {
    if (changes.added.length + changes.removed.length + changes.changed.length === 0) return;
    lines.push(`${title}:`);
    for (const item of changes.added) lines.push(`  + ${text(item)}`);
    for (const item of changes.removed) lines.push(`  - ${text(item)}`);
    for (const { from, to } of changes.changed) lines.push(`  ~ ${text(from)}  →  ${text(to)}`);
  };
  section('Rules', diff.rules, policyRuleText);
  section('Secret bindings', diff.bindings, policyBindingText);
  return lines;
}

/** policyDiffSummary counts a diff in words: "2 rules added, 1 removed; 1 binding changed". */
export function policyDiffSummary(diff: PolicyDiff): string {
  const part = (noun: string, c: Changes<unknown>): string | null => {
    const counts = [
      [c.added.length, 'added'],
      [c.removed.length, 'removed'],
      [c.changed.length, 'changed'],
    ].filter(([n]) => (n as number) > 0);
    if (counts.length === 0) return null;
    return counts.map(([n, what], i) => (i === 0 ? `${n} ${noun}${n === 1 ? '' : 's'} ${what}` : `${n} ${what}`)).join(', ');
  };
  return [part('rule', diff.rules), part('secret binding', diff.bindings)].filter((p) => p !== null).join('; ') || 'nothing changed';
}
