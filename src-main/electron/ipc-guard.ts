// Runs in: plain Node (pure; every IPC message the main process accepts passes through here).
import { type Call, type Reply, parseCall } from '../shared/transport';
import { isRendererPage } from './renderer-protocol';

/** isTrustedSender accepts only frames showing our renderer page; anything else may be hostile content. */
export function isTrustedSender(frameUrl: string | null | undefined): boolean {
  return isRendererPage(frameUrl);
}

/**
 * guardCall checks the sender first (a refusal there is `forbidden`, a code
 * the service never uses), then reads the payload as every transport does
 * (parseCall): a known method with params its schema accepts, unknown keys
 * dropped and defaults filled in.
 */
export function guardCall(frameUrl: string | null | undefined, payload: unknown): Reply<Call> {
  if (!isTrustedSender(frameUrl)) return { ok: false, error: { code: 'forbidden', message: 'Xray ignored a request from a page that is not part of the app.' } };
  return parseCall(payload);
}
