// Runs in: plain Node (pure; the Electron main process serves the renderer with it).
import { extname, join, normalize, sep } from 'node:path';
import { rendererRoute, type WindowKind } from './window-options';

/**
 * The renderer is served from a custom `xray://app/` scheme rather than
 * file://: a file:// page may read any local file, and Chromium does not let
 * the app attach a CSP header to file:// responses. Our handler serves only
 * files of the renderer build and adds the header itself.
 */
export const RENDERER_SCHEME = 'xray';
export const RENDERER_HOST = 'app';
const RENDERER_PAGE = '/index.html';

/**
 * CONTENT_SECURITY_POLICY allows only the app's own scripts, styles and
 * images: no inline script, no eval, no network, no frames, no plugins.
 * Inline styles are allowed because the console's terminal (xterm.js) draws
 * its palette, cell sizes and true colours with <style> elements and style
 * attributes it makes at run time, and takes no nonce; with no network and
 * images only from the app, a style cannot send anything anywhere.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'none'",
  "object-src 'none'",
  "frame-src 'none'",
  "worker-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** rendererUrl is the address a window of this kind loads. */
export function rendererUrl(kind: WindowKind): string {
  const route = rendererRoute(kind);
  return `${RENDERER_SCHEME}://${RENDERER_HOST}${RENDERER_PAGE}${route ? `#${route}` : ''}`;
}

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

function isOurOrigin(url: URL): boolean {
  return url.protocol === `${RENDERER_SCHEME}:` && url.host === RENDERER_HOST && url.username === '' && url.password === '' && url.port === '';
}

/** isRendererPage tells whether a frame shows our renderer page (any route); IPC trusts only those. */
export function isRendererPage(url: string | null | undefined): boolean {
  if (!url) return false;
  const parsed = parse(url);
  return parsed !== null && isOurOrigin(parsed) && parsed.pathname === RENDERER_PAGE && parsed.search === '';
}

/**
 * rendererFilePath maps a request to a file inside the renderer build, or
 * null for anything else: another host, an escape with `..` (also encoded),
 * or a hidden file.
 */
export function rendererFilePath(root: string, url: string): string | null {
  const parsed = parse(url);
  if (!parsed || !isOurOrigin(parsed)) return null;
  let pathname: string;
  try {
    pathname = decodeURIComponent(parsed.pathname);
  } catch {
    return null;
  }
  if (pathname.includes('\0') || pathname.includes('\\')) return null;
  const segments = pathname.split('/').filter((s) => s !== '');
  if (segments.length === 0) segments.push('index.html');
  if (segments.some((s) => s === '..' || s.startsWith('.'))) return null;
  const file = normalize(join(root, ...segments));
  return file.startsWith(normalize(root) + sep) ? file : null;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/** contentTypeFor names a renderer file's type; unknown kinds are served as opaque bytes. */
export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** rendererHeaders are sent with every renderer file: its type, the CSP and no sniffing. */
export function rendererHeaders(file: string): Record<string, string> {
  return {
    'content-type': contentTypeFor(file),
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
  };
}
