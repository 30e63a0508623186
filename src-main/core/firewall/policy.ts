// Runs in: plain Node (core).
import { XrayError } from '../../shared/errors';
import type { FirewallRule, SecretBinding } from '../../shared/models';
import { nameProblem } from '../../shared/names';
import { type Changes, POLICY_VERSION, type PolicyBinding, type PolicyDiff, type PolicyRule } from '../../shared/policy';
import { formatRuleTarget } from '../../shared/scopes';
import { bindingEntry, makePlaceholder } from '../secrets/bindings';
import { describeValue, parseToml, stringifyToml, type TomlTable } from '../store/toml-file';
import type { FirewallEntry, SecretBindingEntry, VmConfig } from '../store/vm-config';
import { parseUserRuleTarget, tryParseRuleTarget } from './rule-target';
import { isPersistent } from './rules';

/**
 * A policy file is a VM's lasting rules and secret bindings in the shapes
 * vm.toml gives them, without placeholders (each VM makes its own) and never
 * with a value:
 *
 *   xray_policy = 1
 *
 *   [firewall]
 *   "api.github.com GET,POST /repos/acme/*" = "allow"
 *   "registry.npmjs.org:443" = "allow"
 *
 *   [secret_bindings.github]
 *   hosts = ["api.github.com"]
 *   header = "Authorization"
 *   format = "Bearer {}"
 *   env = "GITHUB_TOKEN"
 *
 * Importing one is strict, unlike reading vm.toml: a file with anything Xray
 * cannot read is refused whole, with one sentence naming the file and the
 * entry, and nothing is changed.
 */

/** Policy is a policy file read: its rules (by canonical target) and bindings (by secret). */
export interface Policy {
  readonly rules: readonly PolicyRule[];
  readonly bindings: readonly PolicyBinding[];
}

const POLICY_KEYS = new Set(['xray_policy', 'firewall', 'secret_bindings']);
const BINDING_KEYS = new Set(['hosts', 'header', 'format', 'env']);

/** policyOf is what a VM has now, as a policy: its lasting rules and its bindings without placeholders. */
export function policyOf(rules: readonly FirewallRule[], bindings: readonly SecretBinding[]): Policy {
  return {
    rules: rules
      .filter(isPersistent)
      .map((rule) => ({ target: formatRuleTarget(rule.target), action: rule.action, expires: rule.lifetime.kind === 'duration' ? rule.lifetime.until : null }))
      .sort((a, b) => a.target.localeCompare(b.target)),
    bindings: bindings
      .map(({ secret, hosts, header, format, env }) => ({ secret, hosts: [...hosts], header, format, env }))
      .sort((a, b) => a.secret.localeCompare(b.secret)),
  };
}

/** renderPolicy writes a policy as a file a project can keep beside its code: stable order, a short comment on top. */
export function renderPolicy(vm: string, policy: Policy): string {
  const firewall: Record<string, FirewallEntry> = {};
  for (const rule of policy.rules) firewall[rule.target] = rule.expires ? { action: rule.action, expires: rule.expires } : rule.action;
  const bindings: TomlTable = {};
  for (const { secret, hosts, header, format, env } of policy.bindings) bindings[secret] = { hosts: [...hosts], header, format, env };
  const data: TomlTable = { xray_policy: POLICY_VERSION, firewall, ...(policy.bindings.length > 0 ? { secret_bindings: bindings } : {}) };
  const head = [
    `# Xray firewall policy, exported from VM "${vm}": lasting rules and secret bindings.`,
    '# No secret values are here, nor placeholders: each VM makes its own.',
    '# Apply it to a VM with: xray firewall import VM FILE',
  ];
  return `${head.join('\n')}\n${stringifyToml(data)}`;
}

/** parsePolicy reads a policy file's text; `file` names it in the one sentence a problem is refused with. */
export function parsePolicy(text: string, file: string, now: number = Date.now()): Policy {
  const refuse = (problem: string): never => {
    throw new XrayError('invalid-argument', `${file}: ${problem}`);
  };
  const raw = parseToml(text, file);
  if (raw.xray_policy === undefined) refuse(`this is not an Xray policy (it has no "xray_policy = ${POLICY_VERSION}" line); write one with "xray firewall export VM".`);
  if (raw.xray_policy !== POLICY_VERSION) refuse(`xray_policy is ${describeValue(raw.xray_policy)}, and this Xray reads version ${POLICY_VERSION} only.`);
  for (const key of Object.keys(raw)) {
    if (!POLICY_KEYS.has(key)) refuse(`"${key}" is not part of a policy, which holds xray_policy, [firewall] and [secret_bindings.NAME] only.`);
  }
  return { rules: readRules(tableAt(raw, 'firewall', refuse), refuse, now), bindings: readBindings(tableAt(raw, 'secret_bindings', refuse), refuse) };
}

function tableAt(raw: TomlTable, key: string, refuse: (problem: string) => never): TomlTable {
  const value = raw[key];
  if (value === undefined) return {};
  if (!isTable(value)) refuse(`${key} must be a table, not ${describeValue(value)}.`);
  return value as TomlTable;
}

function isTable(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
}

function readRules(table: TomlTable, refuse: (problem: string) => never, now: number): PolicyRule[] {
  const rules = new Map<string, PolicyRule & { key: string }>();
  for (const [key, value] of Object.entries(table)) {
    let target: string;
    try {
      target = formatRuleTarget(parseUserRuleTarget(key));
    } catch (err) {
      return refuse(`rule ${(err as Error).message}`);
    }
    const entry = isTable(value) ? (value as { action?: unknown; expires?: unknown }) : { action: value };
    const extra = Object.keys(entry).find((k) => k !== 'action' && k !== 'expires');
    if (extra !== undefined) refuse(`rule "${key}" has "${extra}", but a rule is "allow", "deny" or a table of action and expires.`);
    if (entry.action !== 'allow' && entry.action !== 'deny') refuse(`rule "${key}" must be "allow" or "deny", not ${describeValue(entry.action)}.`);
    let expires: string | null = null;
    if (entry.expires !== undefined) {
      const at = entry.expires instanceof Date ? entry.expires.getTime() : Date.parse(String(entry.expires));
      if (Number.isNaN(at)) refuse(`rule "${key}" expires at ${describeValue(entry.expires)}, which is not a date.`);
      if (at <= now) continue;
      expires = new Date(at).toISOString();
    }
    const twin = rules.get(target);
    if (twin) refuse(`"${twin.key}" and "${key}" are the same target; keep one of them.`);
    rules.set(target, { key, target, action: entry.action as 'allow' | 'deny', expires });
  }
  return [...rules.values()].map(({ target, action, expires }) => ({ target, action, expires })).sort((a, b) => a.target.localeCompare(b.target));
}

function readBindings(table: TomlTable, refuse: (problem: string) => never): PolicyBinding[] {
  const bindings: PolicyBinding[] = [];
  for (const [secret, value] of Object.entries(table)) {
    const problem = nameProblem(secret);
    if (problem !== null) refuse(`secret binding "${secret}": ${problem}.`);
    if (!isTable(value)) refuse(`secret binding "${secret}" must be a table of hosts, header, format and env.`);
    const entry = value as TomlTable;
    if (entry.placeholder !== undefined) refuse(`secret binding "${secret}" has a placeholder, which each VM makes for itself; remove that line.`);
    const extra = Object.keys(entry).find((k) => !BINDING_KEYS.has(k));
    if (extra !== undefined) refuse(`secret binding "${secret}" has "${extra}", but a binding holds hosts, header, format and env only (never a value).`);
    const { hosts, header, format, env } = entry;
    if (!Array.isArray(hosts) || !hosts.every((h) => typeof h === 'string')) refuse(`secret binding "${secret}" needs hosts, a list of names such as ["api.github.com"].`);
    if (typeof header !== 'string') refuse(`secret binding "${secret}" needs a header, such as "Authorization".`);
    for (const [key, field] of [['format', format], ['env', env]] as const) {
      if (field !== undefined && typeof field !== 'string') refuse(`secret binding "${secret}" has ${key} = ${describeValue(field)}, which must be text.`);
    }
    const checked = bindingEntry(
      { secret, hosts: hosts as string[], header: header as string, format: format as string | undefined, env: env as string | undefined },
      (issue) => refuse(`secret binding "${secret}": ${issue}.`),
    );
    bindings.push({ secret, ...checked });
  }
  return bindings.sort((a, b) => a.secret.localeCompare(b.secret));
}

/** diffPolicy is what making `current` into `next` changes: rules matched by target, bindings by secret. */
export function diffPolicy(current: Policy, next: Policy): PolicyDiff {
  return {
    rules: changes(current.rules, next.rules, (r) => r.target, (a, b) => a.action === b.action && a.expires === b.expires),
    bindings: changes(current.bindings, next.bindings, (b) => b.secret, sameBinding),
  };
}

function sameBinding(a: PolicyBinding, b: PolicyBinding): boolean {
  const hosts = (x: PolicyBinding) => [...x.hosts].sort().join(' ');
  return hosts(a) === hosts(b) && a.header === b.header && a.format === b.format && a.env === b.env;
}

function changes<T>(current: readonly T[], next: readonly T[], key: (item: T) => string, same: (a: T, b: T) => boolean): Changes<T> {
  const before = new Map(current.map((item) => [key(item), item]));
  const after = new Map(next.map((item) => [key(item), item]));
  return {
    added: next.filter((item) => !before.has(key(item))),
    removed: current.filter((item) => !after.has(key(item))),
    changed: next.flatMap((to) => {
      const from = before.get(key(to));
      return from !== undefined && !same(from, to) ? [{ from, to }] : [];
    }),
  };
}

/**
 * applyPolicy makes a VM's configuration follow `policy`: its readable rules
 * in [firewall] are replaced (entries Xray cannot read stay, as
 * `firewall clear` leaves them), and its bindings become the policy's, each
 * keeping the placeholder the VM had for that secret.
 */
export function applyPolicy(cfg: VmConfig, policy: Policy): void {
  const firewall: Record<string, FirewallEntry> = {};
  for (const [key, entry] of Object.entries(cfg.firewall)) if (tryParseRuleTarget(key) === null) firewall[key] = entry;
  for (const rule of policy.rules) firewall[rule.target] = rule.expires ? { action: rule.action, expires: rule.expires } : rule.action;
  cfg.firewall = firewall;
  const bindings: Record<string, SecretBindingEntry> = {};
  for (const { secret, hosts, header, format, env } of policy.bindings) {
    bindings[secret] = { hosts: [...hosts], header, format, env, placeholder: cfg.secretBindings?.[secret]?.placeholder ?? makePlaceholder(secret) };
  }
  cfg.secretBindings = bindings;
}
