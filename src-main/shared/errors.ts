// Runs in: anywhere (pure).

/**
 * XrayError is an error a user may see. Its message is one sentence saying what
 * was wrong and what to do; `code` lets transports and tests tell kinds apart
 * without parsing prose.
 */
export class XrayError extends Error {
  constructor(
    readonly code: XrayErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'XrayError';
  }
}

export type XrayErrorCode =
  | 'invalid-argument'
  | 'not-found'
  | 'already-exists'
  | 'in-use'
  | 'busy'
  | 'corrupt'
  | 'unsupported'
  | 'missing-dependency'
  | 'resource'
  | 'qemu'
  | 'qmp'
  | 'ssh'
  | 'timeout'
  | 'cancelled'
  | 'internal';

export function isXrayError(err: unknown): err is XrayError {
  return err instanceof XrayError;
}

/** errorMessage renders any thrown value as the one line a user sees. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
