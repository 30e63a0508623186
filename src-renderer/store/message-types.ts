// Runs in: renderer. The messages slice's shape, apart from types.ts so that
// file stays short; like it, this imports no slice.

/**
 * XrayMessage is a warning or error Xray raised on its own (a `log` event),
 * kept until dismissed: its sentence, where it came from, and how many times
 * the same sentence came.
 */
export interface XrayMessage {
  readonly key: string;
  readonly level: 'warn' | 'error';
  readonly source: string;
  readonly text: string;
  readonly count: number;
}

export interface MessagesSlice {
  /** messages are the newest warnings and errors, oldest first, at most MESSAGES_SHOWN. */
  readonly messages: readonly XrayMessage[];
  /** dismissMessage forgets a message once read. */
  dismissMessage(key: string): void;
}
