// Runs in: plain Node (core).
import { XrayError } from '../../shared/errors';

/** QmpConnectStage names the step of the QMP handshake that failed. */
export type QmpConnectStage = 'connect' | 'greeting' | 'negotiation';

/** QmpCommandMessage is exactly what the client wrote for one command. */
export interface QmpCommandMessage {
  readonly execute: string;
  readonly arguments?: Record<string, unknown>;
  readonly id: string;
}

/** quote shortens what a peer sent so it fits in a one-line message. */
export function quote(received: string, max = 120): string {
  const flat = received.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > max ? `${flat.slice(0, max)}…` : flat);
}

/**
 * QmpConnectError says which handshake stage failed (socket connect, QEMU's
 * greeting, or capabilities negotiation) and keeps whatever the peer sent, so
 * "no QEMU behind this socket" is told apart from "QEMU refused us".
 */
export class QmpConnectError extends XrayError {
  constructor(
    readonly stage: QmpConnectStage,
    readonly socketPath: string,
    detail: string,
    readonly received: string,
    options?: { cause?: unknown },
  ) {
    super('qmp', `Could not open the QMP socket ${socketPath} (${stage} stage): ${detail.replace(/\.$/, '')}.`, options);
    this.name = 'QmpConnectError';
  }
}

/** QmpCommandError is QEMU's own {class, desc} answer to a command we sent. */
export class QmpCommandError extends XrayError {
  constructor(
    readonly command: string,
    readonly sent: QmpCommandMessage,
    readonly errorClass: string,
    readonly desc: string,
    readonly received: unknown,
  ) {
    super('qmp', `QEMU rejected the QMP command "${command}" (${errorClass}): ${desc.replace(/\.$/, '')}.`);
    this.name = 'QmpCommandError';
  }
}

/** QmpTimeoutError means QEMU did not answer in time; the VM may be hung. */
export class QmpTimeoutError extends XrayError {
  constructor(
    readonly command: string,
    readonly sent: QmpCommandMessage | null,
    readonly timeoutMs: number,
  ) {
    super('qmp', `QEMU did not answer "${command}" within ${timeoutMs} ms; the VM may be hung, try again or force it off.`);
    this.name = 'QmpTimeoutError';
  }
}

/**
 * QmpDisconnectedError fails a command (or event wait) whose answer can no
 * longer come because the connection ended: QEMU exited, crashed, broke the
 * protocol, or the client was closed.
 */
export class QmpDisconnectedError extends XrayError {
  constructor(
    readonly command: string | null,
    readonly reason: string,
    readonly sent: QmpCommandMessage | null = null,
    options?: { cause?: unknown },
  ) {
    const subject = command === null ? 'The QMP connection to QEMU ended' : `The QMP connection ended before "${command}" was answered`;
    super('qmp', `${subject} (${reason}); the VM may have stopped or crashed.`, options);
    this.name = 'QmpDisconnectedError';
  }
}

/** QmpJobError is a QEMU job (e.g. snapshot-save) that concluded with an error. */
export class QmpJobError extends XrayError {
  constructor(
    readonly jobId: string,
    readonly jobType: string,
    readonly jobError: string,
  ) {
    super('qmp', `QEMU job "${jobId}" (${jobType}) failed: ${jobError.replace(/\.$/, '')}.`);
    this.name = 'QmpJobError';
  }
}
