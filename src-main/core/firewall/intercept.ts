// Runs in: plain Node (core).
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import { type Duplex, type Readable, type Writable, pipeline } from 'node:stream';
import * as tls from 'node:tls';
import { type EgressReport, type PlaceholderPlace, describeEgressReport } from '../../shared/egress';
import type { Destination, RuleAction, SecretBinding } from '../../shared/models';
import { formatRuleTarget } from '../../shared/scopes';
import { bindingCoversHost } from '../secrets/bindings';
import { matchHttpRequest, normalizeRequestPath } from './http-rules';
import { PlaceholderScanner, maskValues } from './placeholder-scan';
import type { RuleSet } from './rules';
import { looksLikeTls, parseTlsAlpn, parseTlsSni, tlsHelloComplete } from './sniff';
import type { VmCertificateAuthority } from './tls-ca';
import type { UpstreamTrust } from './upstream-trust';

/**
 * intercept.ts is the egress proxy's HTTP layer for the few hosts that need
 * one: hosts a secret is bound to, and hosts with HTTP rules. For those, the
 * guest's TLS is terminated with a certificate from the VM's authority, each
 * request is checked and forwarded to the real server over a TLS connection
 * verified against the host's trust store, with the same ALPN protocol the
 * server chose (HTTP/1.1 or HTTP/2). Everything else stays end-to-end.
 */

/** EgressPolicy is what a VM's interception follows: its secret bindings and its rules (HTTP rules among them). */
export interface EgressPolicy {
  readonly bindings: readonly SecretBinding[];
  readonly rules: RuleSet;
}

/** Interception says why a connection is intercepted: the secrets bound to its host, and whether HTTP rules cover it. */
export interface Interception {
  readonly host: string;
  readonly bound: readonly SecretBinding[];
  readonly httpRules: boolean;
}

/**
 * interceptionFor decides, per connection, whether to intercept at all: only
 * a named destination with a secret bound to its name or an HTTP rule for
 * it, and only TLS (when the first bytes are known, they must begin a TLS
 * handshake). Null means relay the bytes untouched.
 */
export function interceptionFor(policy: EgressPolicy, destination: Destination, firstBytes?: Buffer): Interception | null {
  if (destination.name === null) return null;
  if (firstBytes !== undefined && firstBytes.length > 0 && !looksLikeTls(firstBytes)) return null;
  const host = destination.name;
  const bound = policy.bindings.filter((binding) => bindingCoversHost(binding, host));
  const httpRules = policy.rules.httpRules(destination).length > 0;
  if (bound.length === 0 && !httpRules) return null;
  return { host, bound, httpRules };
}

/** InterceptTarget is where an intercepted connection goes: the name it was decided for, the address and port to dial. */
export interface InterceptTarget {
  readonly name: string;
  readonly ip: string;
  readonly port: number;
}

/** AskedRequest is a request no HTTP rule covers, for the prompt to show with its method and path. */
export interface AskedRequest {
  readonly vm: string;
  readonly host: string;
  readonly port: number;
  readonly method: string;
  readonly path: string;
}

export interface InterceptorOptions {
  readonly vm: string;
  readonly ca: VmCertificateAuthority;
  readonly trust: UpstreamTrust;
  /** reveal reads a secret's value from the host's store (SecretStore.reveal). */
  readonly reveal: (secret: string) => Promise<string>;
  /** report receives every EgressReport: for the log, the notifications and the prompt. */
  readonly report: (report: EgressReport) => void;
  /** forwarded is told each request forwarded to the real server (learn mode records them); its path has placeholders masked and no query. */
  readonly forwarded?: (request: { host: string; port: number; method: string; path: string }) => void;
  /** ask decides a request no HTTP rule covers on a connection no host rule allowed; without it such requests are refused. */
  readonly ask?: (request: AskedRequest) => Promise<RuleAction>;
  readonly helloTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  /** secretCacheMs is how long a revealed value is kept in memory before it is read again; default 30 s. */
  readonly secretCacheMs?: number;
}

export interface InterceptedConnection {
  /** client is the guest's stream, after the SOCKS success reply. */
  readonly client: Duplex;
  /** firstBytes are what was read from it already (some or all of the TLS ClientHello); they are replayed. */
  readonly firstBytes: Buffer;
  readonly destination: InterceptTarget;
  readonly policy: EgressPolicy;
  /** unmatched is what a request no HTTP rule covers gets: `allow` when a host rule allowed the connection, `ask` otherwise. */
  readonly unmatched: 'allow' | 'ask';
}

export interface InterceptSummary {
  /** protocol is what was spoken with the guest, null when no TLS session was set up. */
  readonly protocol: 'h2' | 'http/1.1' | null;
  readonly requests: number;
  readonly refused: number;
  /** failure says why the connection ended early, if it did. */
  readonly failure: string | null;
}

/** HOP_BY_HOP are fields about one connection, never forwarded (RFC 9110 section 7.6.1, and HTTP/2's ban on them). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'http2-settings', 'host', 'expect']);
const HELLO_CAP = 64 * 1024;

type AnyRequest = http.IncomingMessage | http2.Http2ServerRequest;
type AnyResponse = http.ServerResponse | http2.Http2ServerResponse;

interface Upstream {
  request(method: string, target: string, authority: string, headers: http.OutgoingHttpHeaders): Promise<UpstreamExchange>;
  close(): void;
}

/** UpstreamExchange is one forwarded request: its body goes into `body`, its response comes back through `response`. */
interface UpstreamExchange {
  readonly body: Writable;
  readonly response: Promise<UpstreamResponse>;
  abort(): void;
}

interface UpstreamResponse {
  readonly status: number;
  readonly headers: http.OutgoingHttpHeaders;
  readonly stream: Readable;
  /** onTrailers calls back with trailing fields, as they arrive before the body ends (HTTP/2 only). */
  readonly onTrailers: (listener: (trailers: http.OutgoingHttpHeaders) => void) => void;
}

interface ConnectionState {
  readonly conn: InterceptedConnection;
  readonly scanner: PlaceholderScanner;
  readonly protocol: 'h2' | 'http/1.1';
  readonly upstream: Upstream | null;
  /** upstreamFailure is why the real server cannot be used; every request is answered 502 with it. */
  readonly upstreamFailure: string | null;
  requests: number;
  refused: number;
}

/**
 * Interceptor terminates and forwards intercepted connections of one VM.
 * The proxy calls `handle` with a connection `interceptionFor` chose; see
 * `handle` for what happens to each request.
 */
export class Interceptor {
  private readonly values = new Map<string, { value: string; until: number }>();

  constructor(private readonly options: InterceptorOptions) {}

  /**
   * handle serves one intercepted connection until it closes, and resolves
   * with what happened. Steps:
   *  1. Read the ClientHello (what `firstBytes` lacks of it): its server
   *     name must be the destination's, its ALPN offer is kept.
   *  2. Connect to the real server offering the same protocols, verifying
   *     its certificate against the host's trust store. A failure is
   *     reported and every request is answered 502 saying why.
   *  3. Answer the guest's handshake with a certificate for the name and
   *     the protocol the server chose, and serve HTTP/1.1 or HTTP/2.
   *  4. Per request: refuse (403, reported, connection closed) a placeholder
   *     outside its bound header and hosts, in the URL, or in the body (as
   *     it streams); refuse (421) a request naming another host; decide it
   *     by the HTTP rules, else by `unmatched`; put each bound secret into
   *     its header in place of the placeholder; forward it, bodies streamed
   *     both ways.
   */
  async handle(conn: InterceptedConnection): Promise<InterceptSummary> {
    const hello = await readHello(conn.client, conn.firstBytes, this.options.helloTimeoutMs ?? 10_000);
    if (hello === null) {
      conn.client.destroy();
      return { protocol: null, requests: 0, refused: 0, failure: 'the guest sent no TLS ClientHello' };
    }
    const name = conn.destination.name;
    const sni = parseTlsSni(hello);
    if (sni !== null && sni !== name) {
      this.options.report({ kind: 'request-refused', vm: this.options.vm, host: name, method: 'TLS', path: '', reason: `the connection asked for ${sni}, not the ${name} it was allowed for` });
      conn.client.destroy();
      return { protocol: null, requests: 0, refused: 1, failure: `TLS server name ${sni} is not ${name}` };
    }
    const offered = (parseTlsAlpn(hello) ?? []).filter((p) => p === 'h2' || p === 'http/1.1');
    const upstream = await this.connectUpstream(conn.destination, offered);
    const protocol: 'h2' | 'http/1.1' = upstream.ok ? (upstream.socket.alpnProtocol === 'h2' ? 'h2' : 'http/1.1') : offered.includes('http/1.1') || offered.length === 0 ? 'http/1.1' : 'h2';
    const state: ConnectionState = {
      conn,
      scanner: new PlaceholderScanner(conn.policy.bindings),
      protocol,
      upstream: upstream.ok ? (protocol === 'h2' ? this.h2Upstream(conn.destination, upstream.socket) : this.h1Upstream(conn.destination, upstream.socket)) : null,
      upstreamFailure: upstream.ok ? null : upstream.reason,
      requests: 0,
      refused: 0,
    };
    conn.client.unshift(hello);
    const guest = new tls.TLSSocket(conn.client, {
      isServer: true,
      secureContext: this.options.ca.serverCertificate(name).context,
      ...(offered.length > 0 ? { ALPNProtocols: [protocol] } : {}),
    });
    return new Promise<InterceptSummary>((resolve) => {
      let failure: string | null = upstream.ok ? null : upstream.reason;
      let secured = false;
      guest.setTimeout(this.options.idleTimeoutMs ?? 2 * 3600_000, () => guest.destroy());
      guest.on('error', (err: NodeJS.ErrnoException) => {
        failure ??= secured ? (err.code ?? err.message) : `the guest's TLS handshake failed (${err.code ?? err.message}); is the VM's CA installed in the guest?`;
      });
      guest.once('secure', () => {
        secured = true;
        this.serve(state, guest);
      });
      guest.once('close', () => {
        state.upstream?.close();
        conn.client.destroy();
        resolve({ protocol: secured ? protocol : null, requests: state.requests, refused: state.refused, failure });
      });
    });
  }

  private serve(state: ConnectionState, guest: tls.TLSSocket): void {
    const onRequest = (req: AnyRequest, res: AnyResponse): void => {
      state.requests += 1;
      // Only the code goes to the guest: an error's message is not ours to vouch for.
      this.onRequest(state, req, res).catch((err: NodeJS.ErrnoException) => {
        this.refuse(state, req, res, 502, `Xray could not forward this request (${err.code ?? 'internal error'}).`, false);
      });
    };
    if (state.protocol === 'h2') {
      // Node clears secureConnecting only on sockets a tls.Server made, and an
      // HTTP/2 session waits for a TLS socket that is still "connecting" to
      // emit secureConnect, which a server-side socket never does.
      Object.assign(guest, { secureConnecting: false });
      const server = http2.createServer({}, onRequest);
      server.on('sessionError', () => guest.destroy());
      server.emit('connection', guest);
    } else {
      const server = http.createServer({}, onRequest);
      server.on('clientError', (_err, socket) => socket.destroy());
      server.emit('connection', guest);
    }
  }

  private async onRequest(state: ConnectionState, req: AnyRequest, res: AnyResponse): Promise<void> {
    const { conn } = state;
    const host = conn.destination.name;
    const method = req.method ?? 'GET';
    const target = req.url ?? '';
    const shownPath = state.scanner.mask(target);
    if (state.upstreamFailure !== null) {
      this.refuse(state, req, res, 502, `Xray refused ${host}: ${state.upstreamFailure}.`, true);
      return;
    }
    const authority = authorityOf(req) ?? host;
    if (!sameAuthority(authority, host, conn.destination.port)) {
      this.reportAndRefuse(state, req, res, 421, { kind: 'request-refused', vm: this.options.vm, host, method, path: shownPath, reason: `the request names ${authority}, not ${host}` }, true);
      return;
    }
    const leak = this.findPlaceholder(state, req, target);
    if (leak.refused) {
      this.reportAndRefuse(state, req, res, 403, { kind: 'secret-refused', vm: this.options.vm, host, secret: leak.refused.secret, place: leak.refused.place, header: leak.refused.header, method, path: shownPath }, true);
      return;
    }
    const normalized = normalizeRequestPath(target);
    if (normalized === null) {
      this.reportAndRefuse(state, req, res, 400, { kind: 'request-refused', vm: this.options.vm, host, method, path: shownPath, reason: 'its target is not an absolute path such as /a/b?c' }, false);
      return;
    }
    const verdict = await this.decide(state, method, normalized.path);
    if (verdict.action === 'deny') {
      this.reportAndRefuse(state, req, res, 403, { kind: 'request-refused', vm: this.options.vm, host, method, path: state.scanner.mask(normalized.path + normalized.query), reason: verdict.reason }, false);
      return;
    }
    const headers = forwardHeaders(req);
    const injected: { secret: string; value: string }[] = [];
    for (const binding of leak.inject) {
      let value: string;
      try {
        value = await this.secretValue(binding.secret);
      } catch (err) {
        this.reportAndRefuse(state, req, res, 502, { kind: 'secret-unavailable', vm: this.options.vm, host, secret: binding.secret, reason: (err as Error).message }, false);
        return;
      }
      setHeader(headers, binding.header, binding.format.replace('{}', value));
      injected.push({ secret: binding.secret, value });
      this.options.report({ kind: 'secret-used', vm: this.options.vm, host, secret: binding.secret, header: binding.header, method, path: state.scanner.mask(normalized.path) });
    }
    // An answer carrying a secret must be readable to be masked, so it is asked for uncompressed.
    if (injected.length > 0) headers['accept-encoding'] = 'identity';
    this.options.forwarded?.({ host, port: conn.destination.port, method, path: state.scanner.mask(normalized.path) });
    await this.forward(state, req, res, method, normalized.path + normalized.query, authority, headers, injected);
  }

  /**
   * findPlaceholder looks for the VM's placeholders in the request head: a
   * placeholder in its own binding's header, to a host the binding covers,
   * is to be replaced; anywhere else it is refused.
   */
  private findPlaceholder(state: ConnectionState, req: AnyRequest, target: string): { inject: SecretBinding[]; refused: { secret: string; place: PlaceholderPlace; header: string | null } | null } {
    const { scanner, conn } = state;
    const inject: SecretBinding[] = [];
    if (scanner.empty) return { inject, refused: null };
    const inUrl = scanner.find(target)[0] ?? scanner.find(safeDecode(target))[0];
    if (inUrl !== undefined) return { inject, refused: { secret: inUrl, place: 'url', header: null } };
    const raw = req.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const field = raw[i] as string;
      if (field.toLowerCase() === ':path') continue;
      for (const secret of scanner.find(`${field}\n${raw[i + 1] as string}`)) {
        const binding = conn.policy.bindings.find((b) => b.secret === secret);
        const own = binding !== undefined && binding.header.toLowerCase() === field.toLowerCase();
        if (own && bindingCoversHost(binding, conn.destination.name)) {
          if (!inject.includes(binding)) inject.push(binding);
        } else {
          return { inject, refused: { secret, place: own ? 'host' : 'header', header: field } };
        }
      }
    }
    return { inject, refused: null };
  }

  private async decide(state: ConnectionState, method: string, path: string): Promise<{ action: RuleAction; reason: string }> {
    const { conn } = state;
    const destination: Destination = { ip: conn.destination.ip, port: conn.destination.port, name: conn.destination.name, nameSource: 'sni', service: null };
    const match = matchHttpRequest(conn.policy.rules, destination, method, path);
    if (match) return { action: match.action, reason: `rule ${formatRuleTarget(match.rule.target)}` };
    if (conn.unmatched === 'allow') return { action: 'allow', reason: 'host rule' };
    if (!this.options.ask) return { action: 'deny', reason: 'no rule allows this method and path' };
    const action = await this.options.ask({ vm: this.options.vm, host: conn.destination.name, port: conn.destination.port, method, path: state.scanner.mask(path) });
    return { action, reason: action === 'deny' ? 'denied when asked' : 'allowed when asked' };
  }

  /**
   * forward sends the request on, scanning its body for placeholders as it
   * streams, and streams the response back, with any secret the request
   * carried masked out of its headers and body.
   */
  private async forward(
    state: ConnectionState,
    req: AnyRequest,
    res: AnyResponse,
    method: string,
    target: string,
    authority: string,
    headers: http.OutgoingHttpHeaders,
    injected: readonly { secret: string; value: string }[],
  ): Promise<void> {
    const upstream = state.upstream as Upstream;
    const exchange = await upstream.request(method, target, authority, headers);
    let leaked = false;
    exchange.body.on('error', () => exchange.abort());
    res.once('close', () => {
      if (!res.writableFinished) exchange.abort();
    });
    if (state.scanner.empty) {
      req.pipe(exchange.body);
    } else {
      // Not pipeline(): it would destroy the guest's request, and with it the connection the refusal goes out on.
      const scan = state.scanner.stream((secret) => {
        leaked = true;
        exchange.abort();
        req.unpipe(scan);
        this.reportAndRefuse(state, req, res, 403, { kind: 'secret-refused', vm: this.options.vm, host: state.conn.destination.name, secret, place: 'body', header: null, method, path: state.scanner.mask(target) }, true);
        return new Error(`The body carries the placeholder of secret "${secret}".`);
      });
      scan.on('error', () => undefined);
      req.pipe(scan).pipe(exchange.body);
    }
    let response: UpstreamResponse;
    try {
      response = await exchange.response;
    } catch (err) {
      if (!leaked) this.refuse(state, req, res, 502, `Xray could not reach ${state.conn.destination.name}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, false);
      return;
    }
    if (leaked || res.headersSent) {
      response.stream.destroy();
      return;
    }
    const reported = new Set<string>();
    const masked = (secret: string): void => {
      if (reported.has(secret)) return;
      reported.add(secret);
      this.options.report({ kind: 'secret-masked', vm: this.options.vm, host: state.conn.destination.name, secret, method, path: state.scanner.mask(target) });
    };
    const clean = (fields: http.OutgoingHttpHeaders): http.OutgoingHttpHeaders => maskHeaders(stripHopByHop(fields), injected, masked);
    res.writeHead(response.status, clean(response.headers));
    response.onTrailers((trailers) => res.addTrailers(clean(trailers) as Record<string, string>));
    if (injected.length === 0) pipeline(response.stream, res as Writable, () => undefined);
    else pipeline(response.stream, maskValues(injected.map((i) => i.value), (index) => masked((injected[index] as { secret: string }).secret)), res as Writable, () => undefined);
  }

  /** reportAndRefuse reports what was refused and tells the guest the same sentence. */
  private reportAndRefuse(state: ConnectionState, req: AnyRequest, res: AnyResponse, status: number, report: EgressReport, close: boolean): void {
    this.options.report(report);
    this.refuse(state, req, res, status, `Xray refused this request. ${describeEgressReport(report)}`, close);
  }

  /** refuse answers a request with a short text; `close` ends the whole connection (an exfiltration attempt, a misdirected request). */
  private refuse(state: ConnectionState, req: AnyRequest, res: AnyResponse, status: number, text: string, close: boolean): void {
    state.refused += 1;
    req.resume();
    if (res.headersSent) {
      destroyExchange(req, res);
      return;
    }
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'text/plain; charset=utf-8', 'x-xray-refused': String(status) };
    if (close && state.protocol === 'http/1.1') headers.connection = 'close';
    res.writeHead(status, headers);
    res.end(`${text}\n`, () => {
      if (close && state.protocol === 'h2') (req as http2.Http2ServerRequest).stream.session?.close();
    });
  }

  /** secretValue reads a value through `reveal`, keeping it for secretCacheMs and then dropping it from memory. */
  private async secretValue(secret: string): Promise<string> {
    const cached = this.values.get(secret);
    if (cached && cached.until > Date.now()) return cached.value;
    const value = await this.options.reveal(secret);
    const keepMs = this.options.secretCacheMs ?? 30_000;
    this.values.set(secret, { value, until: Date.now() + keepMs });
    setTimeout(() => {
      if ((this.values.get(secret)?.until ?? Infinity) <= Date.now()) this.values.delete(secret);
    }, keepMs).unref();
    return value;
  }

  private tlsOptions(destination: InterceptTarget, alpn: readonly string[]): tls.ConnectionOptions {
    return {
      host: destination.ip,
      port: destination.port,
      servername: destination.name,
      ca: [...this.options.trust.certificates],
      ...(alpn.length > 0 ? { ALPNProtocols: [...alpn] } : {}),
    };
  }

  /** connectUpstream opens the verified TLS connection to the real server; a failure is reported once, here. */
  private connectUpstream(destination: InterceptTarget, alpn: readonly string[]): Promise<{ ok: true; socket: tls.TLSSocket } | { ok: false; reason: string }> {
    return new Promise((resolve) => {
      const socket = tls.connect(this.tlsOptions(destination, alpn));
      const timer = setTimeout(() => socket.destroy(new Error('the connection timed out')), this.options.connectTimeoutMs ?? 10_000);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        resolve({ ok: true, socket });
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const reason = upstreamReason(err);
        this.options.report({ kind: 'upstream-refused', vm: this.options.vm, host: destination.name, port: destination.port, reason });
        resolve({ ok: false, reason });
      });
    });
  }

  /** h1Upstream sends requests over the verified connection, one at a time, opening verified new ones as the server closes them. */
  private h1Upstream(destination: InterceptTarget, first: tls.TLSSocket): Upstream {
    let spare: tls.TLSSocket | null = first;
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    const connect = (): tls.TLSSocket => {
      const socket = spare !== null && !spare.destroyed ? spare : tls.connect(this.tlsOptions(destination, ['http/1.1']));
      spare = null;
      return socket;
    };
    (agent as unknown as { createConnection: () => tls.TLSSocket }).createConnection = connect;
    return {
      request: async (method, target, authority, headers) => {
        const request = https.request({ agent, method, path: target, headers: { ...headers, host: authority } });
        const response = new Promise<UpstreamResponse>((resolve, reject) => {
          request.once('response', (upstream) => {
            resolve({ status: upstream.statusCode ?? 502, headers: upstream.headers, stream: upstream, onTrailers: () => undefined });
          });
          request.once('error', (err: NodeJS.ErrnoException) => {
            if (isCertificateError(err)) this.options.report({ kind: 'upstream-refused', vm: this.options.vm, host: destination.name, port: destination.port, reason: upstreamReason(err) });
            reject(err);
          });
        });
        return { body: request, response, abort: () => request.destroy() };
      },
      close: () => {
        spare?.destroy();
        agent.destroy();
      },
    };
  }

  /** h2Upstream multiplexes requests over one verified HTTP/2 session, opening a new one when the server ends it. */
  private h2Upstream(destination: InterceptTarget, first: tls.TLSSocket): Upstream {
    let spare: tls.TLSSocket | null = first;
    let session: http2.ClientHttp2Session | null = null;
    const open = (): http2.ClientHttp2Session => {
      if (session !== null && !session.closed && !session.destroyed) return session;
      const socket = spare ?? tls.connect(this.tlsOptions(destination, ['h2']));
      spare = null;
      const opened = http2.connect(`https://${destination.name}:${destination.port}`, { createConnection: () => socket });
      opened.on('error', (err: NodeJS.ErrnoException) => {
        if (isCertificateError(err)) this.options.report({ kind: 'upstream-refused', vm: this.options.vm, host: destination.name, port: destination.port, reason: upstreamReason(err) });
      });
      session = opened;
      return opened;
    };
    return {
      request: async (method, target, authority, headers) => {
        const stream = open().request({ ...headers, ':method': method, ':path': target, ':authority': authority, ':scheme': 'https' });
        const response = new Promise<UpstreamResponse>((resolve, reject) => {
          stream.once('response', (head) => {
            const { ':status': status, ...rest } = head;
            resolve({ status: Number(status ?? 502), headers: rest as http.OutgoingHttpHeaders, stream, onTrailers: (listener) => stream.once('trailers', (t) => listener(t as http.OutgoingHttpHeaders)) });
          });
          stream.once('error', reject);
        });
        return { body: stream, response, abort: () => stream.close(http2.constants.NGHTTP2_CANCEL) };
      },
      close: () => {
        spare?.destroy();
        session?.destroy();
      },
    };
  }
}

/** readHello gathers the ClientHello: `first` plus what the client sends until it is complete, bounded in size and time. */
function readHello(client: Duplex, first: Buffer, timeoutMs: number): Promise<Buffer | null> {
  if (tlsHelloComplete(first)) return Promise.resolve(first);
  if (first.length > 0 && !looksLikeTls(first)) return Promise.resolve(null);
  return new Promise((resolve) => {
    let buffered = first;
    const finish = (result: Buffer | null): void => {
      clearTimeout(timer);
      client.removeListener('data', onData);
      client.removeListener('end', onEnd);
      client.removeListener('close', onEnd);
      client.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      if (!looksLikeTls(buffered) || buffered.length > HELLO_CAP) finish(null);
      else if (tlsHelloComplete(buffered)) finish(buffered);
    };
    const onEnd = (): void => finish(null);
    const timer = setTimeout(onEnd, timeoutMs);
    client.on('data', onData);
    client.once('end', onEnd);
    client.once('close', onEnd);
    client.resume();
  });
}

function authorityOf(req: AnyRequest): string | null {
  const value = req.headers[':authority'] ?? req.headers.host;
  return typeof value === 'string' && value !== '' ? value : null;
}

/** sameAuthority tells whether a Host or :authority names the destination (a port, if given, must be its port). */
function sameAuthority(authority: string, host: string, port: number): boolean {
  const match = /^([^:[\]]+)(?::(\d+))?$/.exec(authority.trim().toLowerCase());
  if (!match) return false;
  const name = (match[1] as string).replace(/\.$/, '');
  return name === host && (match[2] === undefined || Number(match[2]) === port);
}

function forwardHeaders(req: AnyRequest): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [field, value] of Object.entries(req.headers)) {
    if (field.startsWith(':') || value === undefined) continue;
    if (field === 'te' && value === 'trailers') out.te = value;
    else if (!HOP_BY_HOP.has(field)) out[field] = value;
  }
  return out;
}

function stripHopByHop(headers: http.OutgoingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [field, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(field) && !field.startsWith(':') && value !== undefined) out[field] = value;
  return out;
}

/** maskHeaders overwrites the values of `injected` wherever they appear in response fields. */
function maskHeaders(fields: http.OutgoingHttpHeaders, injected: readonly { secret: string; value: string }[], masked: (secret: string) => void): http.OutgoingHttpHeaders {
  if (injected.length === 0) return fields;
  const scrub = (text: string): string => {
    let out = text;
    for (const { secret, value } of injected) {
      if (!out.includes(value)) continue;
      out = out.split(value).join('*'.repeat(value.length));
      masked(secret);
    }
    return out;
  };
  const out: http.OutgoingHttpHeaders = {};
  for (const [field, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    out[field] = Array.isArray(value) ? value.map(scrub) : typeof value === 'string' ? scrub(value) : value;
  }
  return out;
}

function setHeader(headers: http.OutgoingHttpHeaders, field: string, value: string): void {
  for (const existing of Object.keys(headers)) if (existing.toLowerCase() === field.toLowerCase()) delete headers[existing];
  headers[field.toLowerCase()] = value;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

function destroyExchange(req: AnyRequest, res: AnyResponse): void {
  if ('stream' in req) req.stream.close(http2.constants.NGHTTP2_CANCEL);
  else (res as http.ServerResponse).destroy();
}

function isCertificateError(err: NodeJS.ErrnoException): boolean {
  const code = err.code ?? '';
  return /CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH/.test(code);
}

/** upstreamReason says in words why the real server was refused; a bad certificate is named as such. */
function upstreamReason(err: NodeJS.ErrnoException): string {
  const code = err.code ?? err.message;
  return isCertificateError(err) ? `its certificate failed verification against the host's trust store (${code})` : `it could not be reached (${code})`;
}
