// Runs in: plain Node (pure; the Electron main process applies it to its session).
import { readFile } from 'node:fs/promises';
import { CONTENT_SECURITY_POLICY, isRendererPage, RENDERER_SCHEME, rendererFilePath, rendererHeaders } from './renderer-protocol';

/**
 * web-security decides what the app's web contents may load and use: only
 * the renderer build over the `xray://` scheme (plus devtools), every response
 * with the CSP, and no permission but writing to the clipboard from our page.
 */

/** CLIPBOARD_PERMISSION is the one permission the renderer gets (its copy buttons). */
const CLIPBOARD_PERMISSION = 'clipboard-sanitized-write';

/** rendererResponse answers a request on the `xray://` scheme: a GET of a renderer file, or 404. */
export async function rendererResponse(root: string, request: { readonly url: string; readonly method: string }): Promise<Response> {
  const file = rendererFilePath(root, request.url);
  if (!file || request.method !== 'GET') return new globalThis.Response('Not found', { status: 404 });
  try {
    return new globalThis.Response(await readFile(file), { headers: rendererHeaders(file) });
  } catch {
    return new globalThis.Response('Not found', { status: 404 });
  }
}

/** blocksRequest tells whether a request leaves the app: anything but `xray://` and devtools is cancelled. */
export function blocksRequest(url: string): boolean {
  return !url.startsWith(`${RENDERER_SCHEME}://`) && !url.startsWith('devtools:');
}

/** withPolicy adds the CSP to a response's headers. */
export function withPolicy(headers: Record<string, string[]> | undefined): Record<string, string[]> {
  return { ...headers, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] };
}

/** grantsPermission answers a page's permission request: only the clipboard, only for our renderer page. */
export function grantsPermission(permission: string, pageUrl: string): boolean {
  return permission === CLIPBOARD_PERMISSION && isRendererPage(pageUrl);
}

/** grantsPermissionCheck answers a permission check by origin: only the clipboard, only for our scheme. */
export function grantsPermissionCheck(permission: string, origin: string): boolean {
  return permission === CLIPBOARD_PERMISSION && origin.startsWith(`${RENDERER_SCHEME}://`);
}
