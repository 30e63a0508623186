// Runs in: plain Node (core). The real server's side of an intercepted
// connection: TLS verified against the host's trust store, with the ALPN
// protocol the guest offered, and requests over HTTP/1.1 or HTTP/2.
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import type { Readable, Writable } from 'node:stream';
import * as tls from 'node:tls';
import type { EgressReport } from '../../shared/egress';
import type { InterceptTarget } from './intercept-types';
import type { UpstreamTrust } from './upstream-trust';

/** Upstream sends a connection's requests to the real server over verified TLS. */
export interface Upstream {
  request(method: string, target: string, authority: string, headers: http.OutgoingHttpHeaders): Promise<UpstreamExchange>;
  close(): void;
}

/** UpstreamExchange is one forwarded request: its body goes into `body`, its response comes back through `response`. */
export interface UpstreamExchange {
  readonly body: Writable;
  readonly response: Promise<UpstreamResponse>;
  abort(): void;
}

/** UpstreamResponse is the real server's answer to one request. */
export interface UpstreamResponse {
  readonly status: number;
  readonly headers: http.OutgoingHttpHeaders;
  readonly stream: Readable;
  /** onTrailers calls back with trailing fields, as they arrive before the body ends (HTTP/2 only). */
  readonly onTrailers: (listener: (trailers: http.OutgoingHttpHeaders) => void) => void;
}

/** UpstreamOptions are what UpstreamConnector needs of the Interceptor's options. */
export interface UpstreamOptions {
  readonly vm: string;
  readonly trust: UpstreamTrust;
  readonly report: (report: EgressReport) => void;
  readonly connectTimeoutMs?: number;
}

/** UpstreamConnector opens verified connections to real servers for one VM's interceptor, reporting certificate failures. */
export class UpstreamConnector {
  private trusted: tls.SecureContext | null = null;

  constructor(private readonly options: UpstreamOptions) {}

  /**
   * tlsOptions verify against the trust store through one secure context,
   * made on first use: handing tls.connect the certificates instead parses
   * every one of them (about 140 in a system store) on every connection,
   * which measured as most of the 70 ms interception added to a new one.
   */
  private tlsOptions(destination: InterceptTarget, alpn: readonly string[]): tls.ConnectionOptions {
    this.trusted ??= tls.createSecureContext({ ca: [...this.options.trust.certificates] });
    return {
      host: destination.ip,
      port: destination.port,
      servername: destination.name,
      secureContext: this.trusted,
      ...(alpn.length > 0 ? { ALPNProtocols: [...alpn] } : {}),
    };
  }

  /** dial starts a TLS connection to the real server; its small records (a handshake's, a request's head) go at once, not held ~40 ms for an ACK (Nagle). */
  private dial(destination: InterceptTarget, alpn: readonly string[]): tls.TLSSocket {
    return tls.connect(this.tlsOptions(destination, alpn)).setNoDelay(true);
  }

  /** connect opens the verified TLS connection to the real server; a failure is reported once, here. */
  connect(destination: InterceptTarget, alpn: readonly string[]): Promise<{ ok: true; socket: tls.TLSSocket } | { ok: false; reason: string }> {
    return new Promise((resolve) => {
      const socket = this.dial(destination, alpn);
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

  /** h1 sends requests over the verified connection, one at a time, opening verified new ones as the server closes them. */
  h1(destination: InterceptTarget, first: tls.TLSSocket): Upstream {
    let spare: tls.TLSSocket | null = first;
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    const connect = (): tls.TLSSocket => {
      const socket = spare !== null && !spare.destroyed ? spare : this.dial(destination, ['http/1.1']);
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

  /** h2 multiplexes requests over one verified HTTP/2 session, opening a new one when the server ends it. */
  h2(destination: InterceptTarget, first: tls.TLSSocket): Upstream {
    let spare: tls.TLSSocket | null = first;
    let session: http2.ClientHttp2Session | null = null;
    const open = (): http2.ClientHttp2Session => {
      if (session !== null && !session.closed && !session.destroyed) return session;
      const socket = spare ?? this.dial(destination, ['h2']);
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

/** isCertificateError tells a TLS verification failure from other connection errors. */
export function isCertificateError(err: NodeJS.ErrnoException): boolean {
  const code = err.code ?? '';
  return /CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH/.test(code);
}

/** upstreamReason says in words why the real server was refused; a bad certificate is named as such. */
export function upstreamReason(err: NodeJS.ErrnoException): string {
  const code = err.code ?? err.message;
  return isCertificateError(err) ? `its certificate failed verification against the host's trust store (${code})` : `it could not be reached (${code})`;
}
