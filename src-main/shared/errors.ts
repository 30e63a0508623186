// Runs in: anywhere (pure).

/**
 * XrayError is an error a user may see. Its message is one sentence saying what
 * was wrong and what to do, in words any surface can show; `cli`, when the
 * command line has a better way to say what to do (a flag), is that sentence
 * for the CLI. `code` lets transports and tests tell kinds apart without
 * parsing prose.
 */
export class XrayError extends Error {
  readonly cli: string | undefined;

  constructor(
    readonly code: XrayErrorCode,
    message: string,
    options?: { cause?: unknown; cli?: string },
  ) {
    super(message, options);
    this.name = 'XrayError';
    this.cli = options?.cli;
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

/** cliMessage is errorMessage for the command line: the CLI's own sentence when the error has one. */
export function cliMessage(err: unknown): string {
  return err instanceof XrayError && err.cli !== undefined ? err.cli : errorMessage(err);
}
