// Runs in: anywhere (pure). How a call crosses a process boundary, the same
// way on every transport (control socket, Electron IPC, browser mode): a
// `{ method, params }` envelope in, a Reply out. Handlers never throw across
// a boundary; a failure travels as a code and the one sentence a user sees.
import { type Method, type XrayApi, isMethod, parseParams } from './contract';
import { XrayError } from './errors';

export interface ReplyFailure {
  readonly code: string;
  readonly message: string;
  /** cli is the sentence for the command line, when it differs (XrayError.cli). */
  readonly cli?: string;
}

/** Reply is what every transport sends back for a call. */
export type Reply<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ReplyFailure };

/** Call is an envelope that names a known method, with params its schema accepted. */
export interface Call {
  readonly method: Method;
  readonly params: unknown;
}

/**
 * parseCall reads a `{ method, params }` envelope and checks the params
 * against the method's schema, so every transport refuses a bad call at its
 * edge in the same words; a failure says what was wrong.
 */
export function parseCall(payload: unknown): Reply<Call> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return failure('invalid-argument', 'The request must be an object with a method and params.');
  }
  const { method, params } = payload as { method?: unknown; params?: unknown };
  if (!isMethod(method)) return failure('invalid-argument', `Unknown request ${JSON.stringify(method ?? null)}; this Xray may be older than the caller.`);
  const parsed = parseParams(method, params);
  return parsed.ok ? { ok: true, value: { method, params: parsed.value } } : failure('invalid-argument', parsed.problem);
}

/** errorReply turns anything thrown into a failure, keeping an XrayError's code and CLI sentence. */
export function errorReply(err: unknown): Reply<never> {
  const code = err instanceof XrayError ? err.code : typeof (err as { code?: unknown })?.code === 'string' ? String((err as { code: string }).code) : 'internal';
  const cli = err instanceof XrayError ? err.cli : undefined;
  return { ok: false, error: { code, message: err instanceof Error ? err.message : String(err), ...(cli !== undefined ? { cli } : {}) } };
}

/** callReply runs a parsed call on `api` and answers with a Reply, never a throw. */
export async function callReply(api: XrayApi, call: Call): Promise<Reply<unknown>> {
  try {
    return { ok: true, value: (await api.call(call.method, call.params as never)) ?? null };
  } catch (err) {
    return errorReply(err);
  }
}

/** dispatch is parseCall then callReply: one envelope in, one Reply out. */
export async function dispatch(api: XrayApi, payload: unknown): Promise<Reply<unknown>> {
  const call = parseCall(payload);
  return call.ok ? callReply(api, call.value) : call;
}

/** isReply tells whether something received has a Reply's shape. */
export function isReply(value: unknown): value is Reply<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const reply = value as { ok?: unknown; value?: unknown; error?: { code?: unknown; message?: unknown } };
  if (reply.ok === true) return 'value' in reply;
  return reply.ok === false && typeof reply.error?.code === 'string' && typeof reply.error.message === 'string';
}

/** CallError is a failed call on the caller's side: the code and sentence the other side sent. */
export class CallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CallError';
  }
}

/** unwrapReply gives a reply's value or throws its failure as a CallError; anything not a Reply is refused. */
export function unwrapReply<T>(reply: unknown): T {
  if (!isReply(reply)) throw new CallError('internal', 'Xray sent a reply in an unknown shape.');
  if (!reply.ok) throw new CallError(reply.error.code, reply.error.message);
  return reply.value as T;
}

function failure(code: string, message: string): Reply<never> {
  return { ok: false, error: { code, message } };
}
