// Runs in: plain Node (core).
import { Transform, type TransformCallback } from 'node:stream';
import type { SecretBinding } from '../../shared/models';
import { placeholderToken } from '../../shared/secrets';

/**
 * PlaceholderScanner finds a VM's placeholders in text and byte streams. It
 * looks for each placeholder's random part (32 hex digits) in any letter
 * case, which URL, form and JSON encodings leave as they are, so a
 * placeholder is found however a request spells its `xray:NAME:` prefix.
 */
export class PlaceholderScanner {
  /** tokens maps each placeholder's random part to its secret's name. */
  private readonly tokens = new Map<string, string>();
  private readonly longest: number;

  constructor(bindings: readonly Pick<SecretBinding, 'secret' | 'placeholder'>[]) {
    for (const binding of bindings) {
      const token = placeholderToken(binding.placeholder);
      if (token !== null) this.tokens.set(token, binding.secret);
    }
    this.longest = Math.max(0, ...[...this.tokens.keys()].map((t) => t.length));
  }

  /** empty is true when the VM has no placeholders, so nothing needs scanning. */
  get empty(): boolean {
    return this.tokens.size === 0;
  }

  /** find returns the secrets whose placeholders occur in `text`, in binding order. */
  find(text: string): string[] {
    if (this.empty) return [];
    const lower = text.toLowerCase();
    return [...this.tokens].filter(([token]) => lower.includes(token)).map(([, secret]) => secret);
  }

  /** mask replaces every placeholder's random part in `text` with `…`, for paths shown in reports. */
  mask(text: string): string {
    let out = text;
    for (const token of this.tokens.keys()) out = out.replace(new RegExp(token, 'gi'), '…');
    return out;
  }

  /**
   * stream returns a pass-through that calls `found` with the secret's name,
   * and then fails with `error`, as soon as a placeholder passes through
   * it, even one split across chunks. It holds back the last few bytes of
   * each chunk (one less than a placeholder's random part), so no whole
   * placeholder has passed on before it is seen.
   */
  stream(found: (secret: string) => Error): Transform {
    const keep = Math.max(0, this.longest - 1);
    let held = Buffer.alloc(0);
    const scan = (window: Buffer): string | null => this.find(window.toString('latin1'))[0] ?? null;
    return new Transform({
      transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
        const window = held.length === 0 ? chunk : Buffer.concat([held, chunk]);
        const secret = scan(window);
        if (secret !== null) {
          done(found(secret));
          return;
        }
        const cut = Math.max(0, window.length - keep);
        held = Buffer.from(window.subarray(cut));
        done(null, cut > 0 ? window.subarray(0, cut) : undefined);
      },
      flush(done: TransformCallback) {
        done(null, held.length > 0 ? held : undefined);
      },
    });
  }
}

/**
 * maskValues returns a pass-through that overwrites every occurrence of the
 * given values with as many `*` (so a Content-Length stays true) and calls
 * `masked` once, with the value's index, for the first of each. It holds back
 * one byte less than the longest value at the end of each chunk, so a value
 * split across chunks is masked too. The egress proxy puts the responses of
 * requests it put a secret into through it: a server that echoes the
 * request's headers must not hand the secret to the guest.
 */
export function maskValues(values: readonly string[], masked: (index: number) => void): Transform {
  const needles = values.map((v) => Buffer.from(v, 'utf8')).filter((n) => n.length > 0);
  const keep = Math.max(0, ...needles.map((n) => n.length - 1));
  const announced = new Set<number>();
  let held = Buffer.alloc(0);
  const mask = (window: Buffer): void => {
    needles.forEach((needle, index) => {
      for (let at = window.indexOf(needle); at !== -1; at = window.indexOf(needle, at + needle.length)) {
        window.fill(0x2a, at, at + needle.length);
        if (!announced.has(index)) {
          announced.add(index);
          masked(index);
        }
      }
    });
  };
  /**
   * maskSeam masks the values that straddle what was held back and `chunk`:
   * they lie within the held bytes and the chunk's first `keep`. Only that
   * seam is copied; the masks are written back to both sides.
   */
  const maskSeam = (chunk: Buffer): void => {
    if (held.length === 0) return;
    const seam = Buffer.concat([held, chunk.subarray(0, keep)]);
    mask(seam);
    seam.copy(held, 0, 0, held.length);
    seam.copy(chunk, 0, held.length);
  };
  return new Transform({
    // Each chunk is masked in place, and passed on without a copy but for the held-back tail.
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      maskSeam(chunk);
      mask(chunk);
      const cut = held.length + chunk.length - keep;
      if (cut <= held.length) {
        const out = held.subarray(0, Math.max(0, cut));
        held = Buffer.concat([held.subarray(out.length), chunk]);
        done(null, out.length > 0 ? out : undefined);
        return;
      }
      if (held.length > 0) this.push(held);
      const out = chunk.subarray(0, cut - held.length);
      held = Buffer.from(chunk.subarray(out.length));
      done(null, out);
    },
    flush(done: TransformCallback) {
      done(null, held.length > 0 ? held : undefined);
    },
  });
}
