// Runs in: plain Node (core).
// The secret methods of the API: the host's secrets and each VM's bindings to them.
import type { XrayEvent } from '../../shared/contract';
import { XrayError } from '../../shared/errors';
import type { Handler } from '../engine';
import { validateName } from '../names';
import type { SecretBindings } from './bindings';
import type { SecretStore } from './store';

/** SecretMethod names the API methods secretHandlers serve. */
export type SecretMethod = 'secret.list' | 'secret.set' | 'secret.remove' | 'secret.bindings' | 'secret.bind' | 'secret.unbind';

/** SecretApiDeps is what secretHandlers need from the service. */
export interface SecretApiDeps {
  readonly secrets: Pick<SecretStore, 'list' | 'set' | 'remove'>;
  readonly bindings: Pick<SecretBindings, 'list' | 'bind' | 'unbind'>;
  readonly emit: (event: XrayEvent) => void;
}

/**
 * secretHandlers keep secrets on the host and bind them to VMs; a binding
 * names a secret that exists, and vm.toml holds the binding, never the value.
 */
export function secretHandlers(deps: SecretApiDeps): { [M in SecretMethod]: Handler<M> } {
  const { secrets, bindings } = deps;
  return {
    'secret.list': () => secrets.list(),
    'secret.set': async ({ name, value }) => secrets.set(name, value),
    'secret.remove': async ({ name }) => {
      if (!(await secrets.remove(name))) throw new XrayError('not-found', `There is no secret "${name}"; see "xray secret list".`);
      return null;
    },
    'secret.bindings': ({ vm }) => bindings.list(validateName('VM', vm)),
    'secret.bind': async ({ vm, ...input }) => {
      if (!(await secrets.list()).secrets.some((s) => s.name === input.secret)) {
        throw new XrayError('not-found', `There is no secret "${input.secret}"; set it first with "xray secret set ${input.secret}".`);
      }
      const binding = await bindings.bind(validateName('VM', vm), input);
      deps.emit({ type: 'vm.changed', vm });
      return binding;
    },
    'secret.unbind': async ({ vm, secret }) => {
      if (!(await bindings.unbind(validateName('VM', vm), secret))) {
        throw new XrayError('not-found', `VM "${vm}" has no binding for secret "${secret}"; see "xray secret bindings ${vm}".`);
      }
      deps.emit({ type: 'vm.changed', vm });
      return null;
    },
  };
}
