// Runs in: plain Node (core).
import type { spawn as nodeSpawn } from 'node:child_process';
import { resolve } from 'node:path';
import * as z from 'zod';
import { XrayError } from '../../shared/errors';
import { validateName } from '../names';
import { childProcess } from '../builtins';
import { checkSchema, imageInfoSchema, parseJson, parseWith, type CheckResult, type ImageInfo } from './qemu-img-output';

export type { CheckResult, ImageInfo, ImageSnapshot } from './qemu-img-output';

export type SnapshotOperation = 'create' | 'apply' | 'delete';

/** SpawnFunction is node's spawn; tests and other hosts may inject their own. */
export type SpawnFunction = typeof nodeSpawn;

export interface QemuImgOptions {
  binary?: string;
  spawn?: SpawnFunction;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface RunOptions {
  onStdout?: (chunk: string) => void;
  signal?: AbortSignal;
}

const PROGRESS_PATTERN = /\((\d+(?:\.\d+)?)\/100%\)/g;

/**
 * QemuImg wraps the `qemu-img` binary: every disk-image operation Xray does
 * goes through it, so the arguments that keep it safe live in one place:
 * - paths are made absolute, so none can start with "-" (an option) or look
 *   like "proto:…" (a protocol such as json: or nbd:);
 * - `-f FORMAT` is passed whenever the format is known, so qemu-img never
 *   probes a file we know (a raw file whose guest wrote a qcow2 header would
 *   otherwise open as qcow2);
 * - `-U` (force-share) is passed when only reading metadata, because the image
 *   may be open in a running QEMU that holds its write lock.
 */
export class QemuImg {
  readonly binary: string;
  /** spawnProcess replaces node:child_process's spawn (loaded on first use) in tests. */
  private readonly spawnProcess: SpawnFunction | undefined;

  constructor(opts: QemuImgOptions = {}) {
    this.binary = opts.binary ?? 'qemu-img';
    this.spawnProcess = opts.spawn;
  }

  /** info reads an image's metadata; with backingChain, one entry per layer, top first. */
  info(path: string, opts: { backingChain: true; format?: string }): Promise<ImageInfo[]>;
  info(path: string, opts?: { backingChain?: false; format?: string }): Promise<ImageInfo>;
  async info(
    path: string,
    opts: { backingChain?: boolean; format?: string } = {},
  ): Promise<ImageInfo | ImageInfo[]> {
    const args = ['info', '--output=json', '-U'];
    if (opts.format) args.push('-f', opts.format);
    if (opts.backingChain) args.push('--backing-chain');
    args.push('--', absolute(path));
    const running = this.runOrThrow(args, `read the image ${path}`);
    // The schema is built while qemu-img runs (see qemu-img-output).
    const layer = imageInfoSchema();
    const chain = z.array(layer);
    const json = parseJson((await running).stdout, path);
    if (opts.backingChain) return parseWith(chain, json, path);
    return parseWith(layer, json, path);
  }

  /** create makes a new image; with a backing file it is a copy-on-write overlay. */
  async create(
    path: string,
    opts: { format: string; size?: number; backing?: { file: string; format: string } },
  ): Promise<void> {
    const args = ['create', '-q', '-f', opts.format];
    if (opts.backing) args.push('-F', opts.backing.format, '-b', opts.backing.file);
    args.push('--', absolute(path));
    if (opts.size !== undefined) args.push(String(opts.size));
    await this.runOrThrow(args, `create the image ${path}`);
  }

  /**
   * convert writes `src` into a new standalone image `dst` (never with a backing
   * file), reporting progress in percent from qemu-img's `-p` output.
   */
  async convert(
    src: string,
    dst: string,
    opts: {
      format: string;
      sourceFormat?: string;
      onProgress?: (percent: number) => void;
      signal?: AbortSignal;
    },
  ): Promise<void> {
    const args = ['convert', '-p', '-O', opts.format];
    if (opts.sourceFormat) args.push('-f', opts.sourceFormat);
    args.push('--', absolute(src), absolute(dst));
    const onProgress = opts.onProgress;
    let last = -1;
    const onStdout = onProgress
      ? (chunk: string): void => {
          for (const match of chunk.matchAll(PROGRESS_PATTERN)) {
            const percent = Number(match[1]);
            if (percent > last) {
              last = percent;
              onProgress(percent);
            }
          }
        }
      : undefined;
    await this.runOrThrow(args, `convert ${src}`, { onStdout, signal: opts.signal });
  }

  /**
   * snapshot creates, applies or deletes an internal snapshot of a qcow2 image.
   * `qemu-img snapshot` has no `-f`, so the format is fixed through
   * --image-opts instead of letting it probe. Delete takes a name; apply
   * looks `name` up as a snapshot id first and as a name second, so a caller
   * applying a snapshot by name passes the id it found for that name.
   */
  async snapshot(op: SnapshotOperation, image: string, name: string): Promise<void> {
    const flag = op === 'create' ? '-c' : op === 'apply' ? '-a' : '-d';
    if (op === 'create') validateName('snapshot', name);
    const options = `driver=qcow2,file.driver=file,file.filename=${absolute(image).replaceAll(',', ',,')}`;
    const args = ['snapshot', '-q', '--image-opts', flag, name, '--', options];
    await this.runOrThrow(args, `${op} snapshot "${name}" of ${image}`);
  }

  /**
   * check verifies an image's metadata. Found corruption or leaks are results,
   * not errors: qemu-img exits 2 or 3 for them and still prints its report.
   */
  async check(path: string, opts: { format?: string } = {}): Promise<CheckResult> {
    const args = ['check', '--output=json', '-U'];
    if (opts.format) args.push('-f', opts.format);
    args.push('--', absolute(path));
    const out = await this.run(args);
    if (out.code !== 0 && out.code !== 2 && out.code !== 3) {
      throw qemuImgError(`check ${path}`, out);
    }
    return parseWith(checkSchema(), parseJson(out.stdout, path), path);
  }

  /** compare tells whether two images have the same guest-visible content. */
  async compare(a: string, b: string, opts: { formatA?: string; formatB?: string } = {}): Promise<boolean> {
    const args = ['compare', '-q', '-U'];
    if (opts.formatA) args.push('-f', opts.formatA);
    if (opts.formatB) args.push('-F', opts.formatB);
    args.push('--', absolute(a), absolute(b));
    const out = await this.run(args);
    if (out.code === 0) return true;
    if (out.code === 1) return false;
    throw qemuImgError(`compare ${a} with ${b}`, out);
  }

  /**
   * run executes qemu-img and resolves with its exit code and output. An abort
   * kills qemu-img and rejects only once it has exited, so a caller that then
   * removes qemu-img's output file knows nothing writes it any more.
   */
  run(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return new Promise((resolvePromise, reject) => {
      if (opts.signal?.aborted) {
        reject(cancelled());
        return;
      }
      const child = (this.spawnProcess ?? childProcess().spawn)(this.binary, [...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        signal: opts.signal,
      });
      let stdout = '';
      let stderr = '';
      let settled = false;
      const fail = (err: XrayError): void => {
        if (!settled) reject(err);
        settled = true;
      };
      child.stdout?.setEncoding('utf8');
      child.stderr?.setEncoding('utf8');
      child.stdout?.on('data', (chunk: string) => {
        stdout += chunk;
        opts.onStdout?.(chunk);
      });
      child.stderr?.on('data', (chunk: string) => {
        stderr += chunk;
      });
      child.on('error', (err: NodeJS.ErrnoException) => {
        if (child.pid !== undefined && opts.signal?.aborted) return;
        if (err.code === 'ENOENT') {
          fail(
            new XrayError(
              'missing-dependency',
              `qemu-img was not found at "${this.binary}"; install QEMU (brew install qemu, or apt-get install qemu-utils) or set its path in the configuration.`,
              { cause: err },
            ),
          );
        } else fail(new XrayError('qemu', `qemu-img could not be started: ${err.message}.`, { cause: err }));
      });
      child.on('close', (code, signal) => {
        if (opts.signal?.aborted) fail(cancelled());
        else if (!settled) {
          settled = true;
          resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr });
        }
      });
    });
  }

  private async runOrThrow(args: readonly string[], action: string, opts: RunOptions = {}): Promise<RunResult> {
    const out = await this.run(args, opts);
    if (out.code !== 0) throw qemuImgError(action, out);
    return out;
  }
}

/** qemuImgMessage is qemu-img's own complaint as one clause, without its "qemu-img:" prefixes. */
export function qemuImgMessage(stderr: string): string {
  const text = stderr
    .split('\n')
    .map((line) => line.replace(/^qemu-img:\s*/, '').replace(/[.\s]+$/, '').trim())
    .filter((line) => line !== '')
    .join('; ');
  return text === '' ? 'it failed without a message' : text;
}

function qemuImgError(action: string, out: RunResult): XrayError {
  return new XrayError('qemu', `qemu-img could not ${action}: ${qemuImgMessage(out.stderr)}.`);
}

function cancelled(): XrayError {
  return new XrayError('cancelled', 'The disk image operation was cancelled.');
}

function absolute(path: string): string {
  return resolve(path);
}
