// Runs in: plain Node (core). The guest side of an intercepted connection:
// reading its TLS ClientHello, and the HTTP fields of its requests and of the
// answers it gets.
import type * as http from 'node:http';
import * as http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type { PlaceholderPlace } from '../../shared/egress';
import type { SecretBinding } from '../../shared/models';
import { bindingCoversHost } from '../secrets/bindings';
import type { PlaceholderScanner } from './placeholder-scan';
import { looksLikeTls, tlsHelloComplete } from './sniff';

/** HOP_BY_HOP are fields about one connection, never forwarded (RFC 9110 section 7.6.1, and HTTP/2's ban on them). */
export const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'http2-settings', 'host', 'expect']);
/** HELLO_CAP bounds the ClientHello the interceptor waits for. */
const HELLO_CAP = 64 * 1024;

/** AnyRequest is a guest request over HTTP/1.1 or HTTP/2. */
export type AnyRequest = http.IncomingMessage | http2.Http2ServerRequest;
/** AnyResponse is the answer to an AnyRequest. */
export type AnyResponse = http.ServerResponse | http2.Http2ServerResponse;

/** readHello gathers the ClientHello: `first` plus what the client sends until it is complete, bounded in size and time. */
export function readHello(client: Duplex, first: Buffer, timeoutMs: number): Promise<Buffer | null> {
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

/** authorityOf is the host a request names (:authority or Host), or null. */
export function authorityOf(req: AnyRequest): string | null {
  const value = req.headers[':authority'] ?? req.headers.host;
  return typeof value === 'string' && value !== '' ? value : null;
}

/** sameAuthority tells whether a Host or :authority names the destination (a port, if given, must be its port). */
export function sameAuthority(authority: string, host: string, port: number): boolean {
  const match = /^([^:[\]]+)(?::(\d+))?$/.exec(authority.trim().toLowerCase());
  if (!match) return false;
  const name = (match[1] as string).replace(/\.$/, '');
  return name === host && (match[2] === undefined || Number(match[2]) === port);
}

/** forwardHeaders are a request's fields to send on: none about this connection. */
export function forwardHeaders(req: AnyRequest): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [field, value] of Object.entries(req.headers)) {
    if (field.startsWith(':') || value === undefined) continue;
    if (field === 'te' && value === 'trailers') out.te = value;
    else if (!HOP_BY_HOP.has(field)) out[field] = value;
  }
  return out;
}

/** stripHopByHop drops the fields about one connection, and HTTP/2 pseudo-fields, from a response. */
export function stripHopByHop(headers: http.OutgoingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [field, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(field) && !field.startsWith(':') && value !== undefined) out[field] = value;
  return out;
}

/** maskHeaders overwrites the values of `injected` wherever they appear in response fields. */
export function maskHeaders(fields: http.OutgoingHttpHeaders, injected: readonly { secret: string; value: string }[], masked: (secret: string) => void): http.OutgoingHttpHeaders {
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

/** setHeader sets a field, replacing it in whatever case it was written. */
export function setHeader(headers: http.OutgoingHttpHeaders, field: string, value: string): void {
  for (const existing of Object.keys(headers)) if (existing.toLowerCase() === field.toLowerCase()) delete headers[existing];
  headers[field.toLowerCase()] = value;
}

/** safeDecode percent-decodes a URL (and + as space), or returns it as it is when it does not decode. */
export function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** destroyExchange ends a request whose response had begun: its HTTP/2 stream, or its HTTP/1.1 connection. */
export function destroyExchange(req: AnyRequest, res: AnyResponse): void {
  if ('stream' in req) req.stream.close(http2.constants.NGHTTP2_CANCEL);
  else (res as http.ServerResponse).destroy();
}

/**
 * placeholdersInHead looks for the VM's placeholders in a request's head: a
 * placeholder in its own binding's header, to a host the binding covers, is
 * to be replaced (`inject`); anywhere else it is refused.
 */
export function placeholdersInHead(
  scanner: PlaceholderScanner,
  bindings: readonly SecretBinding[],
  host: string,
  req: AnyRequest,
  target: string,
): { inject: SecretBinding[]; refused: { secret: string; place: PlaceholderPlace; header: string | null } | null } {
  const inject: SecretBinding[] = [];
  if (scanner.empty) return { inject, refused: null };
  const inUrl = scanner.find(target)[0] ?? scanner.find(safeDecode(target))[0];
  if (inUrl !== undefined) return { inject, refused: { secret: inUrl, place: 'url', header: null } };
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const field = raw[i] as string;
    if (field.toLowerCase() === ':path') continue;
    for (const secret of scanner.find(`${field}\n${raw[i + 1] as string}`)) {
      const binding = bindings.find((b) => b.secret === secret);
      const own = binding !== undefined && binding.header.toLowerCase() === field.toLowerCase();
      if (own && bindingCoversHost(binding, host)) {
        if (!inject.includes(binding)) inject.push(binding);
      } else {
        return { inject, refused: { secret, place: own ? 'host' : 'header', header: field } };
      }
    }
  }
  return { inject, refused: null };
}
