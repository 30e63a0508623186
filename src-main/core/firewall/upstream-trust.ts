// Runs in: plain Node (core).
import { readFile } from 'node:fs/promises';
import * as tls from 'node:tls';
import { XrayError } from '../../shared/errors';
import { nodeCrypto } from '../builtins';

/**
 * SYSTEM_BUNDLES are where Linux distributions keep the system's trusted
 * certificates as one PEM file (Debian/Ubuntu/Arch, Fedora/RHEL, openSUSE,
 * Alpine's and older Fedora's paths), the first that exists being used.
 */
const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/var/lib/ca-certificates/ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

export interface UpstreamTrust {
  /** certificates are the PEM certificates a real server's chain must end in. */
  readonly certificates: readonly string[];
  /** source says where they came from, for the log. */
  readonly source: string;
}

export interface UpstreamTrustOptions {
  /** extraCaFile is config.toml's upstream_ca_file; XRAY_UPSTREAM_CA_FILE in `env` overrides it. */
  readonly extraCaFile: string | null;
  readonly env?: NodeJS.ProcessEnv;
  readonly platform?: NodeJS.Platform;
}

/**
 * upstreamTrust is what the egress proxy verifies real servers against: the
 * host's trust store, plus the certificates of one extra PEM file (config
 * `upstream_ca_file` or XRAY_UPSTREAM_CA_FILE, for a company CA or a test
 * server). The host's store is the system's where Node can read it
 * (`tls.getCACertificates('system')`, Node 22.15 and later, which includes
 * the macOS Keychain's roots), else the system bundle file on Linux, else
 * the Mozilla roots Node ships with.
 */
export async function upstreamTrust(options: UpstreamTrustOptions): Promise<UpstreamTrust> {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const base = await hostStore(platform);
  const extraFile = env.XRAY_UPSTREAM_CA_FILE || options.extraCaFile;
  if (!extraFile) return base;
  const extra = await readCertificates(extraFile, env.XRAY_UPSTREAM_CA_FILE ? 'XRAY_UPSTREAM_CA_FILE' : 'upstream_ca_file');
  return { certificates: [...base.certificates, ...extra], source: `${base.source} and ${extraFile}` };
}

type GetCaCertificates = (type: 'system') => string[];

async function hostStore(platform: NodeJS.Platform): Promise<UpstreamTrust> {
  const getCaCertificates = (tls as unknown as { getCACertificates?: GetCaCertificates }).getCACertificates;
  if (getCaCertificates) {
    const system = getCaCertificates('system');
    if (system.length > 0) return { certificates: system, source: "the system's trust store" };
  }
  if (platform === 'linux') {
    for (const file of SYSTEM_BUNDLES) {
      const text = await readFile(file, 'utf8').catch(() => null);
      if (text === null) continue;
      const certificates = splitPem(text);
      if (certificates.length > 0) return { certificates, source: file };
    }
  }
  return { certificates: tls.rootCertificates, source: "Node's bundled root certificates" };
}

async function readCertificates(file: string, setting: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new XrayError('invalid-argument', `${file} (from ${setting}) cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); point ${setting} at a PEM file of CA certificates.`, { cause: err });
  }
  const certificates = splitPem(text);
  const bad = certificates.findIndex((pem) => !parses(pem));
  if (certificates.length === 0 || bad !== -1) {
    throw new XrayError('invalid-argument', `${file} (from ${setting}) holds no readable PEM certificate${bad !== -1 ? ` (certificate ${bad + 1} is damaged)` : ''}; point ${setting} at a PEM file of CA certificates.`);
  }
  return certificates;
}

function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

function parses(pem: string): boolean {
  try {
    new (nodeCrypto().X509Certificate)(pem);
    return true;
  } catch {
    return false;
  }
}
