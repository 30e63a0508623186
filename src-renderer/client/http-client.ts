// Runs in: renderer (browser mode). XrayClient over the browser-mode server:
// POST /api/call for requests, a streamed GET of /api/events (server-sent
// events) for events, and POST /api/upload for files dropped on the window.
// Every request carries the token in a header, never in the address.
import type { Method, Params, Results, XrayEvent } from '../../src-main/shared/contract';
import { CallError, unwrapReply } from '../../src-main/shared/transport';
import type { XrayClient } from './types';

/** RECONNECT_MS is how long the event stream waits before it reconnects after a drop. */
const RECONNECT_MS = 1000;

/** HttpXrayClient is the browser-mode XrayClient; the token comes from the URL the CLI printed. */
export class HttpXrayClient implements XrayClient {
  readonly platform = 'browser' as const;
  private readonly listeners = new Set<(e: XrayEvent) => void>();
  private stream: AbortController | null = null;

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    // For testing: replaces the browser's fetch.
    private readonly deps: { fetch: typeof fetch } = { fetch: (input, init) => fetch(input, init) },
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
      throw new CallError('busy', 'Xray is not answering; is the "xray ui" command that opened this page still running?');
    }
    return unwrapReply<Results[M]>(parseJson(await response.text()));
  }

  subscribe(listener: (e: XrayEvent) => void): () => void {
    this.listeners.add(listener);
    if (!this.stream) {
      this.stream = new AbortController();
      void this.follow(this.stream.signal);
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.stream) {
        this.stream.abort();
        this.stream = null;
      }
    };
  }

  /**
   * follow reads the event stream until `signal` aborts, reconnecting after
   * a drop as EventSource would (which cannot send the token header).
   */
  private async follow(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const response = await this.deps.fetch(`${this.baseUrl}/api/events`, { headers: { 'x-xray-token': this.token }, signal });
        if (response.ok && response.body) {
          for await (const data of serverSentData(response.body)) {
            const event = parseEvent(data);
            if (event) for (const l of [...this.listeners]) l(event);
          }
        }
      } catch {
        // Dropped or refused: wait and try again unless unsubscribed.
      }
      if (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
    }
  }

  upload(file: File, onProgress?: (done: number, total: number) => void): Promise<string> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `${this.baseUrl}/api/upload?name=${encodeURIComponent(file.name)}`);
      xhr.setRequestHeader('x-xray-token', this.token);
      xhr.upload.onprogress = (e) => onProgress?.(e.loaded, e.total || file.size);
      xhr.onerror = () => reject(new CallError('busy', `Uploading ${file.name} failed; is the "xray ui" command that opened this page still running?`));
      xhr.onload = () => {
        try {
          const value = unwrapReply<{ path?: unknown }>(parseJson(xhr.responseText));
          if (typeof value?.path !== 'string') reject(new CallError('internal', 'The server did not say where it stored the upload.'));
          else resolve(value.path);
        } catch (err) {
          reject(err as Error);
        }
      };
      xhr.send(file);
    });
  }
}

/** parseJson reads a reply body; text that is not JSON is reported, not trusted. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CallError('internal', 'Xray sent a reply that is not JSON.');
  }
}

/** serverSentData yields the data of each server-sent event in a byte stream (comments and other fields skipped). */
export async function* serverSentData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffered += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = block.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6));
      if (data.length > 0) yield data.join('\n');
    }
  }
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
