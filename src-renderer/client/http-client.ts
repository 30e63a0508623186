// Runs in: renderer (browser mode). XrayClient over the browser-mode server:
// POST /api/call for requests, an EventSource on /api/events for events, and
// POST /api/upload for files dropped on the window.
import type { Method, Params, Results, XrayEvent } from '../../src-main/core/api/contract';
import { ClientError, type XrayClient } from './types';

/** HttpXrayClient is the browser-mode XrayClient; the token comes from the URL the CLI printed. */
export class HttpXrayClient implements XrayClient {
  readonly platform = 'browser' as const;
  private readonly listeners = new Set<(e: XrayEvent) => void>();
  private source: EventSource | null = null;

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    // For testing: replaces the browser's fetch and EventSource.
    private readonly deps: { fetch: typeof fetch; eventSource: (url: string) => EventSource } = {
      fetch: (input, init) => fetch(input, init),
      eventSource: (url) => new EventSource(url),
    },
  ) {}

  async call<M extends Method>(method: M, params: Params<M>): Promise<Results[M]> {
    let response: Response;
    try {
      response = await this.deps.fetch(`${this.baseUrl}/api/call`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-xray-token': this.token },
        body: JSON.stringify({ method, params }),
      });
    } catch {
      throw new ClientError('busy', 'Xray is not answering; is `xray ui --browser` still running?');
    }
    const body = parseResponse(await response.text());
    if (!body.ok) throw new ClientError(body.error.code, body.error.message);
    return body.value as Results[M];
  }

  subscribe(listener: (e: XrayEvent) => void): () => void {
    this.listeners.add(listener);
    if (!this.source) {
      this.source = this.deps.eventSource(`${this.baseUrl}/api/events?token=${encodeURIComponent(this.token)}`);
      this.source.onmessage = (message: MessageEvent<string>) => {
        const event = parseEvent(message.data);
        if (event) for (const l of [...this.listeners]) l(event);
      };
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.source) {
        this.source.close();
        this.source = null;
      }
    };
  }

  upload(file: File, onProgress?: (done: number, total: number) => void): Promise<string> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `${this.baseUrl}/api/upload?name=${encodeURIComponent(file.name)}`);
      xhr.setRequestHeader('x-xray-token', this.token);
      xhr.upload.onprogress = (e) => onProgress?.(e.loaded, e.total || file.size);
      xhr.onerror = () => reject(new ClientError('busy', `Uploading ${file.name} failed; is \`xray ui --browser\` still running?`));
      xhr.onload = () => {
        try {
          const body = parseResponse(xhr.responseText);
          if (!body.ok) reject(new ClientError(body.error.code, body.error.message));
          else if (typeof (body.value as { path?: unknown })?.path !== 'string') reject(new ClientError('internal', 'The server did not say where it stored the upload.'));
          else resolve((body.value as { path: string }).path);
        } catch (err) {
          reject(err as Error);
        }
      };
      xhr.send(file);
    });
  }
}

type Wire = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } };

/** parseResponse checks the envelope of a server reply; anything else is reported, not trusted. */
export function parseResponse(text: string): Wire {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ClientError('internal', 'Xray sent a reply that is not JSON.');
  }
  if (typeof raw === 'object' && raw !== null) {
    const r = raw as Record<string, unknown>;
    if (r.ok === true && 'value' in r) return { ok: true, value: r.value };
    const e = r.error as Record<string, unknown> | undefined;
    if (r.ok === false && e && typeof e.code === 'string' && typeof e.message === 'string') {
      return { ok: false, error: { code: e.code, message: e.message } };
    }
  }
  throw new ClientError('internal', 'Xray sent a reply in an unknown shape.');
}

/** parseEvent returns the event carried by one SSE message, or null when it has no `type`. */
export function parseEvent(data: string): XrayEvent | null {
  try {
    const raw: unknown = JSON.parse(data);
    if (typeof raw === 'object' && raw !== null && typeof (raw as { type?: unknown }).type === 'string') return raw as XrayEvent;
  } catch {
    return null;
  }
  return null;
}
