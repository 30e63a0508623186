// The egress interceptor with real sockets on 127.0.0.1: a test "API" server
// under its own CA (made with openssl), the interceptor in front of it as the
// proxy would place it, and curl or Node clients that trust only the VM's CA.
import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import { type AddressInfo, type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EgressReport } from '../../../src-main/shared/egress';
import type { Destination, SecretBinding } from '../../../src-main/shared/models';
import { type EgressPolicy, type InterceptSummary, Interceptor, interceptionFor } from '../../../src-main/core/firewall/intercept';
import { PromptBroker } from '../../../src-main/core/firewall/prompts';
import { requestAsker } from '../../../src-main/core/firewall/request-prompts';
import { parseRuleTarget } from '../../../src-main/core/firewall/rule-target';
import { RuleSet } from '../../../src-main/core/firewall/rules';
import { VmCertificateAuthority } from '../../../src-main/core/firewall/tls-ca';
import { upstreamTrust } from '../../../src-main/core/firewall/upstream-trust';
import { HomePaths } from '../../../src-main/core/paths';
import { makePlaceholder } from '../../../src-main/core/secrets/bindings';
import { SecretStore } from '../../../src-main/core/secrets/store';
import type { XrayEvent } from '../../../src-main/shared/contract';
import { waitFor } from '../../helpers/wait';

const SECRET = 'ghp_TheRealTokenThatMustNeverReachTheGuest42';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly version: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

let dir: string;
let vmCaFile: string;
let seen: Seen[];
let reports: EgressReport[];
let summaries: InterceptSummary[];
const servers: { close(): void }[] = [];
let apiPort: number;
let h1OnlyPort: number;
let roguePort: number;
let proxyPort: number;
/** askingPort is a second proxy whose interceptor asks `broker` about requests no rule covers, as the supervisor's does. */
let askingPort: number;
let broker: PromptBroker;
let brokerEvents: XrayEvent[];
let interceptor: Interceptor;
let github: SecretBinding;
/** route is where the proxy sends the next connection, as the firewall would have decided it. */
let route: { name: string; port: number; policy: EgressPolicy; unmatched: 'allow' | 'ask' };

/** testPki makes the API server's CA and certificate (for api.test and other.test), and a rogue self-signed one, with openssl. */
function testPki(): { ca: string; key: string; cert: string; rogueKey: string; rogueCert: string } {
  const at = (file: string) => join(dir, file);
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'upstream-ca.key', '-out', 'upstream-ca.pem', '-subj', '/CN=Test Upstream CA', '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  openssl(['req', ...ec, '-keyout', 'api.key', '-out', 'api.csr', '-subj', '/CN=api.test']);
  writeFileSync(at('api.ext'), 'subjectAltName=DNS:api.test,DNS:other.test\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'api.csr', '-CA', 'upstream-ca.pem', '-CAkey', 'upstream-ca.key', '-set_serial', '7', '-days', '2', '-extfile', 'api.ext', '-out', 'api.pem']);
  openssl(['req', '-x509', ...ec, '-keyout', 'rogue.key', '-out', 'rogue.pem', '-subj', '/CN=api.test', '-days', '2', '-addext', 'subjectAltName=DNS:api.test']);
  const read = (file: string) => readFileSync(at(file), 'utf8');
  return { ca: at('upstream-ca.pem'), key: read('api.key'), cert: read('api.pem'), rogueKey: read('rogue.key'), rogueCert: read('rogue.pem') };
}

/** api answers like a small JSON API and records what reached it: /bytes?n=N sends N bytes, /sha256 hashes the body, /echo sends the request's headers back. */
function api(req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    seen.push({ method: req.method ?? '', url: req.url ?? '', version: req.httpVersion, headers: req.headers, body });
    const url = new URL(req.url ?? '/', 'https://api.test');
    if (url.pathname === '/bytes') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.alloc(Number(url.searchParams.get('n')), 7));
    } else if (url.pathname === '/echo') {
      res.writeHead(200, { 'content-type': 'application/json', 'x-echo': String(req.headers.authorization) });
      res.end(JSON.stringify({ headers: req.headers }));
    } else if (url.pathname === '/sha256') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(createHash('sha256').update(body).digest('hex'));
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'api' });
      res.end('{"ok":true}');
    }
  });
}

async function listen(server: { listen(port: number, host: string, done: () => void): unknown; address(): AddressInfo | string | null; close(): unknown }): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({ close: () => server.close() });
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xray-intercept-'));
  const pki = testPki();
  apiPort = await listen(http2.createSecureServer({ key: pki.key, cert: pki.cert, allowHTTP1: true }, api));
  h1OnlyPort = await listen(https.createServer({ key: pki.key, cert: pki.cert }, api));
  roguePort = await listen(https.createServer({ key: pki.rogueKey, cert: pki.rogueCert }, api));
  const ca = await VmCertificateAuthority.open('box', new HomePaths(dir).vm('box').egressCa);
  vmCaFile = join(dir, 'vm-ca.pem');
  writeFileSync(vmCaFile, ca.certificatePem);
  const home = new HomePaths(join(dir, 'home'));
  const secrets = new SecretStore(home, { env: { XRAY_SECRET_BACKEND: 'file' } });
  await secrets.set('github', SECRET);
  github = { secret: 'github', hosts: ['api.test'], header: 'Authorization', format: 'Bearer {}', placeholder: makePlaceholder('github'), env: 'GITHUB_TOKEN' };
  interceptor = new Interceptor({
    vm: 'box',
    ca,
    // The documented setting: upstream_ca_file in config.toml, here as the test's own CA.
    trust: await upstreamTrust({ extraCaFile: pki.ca, env: {} }),
    reveal: (name) => secrets.reveal(name),
    report: (report) => reports.push(report),
  });
  const proxyFor = (through: Interceptor): Server =>
    createServer((socket) => {
      void through
        .handle({ client: socket, firstBytes: Buffer.alloc(0), destination: { name: route.name, ip: '127.0.0.1', port: route.port }, policy: route.policy, unmatched: route.unmatched })
        .then((summary) => summaries.push(summary));
    });
  proxyPort = await listen(proxyFor(interceptor));
  broker = new PromptBroker({ emit: (e) => brokerEvents.push(e), clientCount: () => 1, rulesFor: () => route.policy.rules, persist: async () => undefined, updateDelayMs: 5 });
  const asking = new Interceptor({
    vm: 'box',
    ca,
    trust: await upstreamTrust({ extraCaFile: pki.ca, env: {} }),
    reveal: (name) => secrets.reveal(name),
    report: (report) => reports.push(report),
    ask: requestAsker(broker),
  });
  askingPort = await listen(proxyFor(asking));
});

afterAll(async () => {
  for (const server of servers) server.close();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  seen = [];
  reports = [];
  summaries = [];
  brokerEvents = [];
  route = { name: 'api.test', port: apiPort, policy: { bindings: [github], rules: new RuleSet() }, unmatched: 'allow' };
});

interface CurlResult {
  readonly status: number;
  readonly version: string;
  readonly body: string;
}

/** curl sends one request as a guest would, trusting only the VM's CA; the proxy stands where api.test resolves. */
function curl(path: string, options: { method?: string; headers?: string[]; data?: string; http2?: boolean; host?: string; via?: number } = {}): Promise<CurlResult> {
  const host = options.host ?? route.name;
  const args = [
    '-sS',
    '--cacert', vmCaFile,
    '--connect-to', `${host}:${route.port}:127.0.0.1:${options.via ?? proxyPort}`,
    options.http2 ? '--http2' : '--http1.1',
    '-X', options.method ?? 'GET',
    ...(options.headers ?? []).flatMap((h) => ['-H', h]),
    ...(options.data !== undefined ? ['--data-binary', options.data] : []),
    '-w', '\n%{http_code} %{http_version}',
    `https://${host}:${route.port}${path}`,
  ];
  return new Promise((resolve, reject) => {
    execFile('curl', args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`curl failed: ${stderr}`));
      const cut = stdout.lastIndexOf('\n');
      const [status = '0', version = ''] = stdout.slice(cut + 1).split(' ');
      resolve({ status: Number(status), version, body: stdout.slice(0, cut) });
    });
  });
}

/** nodeRequest sends a request with Node's https client, the body written in the given chunks with a pause between them. */
function nodeRequest(method: string, path: string, chunks: Buffer[]): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: proxyPort, servername: route.name, ca: readFileSync(vmCaFile), method, path, agent: false, headers: { host: `${route.name}:${route.port}` } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    const write = (i: number): void => {
      if (i === chunks.length) {
        req.end();
        return;
      }
      req.write(chunks[i]);
      setTimeout(() => write(i + 1), 30);
    };
    write(0);
  });
}

const dest = (name: string | null): Destination => ({ ip: '192.0.2.1', port: 443, name, nameSource: 'sni', service: null });

describe('interceptionFor', () => {
  const rules = new RuleSet();
  rules.add({ target: parseRuleTarget('ruled.test GET /x/*'), action: 'allow', lifetime: { kind: 'forever' } });
  rules.add({ target: parseRuleTarget('plain.test'), action: 'allow', lifetime: { kind: 'forever' } });
  const binding: SecretBinding = { secret: 'github', hosts: ['api.test', '*.cdn.test'], header: 'Authorization', format: '{}', placeholder: makePlaceholder('github'), env: 'T' };
  const policy: EgressPolicy = { bindings: [binding], rules };

  it('leaves a host with neither a binding nor an HTTP rule alone, a host rule notwithstanding', () => {
    expect(interceptionFor(policy, dest('plain.test'))).toBeNull();
  });

  it('intercepts a host a secret is bound to, by name or *.domain', () => {
    expect(interceptionFor(policy, dest('api.test'))).toEqual({ host: 'api.test', bound: [binding], httpRules: false });
    expect(interceptionFor(policy, dest('img.cdn.test'))?.bound).toEqual([binding]);
  });

  it('intercepts a host an HTTP rule covers', () => {
    expect(interceptionFor(policy, dest('ruled.test'))).toEqual({ host: 'ruled.test', bound: [], httpRules: true });
  });

  it('leaves alone what has no name, and what is not TLS', () => {
    expect(interceptionFor(policy, dest(null))).toBeNull();
    expect(interceptionFor(policy, dest('api.test'), Buffer.from('GET / HTTP/1.1\r\nHost: api.test\r\n\r\n'))).toBeNull();
  });
});

describe('Interceptor', () => {
  it('puts the secret into the bound header, formatted, and the guest never sees it', async () => {
    const result = await curl('/user', { headers: [`Authorization: token ${github.placeholder}`] });
    expect(result.status).toBe(200);
    expect(result.body).toBe('{"ok":true}');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(reports).toEqual([{ kind: 'secret-used', vm: 'box', host: 'api.test', secret: 'github', header: 'Authorization', method: 'GET', path: '/user' }]);
  });

  it('masks the secret in an answer that echoes it, asking for it uncompressed, and reports that', async () => {
    for (const http2 of [false, true]) {
      const result = await curl('/echo', { http2, headers: [`Authorization: Bearer ${github.placeholder}`, 'Accept-Encoding: gzip'] });
      expect(result.status).toBe(200);
      expect(result.body).not.toContain(SECRET);
      expect(result.body).toContain(`Bearer ${'*'.repeat(SECRET.length)}`);
    }
    expect(seen.map((s) => s.headers['accept-encoding'])).toEqual(['identity', 'identity']);
    expect(reports.filter((r) => r.kind === 'secret-masked')).toEqual([
      { kind: 'secret-masked', vm: 'box', host: 'api.test', secret: 'github', method: 'GET', path: '/echo' },
      { kind: 'secret-masked', vm: 'box', host: 'api.test', secret: 'github', method: 'GET', path: '/echo' },
    ]);
  });

  it('refuses the placeholder in another header, saying which secret and where, and closes the connection', async () => {
    const result = await curl('/user', { headers: [`X-Debug: ${github.placeholder}`] });
    expect(result.status).toBe(403);
    expect(result.body).toContain('tried to send secret "github" to api.test in the X-Debug header');
    expect(seen).toEqual([]);
    expect(reports).toEqual([{ kind: 'secret-refused', vm: 'box', host: 'api.test', secret: 'github', place: 'header', header: 'X-Debug', method: 'GET', path: '/user' }]);
  });

  it('refuses the placeholder in the URL, percent-encoded or not', async () => {
    const encoded = encodeURIComponent(github.placeholder);
    const result = await curl(`/search?q=${encoded}`);
    expect(result.status).toBe(403);
    expect(seen).toEqual([]);
    expect(reports).toMatchObject([{ kind: 'secret-refused', secret: 'github', place: 'url', path: '/search?q=xray%3Agithub%3A…' }]);
  });

  it('refuses the placeholder in the body, split across two writes, before all of it reaches the server', async () => {
    const body = Buffer.from(`{"comment":"my token is ${github.placeholder}"}`);
    const cut = body.indexOf(github.placeholder) + 20;
    const result = await nodeRequest('POST', '/repos/acme/x/issues', [body.subarray(0, cut), body.subarray(cut)]);
    expect(result.status).toBe(403);
    expect(result.body.toString()).toContain('tried to send secret "github" to api.test in the request body');
    const token = github.placeholder.split(':')[2] as string;
    expect(seen.every((s) => !s.body.toString().includes(token))).toBe(true);
    expect(reports).toMatchObject([{ kind: 'secret-refused', secret: 'github', place: 'body', method: 'POST' }]);
  });

  it('refuses the placeholder sent to another intercepted host, even in the bound header', async () => {
    const rules = new RuleSet();
    rules.add({ target: parseRuleTarget('other.test /*'), action: 'allow', lifetime: { kind: 'forever' } });
    route = { name: 'other.test', port: apiPort, policy: { bindings: [github], rules }, unmatched: 'ask' };
    const result = await curl('/collect', { headers: [`Authorization: Bearer ${github.placeholder}`] });
    expect(result.status).toBe(403);
    expect(seen).toEqual([]);
    expect(reports).toEqual([{ kind: 'secret-refused', vm: 'box', host: 'other.test', secret: 'github', place: 'host', header: 'Authorization', method: 'GET', path: '/collect' }]);
  });

  it('answers 403 to a method and path no rule allows, and lets an allowed one through', async () => {
    const rules = new RuleSet();
    rules.add({ target: parseRuleTarget('api.test GET,POST /repos/acme/*'), action: 'allow', lifetime: { kind: 'forever' } });
    route = { ...route, policy: { bindings: [github], rules }, unmatched: 'ask' };
    expect((await curl('/repos/acme/widgets')).status).toBe(200);
    const denied = await curl('/repos/acme/../other/secrets');
    expect(denied.status).toBe(403);
    expect((await curl('/repos/acme/widgets', { method: 'DELETE' })).status).toBe(403);
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /repos/acme/widgets']);
    expect(reports).toEqual([
      { kind: 'request-refused', vm: 'box', host: 'api.test', method: 'GET', path: '/repos/other/secrets', reason: 'no rule allows this method and path' },
      { kind: 'request-refused', vm: 'box', host: 'api.test', method: 'DELETE', path: '/repos/acme/widgets', reason: 'no rule allows this method and path' },
    ]);
  });

  it('asks about a request no rule covers, showing method and path; identical requests share the prompt and an answer that lasts decides the next', async () => {
    const rules = new RuleSet();
    rules.add({ target: parseRuleTarget('api.test GET /repos/acme/*'), action: 'allow', lifetime: { kind: 'forever' } });
    route = { ...route, policy: { bindings: [github], rules }, unmatched: 'ask' };
    const via = askingPort;
    expect((await curl('/repos/acme/widgets', { via })).status).toBe(200);
    expect(broker.list()).toEqual([]);
    const both = [curl('/gists?public=1', { method: 'POST', data: 'one', via }), curl('/gists', { method: 'POST', data: 'two', http2: true, via })];
    const prompt = await waitFor('both requests to wait on one prompt', () => broker.list().find((p) => p.waitingConnections === 2));
    expect(prompt).toMatchObject({ vm: 'box', destination: { name: 'api.test', ip: '127.0.0.1', port: apiPort }, request: { method: 'POST', path: '/gists' } });
    expect(broker.list()).toHaveLength(1);
    expect(seen.map((s) => s.url)).toEqual(['/repos/acme/widgets']);
    await broker.answer({ id: prompt.id, action: 'allow', scope: 'request', lifetime: 'until-stop' });
    expect((await Promise.all(both)).map((r) => r.status)).toEqual([200, 200]);
    expect(seen.map((s) => `${s.method} ${s.url} ${s.body.toString()}`).sort()).toEqual(['GET /repos/acme/widgets ', 'POST /gists two', 'POST /gists?public=1 one']);
    expect(rules.httpRules(dest('api.test')).map((r) => r.id).sort()).toEqual(['api.test GET /repos/acme/*', 'api.test POST /gists']);
    expect((await curl('/gists', { method: 'POST', data: 'three', via })).status).toBe(200);
    expect(brokerEvents.filter((e) => e.type === 'prompt.opened')).toHaveLength(1);
  });

  it('refuses a request the user denies when asked, or that nobody answers, saying so to the guest', async () => {
    route = { ...route, policy: { bindings: [github], rules: new RuleSet() }, unmatched: 'ask' };
    const pending = curl('/repos/acme/widgets', { method: 'DELETE', via: askingPort });
    const prompt = await waitFor('a prompt for the DELETE', () => broker.list()[0]);
    expect(prompt.request).toEqual({ method: 'DELETE', path: '/repos/acme/widgets' });
    await broker.answer({ id: prompt.id, action: 'deny', lifetime: 'once' });
    const denied = await pending;
    expect(denied.status).toBe(403);
    expect(denied.body).toBe('Xray refused this request. VM "box" was refused DELETE api.test/repos/acme/widgets: denied when asked.\n');
    broker.configure({ defaultAction: 'deny' });
    try {
      expect((await curl('/other', { via: askingPort })).body).toContain('was refused GET api.test/other: unknown requests are denied (default_action).');
    } finally {
      broker.configure({ defaultAction: 'ask' });
    }
    expect(seen).toEqual([]);
    expect(reports.map((r) => r.kind)).toEqual(['request-refused', 'request-refused']);
    expect(route.policy.rules.list()).toEqual([]);
  });

  it('speaks HTTP/2 end to end when the server offers it, the secret included', async () => {
    const result = await curl('/user', { http2: true, headers: [`Authorization: Bearer ${github.placeholder}`] });
    expect(result).toEqual({ status: 200, version: '2', body: '{"ok":true}' });
    expect(seen[0]?.version).toBe('2.0');
    expect(seen[0]?.headers.authorization).toBe(`Bearer ${SECRET}`);
  });

  it('keeps the server\'s ALPN choice: HTTP/1.1 to the guest when the server has no HTTP/2', async () => {
    route = { ...route, port: h1OnlyPort };
    const result = await curl('/user', { http2: true });
    expect(result.version).toBe('1.1');
    expect(seen[0]?.version).toBe('1.1');
  });

  it('refuses a server whose certificate the host does not trust, reporting it and telling the guest', async () => {
    route = { ...route, port: roguePort };
    const result = await curl('/user');
    expect(result.status).toBe(502);
    expect(result.body).toContain("its certificate failed verification against the host's trust store");
    expect(seen).toEqual([]);
    expect(reports).toMatchObject([{ kind: 'upstream-refused', host: 'api.test', port: roguePort, reason: expect.stringContaining('SELF_SIGNED_CERT') as unknown }]);
  });

  it('refuses a request that names another host than its connection (421)', async () => {
    const result = await curl('/user', { headers: ['Host: evil.test'] });
    expect(result.status).toBe(421);
    expect(seen).toEqual([]);
    expect(reports).toMatchObject([{ kind: 'request-refused', reason: 'the request names evil.test, not api.test' }]);
  });

  it('streams a large body each way intact', async () => {
    const upload = randomBytes(3 * 1024 * 1024);
    const chunks = Array.from({ length: 6 }, (_, i) => upload.subarray(i * 512 * 1024, (i + 1) * 512 * 1024));
    const hashed = await nodeRequest('POST', '/sha256', chunks);
    expect(hashed.body.toString()).toBe(createHash('sha256').update(upload).digest('hex'));
    const download = await nodeRequest('GET', '/bytes?n=4000000', []);
    expect(download.body.length).toBe(4_000_000);
  });

  it('never puts the secret in a report, a summary or a refusal the guest reads', async () => {
    const answers = [
      await curl('/user', { headers: [`Authorization: Bearer ${github.placeholder}`] }),
      await curl('/user', { headers: [`Authorization: Bearer ${github.placeholder}`, `Cookie: t=${github.placeholder}`] }),
      await curl(`/x?${github.placeholder}`),
    ];
    route = { ...route, port: roguePort };
    answers.push(await curl('/user', { headers: [`Authorization: Bearer ${github.placeholder}`] }));
    expect(answers.map((a) => a.status)).toEqual([200, 403, 403, 502]);
    const everything = JSON.stringify({ answers, reports, summaries });
    expect(reports.map((r) => r.kind)).toEqual(['secret-used', 'secret-refused', 'secret-refused', 'upstream-refused']);
    expect(everything).not.toContain(SECRET);
  });
});
