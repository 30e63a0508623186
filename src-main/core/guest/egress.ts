// Runs in: plain Node (core).
import { XrayError } from '../../shared/errors';
import { VmCertificateAuthority } from '../firewall/tls-ca';
import type { BuiltInHook, BuiltInHookContext } from '../hooks';
import type { HomePaths } from '../paths';
import { SecretBindings } from '../secrets/bindings';
import { VmStore } from '../store/vm-config';

/** EGRESS_HOOK_NAME is the boot hook that gives the guest the VM's CA and its secret placeholders. */
export const EGRESS_HOOK_NAME = 'xray-egress';

/** EgressFacts is what the guest is told: the VM's CA certificate and the variables its bindings set. */
export interface EgressFacts {
  readonly caPem: string;
  /** variables are NAME → placeholder, one per secret binding (never a value). */
  readonly variables: Readonly<Record<string, string>>;
}

export interface EgressHookOptions {
  readonly egressFor: (vm: string) => Promise<EgressFacts>;
}

const EGRESS_TIMEOUT_MS = 2 * 60_000;
const CA_FILE = '/usr/local/share/ca-certificates/xray-egress.crt';
const BEGIN = '# xray egress: begin (written by Xray at every boot)';
const END = '# xray egress: end';
const BUNDLE_BEGIN = '# xray egress CA: begin';
const BUNDLE_END = '# xray egress CA: end';

/** VARIABLE is what may appear on either side of `=` in /etc/environment without quoting trouble. */
const SAFE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SAFE_VALUE = /^[A-Za-z0-9_:./-]+$/;

/**
 * egressScript installs the VM's CA into the guest's trust store (Debian's
 * update-ca-certificates, or the Red Hat family's update-ca-trust), and
 * rewrites Xray's block in /etc/environment, which PAM gives every login
 * and SSH session: the CA for tools with their own trust (Node's
 * NODE_EXTRA_CA_CERTS, Python requests' REQUESTS_CA_BUNDLE, OpenSSL's
 * SSL_CERT_FILE) and one placeholder per secret binding. Run at every boot,
 * so unbound secrets' variables go away. The trust store changes only when
 * the CA changed or is missing from it. On Debian's layout the script does
 * for the one certificate what update-ca-certificates would (a link, a hash
 * link, its block in the bundle) instead of running it: that re-reads every
 * certificate, a process or three each, which takes a minute or more under
 * emulation. The CA sits in /usr/local/share/ca-certificates, so the guest's
 * own later runs keep it.
 */
export function egressScript(facts: EgressFacts): string {
  for (const [name, value] of Object.entries(facts.variables)) {
    if (!SAFE.test(name) || !SAFE_VALUE.test(value)) throw new XrayError('invalid-argument', `The guest variable ${name} cannot be written safely.`);
  }
  const variables = Object.entries(facts.variables).map(([name, value]) => `${name}=${value}`).join('\n');
  return `set -eu
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mkdir -p /usr/local/share/ca-certificates
cat >${CA_FILE}.xray <<'XRAY_EOF'
${facts.caPem.trim()}
XRAY_EOF
changed=1
if cmp -s ${CA_FILE}.xray ${CA_FILE}; then changed=0; fi
chmod 0644 ${CA_FILE}.xray
mv ${CA_FILE}.xray ${CA_FILE}
if command -v update-ca-certificates >/dev/null 2>&1; then
  bundle=/etc/ssl/certs/ca-certificates.crt
  if [ "$changed" = 1 ] || [ ! -e /etc/ssl/certs/xray-egress.pem ]; then
    if command -v openssl >/dev/null 2>&1 && [ -f "$bundle" ]; then
      ln -sf ${CA_FILE} /etc/ssl/certs/xray-egress.pem
      for old in $(ls -l /etc/ssl/certs | awk '$(NF - 1) == "->" && $NF == "xray-egress.pem" { print $(NF - 2) }'); do rm -f "/etc/ssl/certs/$old"; done
      hash=$(openssl x509 -hash -noout -in ${CA_FILE})
      n=0
      while [ -e "/etc/ssl/certs/$hash.$n" ]; do n=$((n + 1)); done
      ln -s xray-egress.pem "/etc/ssl/certs/$hash.$n"
      sed '/^${BUNDLE_BEGIN}$/,/^${BUNDLE_END}$/d' "$bundle" >"$bundle.xray"
      { echo '${BUNDLE_BEGIN}'; cat ${CA_FILE}; echo '${BUNDLE_END}'; } >>"$bundle.xray"
      chmod 0644 "$bundle.xray"
      mv "$bundle.xray" "$bundle"
    else
      update-ca-certificates >/dev/null
    fi
  fi
elif command -v update-ca-trust >/dev/null 2>&1; then
  anchor=/etc/pki/ca-trust/source/anchors/xray-egress.crt
  if ! cmp -s ${CA_FILE} "$anchor"; then
    cp ${CA_FILE} "$anchor"
    update-ca-trust extract
  fi
  bundle=/etc/pki/tls/certs/ca-bundle.crt
else
  echo "this guest has neither update-ca-certificates nor update-ca-trust" >&2
  exit 12
fi
touch /etc/environment
kept=$(sed '/^${BEGIN}$/,/^${END}$/d' /etc/environment)
{
  if [ -n "$kept" ]; then printf '%s\\n' "$kept"; fi
  echo '${BEGIN}'
  echo "NODE_EXTRA_CA_CERTS=${CA_FILE}"
  echo "REQUESTS_CA_BUNDLE=$bundle"
  echo "SSL_CERT_FILE=$bundle"
${variables === '' ? '' : `  cat <<'XRAY_EOF'\n${variables}\nXRAY_EOF\n`}  echo '${END}'
} >/etc/environment.xray
mv /etc/environment.xray /etc/environment
`;
}

/** egressFactsOf reads what a VM's guest is told from its files: its CA (made on first use) and its bindings. */
export function egressFactsOf(paths: HomePaths): (vm: string) => Promise<EgressFacts> {
  const bindings = new SecretBindings(new VmStore(paths));
  return async (vm) => {
    const ca = await VmCertificateAuthority.open(vm, paths.vm(vm).egressCa);
    const variables = Object.fromEntries((await bindings.list(vm)).map((b) => [b.env, b.placeholder]));
    return { caPem: ca.certificatePem, variables };
  };
}

async function run(ctx: BuiltInHookContext, script: string): Promise<void> {
  const session = await ctx.session();
  let stderr = '';
  const result = await session.exec('sudo -n sh -s', {
    stdin: script,
    timeoutMs: EGRESS_TIMEOUT_MS,
    onStdout: (text) => ctx.output('stdout', text),
    onStderr: (text) => {
      stderr += text;
      ctx.output('stderr', text);
    },
  });
  if (result.code !== 0) {
    const why = stderr.trim().split('\n').pop() || `exit code ${result.code}`;
    throw new XrayError('ssh', `Giving VM "${ctx.vm}" its egress certificate and secret placeholders failed (${why}); see the hook log.`);
  }
}

/** egressHook is the boot hook that installs the VM's CA and sets its placeholders in the guest. */
export function egressHook(options: EgressHookOptions): BuiltInHook {
  return {
    name: EGRESS_HOOK_NAME,
    type: 'boot',
    run: async (ctx) => run(ctx, egressScript(await options.egressFor(ctx.vm))),
  };
}
