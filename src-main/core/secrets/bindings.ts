// Runs in: plain Node (core).
import { XrayError } from '../../shared/errors';
import type { SecretBinding } from '../../shared/models';
import { defaultEnvName, envNameProblem, formatProblem, headerProblem } from '../../shared/secrets';
import { normalizeHostname } from '../firewall/address';
import { validateName } from '../names';
import type { SecretBindingEntry } from '../store/vm-config';
import type { VmStore } from '../store/vm-store';
import { nodeCrypto } from '../builtins';

export interface BindInput {
  readonly secret: string;
  /** hosts are names or `*.domain` patterns the value may be sent to. */
  readonly hosts: readonly string[];
  readonly header: string;
  /** format frames the value, `{}` standing for it; default `{}` (the value alone). */
  readonly format?: string;
  /** env names the guest variable holding the placeholder; default NAME_TOKEN. */
  readonly env?: string;
}

/** makePlaceholder is a new placeholder for `secret`: `xray:NAME:` and 128 random bits in hex. */
export function makePlaceholder(secret: string): string {
  return `xray:${secret}:${nodeCrypto().randomBytes(16).toString('hex')}`;
}

/**
 * bindingHost reads one host a binding covers: a name (`api.github.com`) or
 * `*.domain` for the domain and its sub-domains; null when it is neither.
 */
export function bindingHost(text: string): string | null {
  const wildcard = text.startsWith('*.');
  const name = normalizeHostname(wildcard ? text.slice(2) : text);
  return name === null ? null : wildcard ? `*.${name}` : name;
}

/** bindingCoversHost tells whether a binding's hosts include `host` (a normalized name). */
export function bindingCoversHost(binding: Pick<SecretBinding, 'hosts'>, host: string): boolean {
  return binding.hosts.some((pattern) => (pattern.startsWith('*.') ? host === pattern.slice(2) || host.endsWith(pattern.slice(1)) : host === pattern));
}

/**
 * SecretBindings are the VMs' secret bindings, kept in each vm.toml under
 * [secret_bindings.NAME]: hosts, header, format, placeholder and variable,
 * never a value. A binding is changed under vm.toml's lock, like rules.
 */
export class SecretBindings {
  constructor(private readonly store: VmStore) {}

  /** list returns a VM's bindings, sorted by secret name. */
  async list(vm: string): Promise<SecretBinding[]> {
    const cfg = await this.store.read(vm);
    return Object.entries(cfg.secretBindings ?? {})
      .map(([secret, entry]) => toBinding(secret, entry))
      .sort((a, b) => a.secret.localeCompare(b.secret));
  }

  /**
   * bind gives `vm` the secret for the hosts and header of `input`. Binding
   * a secret the VM already has replaces its hosts, header, format and
   * variable but keeps its placeholder, so the guest's copy stays good.
   */
  async bind(vm: string, input: BindInput): Promise<SecretBinding> {
    const entry = checkInput(input);
    let bound: SecretBinding | null = null;
    await this.store.update(vm, (cfg) => {
      const bindings = { ...cfg.secretBindings };
      const placeholder = bindings[input.secret]?.placeholder ?? makePlaceholder(input.secret);
      bindings[input.secret] = { ...entry, placeholder };
      cfg.secretBindings = bindings;
      bound = toBinding(input.secret, bindings[input.secret] as SecretBindingEntry);
    });
    if (bound === null) throw new XrayError('internal', `Binding secret "${input.secret}" to VM "${vm}" wrote nothing; report this as a bug.`);
    return bound;
  }

  /** unbind removes the VM's binding of `secret`; false when it had none. */
  async unbind(vm: string, secret: string): Promise<boolean> {
    validateName('secret', secret);
    let removed = false;
    await this.store.update(vm, (cfg) => {
      if (!cfg.secretBindings || !(secret in cfg.secretBindings)) return;
      const bindings = { ...cfg.secretBindings };
      delete bindings[secret];
      cfg.secretBindings = bindings;
      removed = true;
    });
    return removed;
  }
}

function toBinding(secret: string, entry: SecretBindingEntry): SecretBinding {
  return { secret, hosts: [...entry.hosts], header: entry.header, format: entry.format, placeholder: entry.placeholder, env: entry.env };
}

/** checkInput validates a binding as a person gave it, one sentence per problem; hosts come back normalized. */
function checkInput(input: BindInput): Omit<SecretBindingEntry, 'placeholder'> {
  validateName('secret', input.secret);
  return bindingEntry(input, (problem) => {
    throw new XrayError('invalid-argument', `Secret "${input.secret}" was not bound: ${problem}.`);
  });
}

/**
 * bindingEntry checks a binding's hosts, header, format and variable,
 * handing `refuse` the first problem as a phrase; hosts come back
 * normalized and without repeats, format and variable with their defaults.
 */
export function bindingEntry(input: BindInput, refuse: (problem: string) => never): Omit<SecretBindingEntry, 'placeholder'> {
  if (input.hosts.length === 0) refuse('name at least one host, such as api.github.com');
  const hosts: string[] = [];
  for (const text of input.hosts) {
    const host = bindingHost(text.trim());
    if (host === null) refuse(`"${text}" is not a host name or *.domain`);
    else if (!hosts.includes(host)) hosts.push(host);
  }
  const headerIssue = headerProblem(input.header);
  if (headerIssue) refuse(headerIssue);
  const format = input.format ?? '{}';
  const formatIssue = formatProblem(format);
  if (formatIssue) refuse(formatIssue);
  const env = input.env ?? defaultEnvName(input.secret);
  const envIssue = envNameProblem(env);
  if (envIssue) refuse(envIssue);
  return { hosts, header: input.header, format, env };
}
