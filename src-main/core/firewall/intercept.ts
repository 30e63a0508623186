// Runs in: plain Node (core).
import * as http from 'node:http';
import * as http2 from 'node:http2';
import { Socket } from 'node:net';
import { type Writable, pipeline } from 'node:stream';
import * as tls from 'node:tls';
import { type EgressReport, describeEgressReport } from '../../shared/egress';
import type { Destination, RuleAction } from '../../shared/models';
import { formatRuleTarget } from '../../shared/scopes';
import { matchHttpRequest, normalizeRequestPath } from './http-rules';
import type { InterceptSummary, InterceptedConnection, InterceptorOptions } from './intercept-types';
import { UpstreamConnector, type Upstream, type UpstreamResponse } from './intercept-upstream';
import { type AnyRequest, type AnyResponse, authorityOf, destroyExchange, forwardHeaders, maskHeaders, placeholdersInHead, readHello, sameAuthority, setHeader, stripHopByHop } from './intercept-wire';
import { PlaceholderScanner, maskValues } from './placeholder-scan';
import { parseTlsAlpn, parseTlsSni } from './sniff';

export { interceptionFor } from './intercept-types';
export type { AskedRequest, EgressPolicy, InterceptSummary, InterceptTarget, InterceptedConnection, Interception, InterceptorOptions } from './intercept-types';

/**
 * intercept.ts is the egress proxy's HTTP layer for the few hosts that need
 * one: hosts a secret is bound to, and hosts with HTTP rules. For those, the
 * guest's TLS is terminated with a certificate from the VM's authority, each
 * request is checked and forwarded to the real server over a TLS connection
 * verified against the host's trust store, with the same ALPN protocol the
 * server chose (HTTP/1.1 or HTTP/2). Everything else stays end-to-end.
 */

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

  private readonly upstreams: UpstreamConnector;

  constructor(private readonly options: InterceptorOptions) {
    this.upstreams = new UpstreamConnector(options);
  }

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
    const upstream = await this.upstreams.connect(conn.destination, offered);
    const protocol: 'h2' | 'http/1.1' = upstream.ok ? (upstream.socket.alpnProtocol === 'h2' ? 'h2' : 'http/1.1') : offered.includes('http/1.1') || offered.length === 0 ? 'http/1.1' : 'h2';
    const state: ConnectionState = {
      conn,
      scanner: new PlaceholderScanner(conn.policy.bindings),
      protocol,
      upstream: upstream.ok ? (protocol === 'h2' ? this.upstreams.h2(conn.destination, upstream.socket) : this.upstreams.h1(conn.destination, upstream.socket)) : null,
      upstreamFailure: upstream.ok ? null : upstream.reason,
      requests: 0,
      refused: 0,
    };
    // The guest's side, too, sends small records that must not wait for an ACK (Nagle's algorithm).
    if (conn.client instanceof Socket) conn.client.setNoDelay(true);
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
      // Node clears secureConnecting only on a tls.Server's sockets, and an HTTP/2 session
      // waits for a "connecting" TLS socket's secureConnect, which a server-side one never emits.
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
    const leak = placeholdersInHead(state.scanner, conn.policy.bindings, conn.destination.name, req, target);
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

  private async decide(state: ConnectionState, method: string, path: string): Promise<{ action: RuleAction; reason: string }> {
    const { conn } = state;
    const destination: Destination = { ip: conn.destination.ip, port: conn.destination.port, name: conn.destination.name, nameSource: 'sni', service: null };
    const match = matchHttpRequest(conn.policy.rules, destination, method, path);
    if (match) return { action: match.action, reason: `rule ${formatRuleTarget(match.rule.target)}` };
    if (conn.unmatched === 'allow') return { action: 'allow', reason: 'host rule' };
    if (!this.options.ask) return { action: 'deny', reason: 'no rule allows this method and path' };
    return this.options.ask({ vm: this.options.vm, name: conn.destination.name, ip: conn.destination.ip, port: conn.destination.port, method, path: state.scanner.mask(path) });
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
}
