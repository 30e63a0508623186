// Test helper: runs CLI commands in this process through the run seam
// (program.ts run()) over a fake API, with no binary and no QEMU. Output is
// captured, and each way a command reached the API is recorded.
import { PassThrough, Writable } from 'node:stream';
import type { Method, Params, Results, XrayApi, XrayEvent } from '../../src-main/shared/contract';
import { XrayError } from '../../src-main/shared/errors';
import type { VmSummary } from '../../src-main/shared/models';
import { HomePaths } from '../../src-main/core/paths';
import type { CliContext, Connection } from '../../src-main/cli/context';
import { Output } from '../../src-main/cli/output';
import { run } from '../../src-main/cli/program';

type Answer<M extends Method> = Results[M] | ((params: Params<M>) => Results[M] | Promise<Results[M]>);
export type Answers = { [M in Method]?: Answer<M> };

/** FakeApi answers each method from a table (a value or a function of the params), records calls, and emits events on demand. */
export class FakeApi implements XrayApi {
  readonly calls: { method: Method; params: unknown }[] = [];
  private readonly listeners = new Set<(event: XrayEvent) => void>();

  constructor(private readonly answers: Answers) {}

  async call<M extends Method>(method: M, params: Params<M>): Promise<Results[M]> {
    this.calls.push({ method, params });
    const answer: unknown = this.answers[method];
    if (answer === undefined) throw new XrayError('unsupported', `"${method}" is not answered in this test.`);
    return typeof answer === 'function' ? (answer as (p: Params<M>) => Results[M] | Promise<Results[M]>)(params) : (answer as Results[M]);
  }

  /** callsOf lists the params of each call of one method, in order. */
  callsOf<M extends Method>(method: M): Params<M>[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.params as Params<M>);
  }

  subscribe(listener: (event: XrayEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  emit(event: XrayEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }
}

/** summary is a VM as vm.list reports it, stopped unless `fields` say otherwise. */
export function summary(name: string, fields: Partial<VmSummary> = {}): VmSummary {
  return {
    name, state: 'stopped', base: 'deb', arch: 'x86_64', memoryMb: 256, cpus: 1, sshPort: 2222, sshUser: 'ubuntu', ports: [], pid: null,
    accelerator: null, firewallActive: false, openConnections: 0, pendingPrompts: 0, crash: null, diagnosis: null, configError: null, ...fields,
  };
}

export interface FakeCli {
  readonly ctx: CliContext;
  /** reached lists each connect, in order: 'files' or 'supervisor'. */
  readonly reached: ('files' | 'supervisor')[];
  /** closed counts connections closed. */
  readonly closed: { count: number };
  /** stdin is what a person or script types; on a TTY it is in raw mode when rawMode says so. */
  readonly stdin: PassThrough & { isTTY?: boolean; rawMode?: boolean };
  stdout(): string;
  stderr(): string;
  run(...argv: string[]): Promise<number>;
}

export interface FakeCliOptions {
  /** local says the files API is served in process (no supervisor answered); true by default. */
  readonly local?: boolean;
  /** supervisor answers what needs the engine; the same fake as the files API by default. */
  readonly supervisor?: XrayApi;
  /** tty makes stdin and stdout a terminal. */
  readonly tty?: boolean;
  readonly overrides?: Partial<CliContext>;
}

function sink(append: (text: string) => void, tty: boolean): Writable & { isTTY?: boolean } {
  const stream: Writable & { isTTY?: boolean } = new Writable({
    write(chunk, _encoding, done) {
      append(String(chunk));
      done();
    },
  });
  if (tty) stream.isTTY = true;
  return stream;
}

/** fakeCli builds a context over `api`; run() drives a command through the real program and resolves with its exit status. */
export function fakeCli(api: XrayApi, options: FakeCliOptions = {}): FakeCli {
  let stdout = '';
  let stderr = '';
  const reached: ('files' | 'supervisor')[] = [];
  const closed = { count: 0 };
  const tty = options.tty ?? false;
  const stdin: FakeCli['stdin'] = new PassThrough();
  if (tty) {
    stdin.isTTY = true;
    Object.assign(stdin, { setRawMode: (raw: boolean) => (stdin.rawMode = raw) });
  }
  const open = (to: 'files' | 'supervisor'): Connection => {
    const target = to === 'supervisor' ? (options.supervisor ?? api) : api;
    return {
      local: to === 'files' && (options.local ?? true),
      call: (method, params) => target.call(method, params),
      subscribe: (listener) => target.subscribe(listener),
      close: () => closed.count++,
    };
  };
  const out = new Output(sink((s) => (stdout += s), tty), sink((s) => (stderr += s), false), { NO_COLOR: '1' });
  const ctx: CliContext = {
    paths: new HomePaths('/nonexistent/xray-home'),
    out,
    term: { stdin, stdout: out.stdout },
    connect: async (to) => {
      reached.push(to);
      return open(to);
    },
    hostHere: () => Promise.reject(new Error('hostHere is not available in this test')),
    onInterrupt: () => () => undefined,
    runSsh: () => Promise.reject(new Error('runSsh is not available in this test')),
    openInBrowser: () => undefined,
    rendererDir: '/nonexistent/renderer',
    ...options.overrides,
  };
  return { ctx, reached, closed, stdin, stdout: () => stdout, stderr: () => stderr, run: (...argv) => run(ctx, argv) };
}
