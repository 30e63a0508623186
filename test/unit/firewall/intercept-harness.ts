// Test helper: an egress interceptor in front of a real HTTPS "API" server,
// as the proxy would place it, on 127.0.0.1. The server has its own CA (made
// with openssl, trusted through upstream_ca_file as the documented setting
// says) and records what reached it; clients trust only the VM's CA.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import { type AddressInfo, type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EgressReport } from '../../../src-main/shared/egress';
import type { SecretBinding } from '../../../src-main/shared/models';
import { type EgressPolicy, type InterceptSummary, Interceptor } from '../../../src-main/core/firewall/intercept';
import { RuleSet } from '../../../src-main/core/firewall/rules';
import { VmCertificateAuthority } from '../../../src-main/core/firewall/tls-ca';
import { upstreamTrust } from '../../../src-main/core/firewall/upstream-trust';
import { HomePaths } from '../../../src-main/core/paths';
import { makePlaceholder } from '../../../src-main/core/secrets/bindings';

/** Seen is one request as the API server received it. */
export interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface InterceptHarness {
  readonly secret: string;
  readonly binding: SecretBinding;
  /** vmCa is the VM's CA certificate (PEM), the only one a guest client trusts. */
  readonly vmCa: string;
  /** proxyPort is where a client connects as if to api.test:443. */
  readonly proxyPort: number;
  readonly seen: Seen[];
  readonly reports: EgressReport[];
  readonly summaries: InterceptSummary[];
  close(): Promise<void>;
}

/** startInterceptHarness starts the API server (HTTP/2 and HTTP/1.1), the interceptor for api.test with `secret` bound to Authorization, and the proxy socket. */
export async function startInterceptHarness(secret: string, policy: Partial<EgressPolicy> = {}): Promise<InterceptHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'xray-intercept-harness-'));
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=Harness CA', '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  openssl(['req', ...ec, '-keyout', 'api.key', '-out', 'api.csr', '-subj', '/CN=api.test']);
  writeFileSync(join(dir, 'api.ext'), 'subjectAltName=DNS:api.test\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'api.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '3', '-days', '2', '-extfile', 'api.ext', '-out', 'api.pem']);

  const seen: Seen[] = [];
  const reports: EgressReport[] = [];
  const summaries: InterceptSummary[] = [];
  const api = http2.createSecureServer({ key: readFileSync(join(dir, 'api.key')), cert: readFileSync(join(dir, 'api.pem')), allowHTTP1: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  const apiPort = (api.address() as AddressInfo).port;

  const ca = await VmCertificateAuthority.open('box', new HomePaths(dir).vm('box').egressCa);
  const binding: SecretBinding = { secret: 'github', hosts: ['api.test'], header: 'Authorization', format: 'Bearer {}', placeholder: makePlaceholder('github'), env: 'GITHUB_TOKEN' };
  const interceptor = new Interceptor({
    vm: 'box',
    ca,
    trust: await upstreamTrust({ extraCaFile: join(dir, 'ca.pem'), env: {} }),
    reveal: async () => secret,
    report: (report) => reports.push(report),
    helloTimeoutMs: 2000,
    idleTimeoutMs: 5000,
  });
  const fullPolicy: EgressPolicy = { bindings: [binding], rules: new RuleSet(), ...policy };
  const proxy: Server = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    void interceptor
      .handle({ client: socket, firstBytes: Buffer.alloc(0), destination: { name: 'api.test', ip: '127.0.0.1', port: apiPort }, policy: fullPolicy, unmatched: 'allow' })
      .then((summary) => summaries.push(summary));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));

  return {
    secret,
    binding,
    vmCa: ca.certificatePem,
    proxyPort: (proxy.address() as AddressInfo).port,
    seen,
    reports,
    summaries,
    async close() {
      proxy.close();
      api.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
