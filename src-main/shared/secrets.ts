// Runs in: anywhere (pure). What secret bindings may hold, for every surface that takes them.

/**
 * PLACEHOLDER_PATTERN is what the guest holds instead of a secret:
 * `xray:NAME:` and 32 lower-case hex digits (128 random bits). The egress
 * proxy looks for the hex part alone, which no URL, form or JSON encoding
 * changes, so a placeholder is found however a request spells it.
 */
export const PLACEHOLDER_PATTERN = /^xray:([A-Za-z0-9][A-Za-z0-9._-]{0,62}):([0-9a-f]{32})$/;

/** placeholderToken is the random part of a placeholder, the part the proxy searches for; null if it is not one. */
export function placeholderToken(placeholder: string): string | null {
  return PLACEHOLDER_PATTERN.exec(placeholder)?.[2] ?? null;
}

/** HEADER_NAME is an HTTP field name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/;

/**
 * UNBINDABLE_HEADERS are fields that shape the connection or the message
 * rather than carry a credential; a secret in them would change where or how
 * a request goes, so none may be bound.
 */
const UNBINDABLE_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'proxy-connection', 'expect', 'http2-settings']);

/** headerProblem says why `name` cannot carry a secret, or null when it can. */
export function headerProblem(name: string): string | null {
  if (!HEADER_NAME.test(name)) return `"${name}" is not an HTTP header name`;
  if (UNBINDABLE_HEADERS.has(name.toLowerCase())) return `the ${name} header shapes the connection and cannot carry a secret`;
  return null;
}

/** formatProblem says why `format` cannot frame a secret, or null: it needs exactly one `{}` and no control characters. */
export function formatProblem(format: string): string | null {
  if (format.split('{}').length !== 2) return `the format "${format}" must hold "{}" exactly once, where the secret goes`;
  if (hasControl(format)) return 'the format may not hold line breaks or control characters';
  if (format.length > 256) return 'the format is longer than 256 characters';
  return null;
}

/** ENV_NAME is an environment variable name a POSIX shell accepts. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export function envNameProblem(name: string): string | null {
  return ENV_NAME.test(name) ? null : `"${name}" is not an environment variable name (letters, digits and "_", not starting with a digit)`;
}

/** defaultEnvName is the variable a binding sets when none is named: `github` → `GITHUB_TOKEN`. */
export function defaultEnvName(secret: string): string {
  const stem = secret.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^(\d)/, '_$1');
  return `${stem}_TOKEN`;
}

/** SECRET_MAX_BYTES bounds a secret's value: it travels in one HTTP header. */
export const SECRET_MAX_BYTES = 16 * 1024;

/**
 * secretValueProblem says why `value` cannot be a secret, or null: it goes
 * into an HTTP header, so it must be non-empty, bounded and free of line
 * breaks and other control characters.
 */
export function secretValueProblem(value: string): string | null {
  if (value.length === 0) return 'the secret is empty';
  if (utf8Length(value) > SECRET_MAX_BYTES) return `the secret is longer than ${SECRET_MAX_BYTES} bytes`;
  if (hasControl(value)) return 'the secret holds a line break or another control character, which no HTTP header may carry';
  return null;
}

function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** utf8Length counts the bytes `text` takes in UTF-8 (the shared layer has no TextEncoder). */
function utf8Length(text: string): number {
  let bytes = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}
