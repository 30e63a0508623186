// Runs in: plain Node (pure; every IPC message the main process accepts passes through here).
import { isMethod, requestSchemas, type Method } from '../shared/contract';
import { isRendererPage } from './renderer-protocol';

/** IpcRequest is a call that passed the guard: a known method with params that match its schema. */
export interface IpcRequest {
  readonly method: Method;
  readonly params: unknown;
}

/** GuardResult follows the contract's Response shape so a rejection can be sent back as is. */
export type GuardResult =
  | { readonly ok: true; readonly value: IpcRequest }
  | { readonly ok: false; readonly error: { readonly code: GuardErrorCode; readonly message: string } };

/** GuardErrorCode is never produced by the service, so a caller can tell a guard refusal apart. */
export type GuardErrorCode = 'forbidden' | 'invalid-request';

function refuse(code: GuardErrorCode, message: string): GuardResult {
  return { ok: false, error: { code, message } };
}

/** isTrustedSender accepts only frames showing our renderer page; anything else may be hostile content. */
export function isTrustedSender(frameUrl: string | null | undefined): boolean {
  return isRendererPage(frameUrl);
}

/**
 * guardCall checks the sender first, then that the payload is `{ method,
 * params }` with a known method and params that satisfy the contract's
 * schema. The value it returns carries the parsed params (unknown keys
 * dropped, defaults filled in).
 */
export function guardCall(frameUrl: string | null | undefined, payload: unknown): GuardResult {
  if (!isTrustedSender(frameUrl)) return refuse('forbidden', 'Xray ignored a request from a page that is not part of the app.');
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return refuse('invalid-request', 'The request must be an object with a method and params.');
  }
  const { method, params } = payload as { method?: unknown; params?: unknown };
  if (!isMethod(method)) return refuse('invalid-request', `Unknown method ${JSON.stringify(method ?? null)}.`);
  const parsed = requestSchemas[method].safeParse(params ?? {});
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ');
    return refuse('invalid-request', `Bad request for ${method}: ${detail}.`);
  }
  return { ok: true, value: { method, params: parsed.data } };
}
