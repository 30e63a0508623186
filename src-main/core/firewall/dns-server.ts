// Runs in: plain Node (core).
import { type Server, type Socket, createServer } from 'node:net';
import type { FirewallLogEntry } from '../../shared/models';
import { normalizeHostname, parseIp } from './address';
import { type DnsResolver, HOST_INTERNAL_IP, HOST_INTERNAL_NAME, hostResolver } from './dns';
import { closeListeners, openListeners } from './listen';
import type { NameCache } from './name-cache';

const TYPE_A = 1;
const TYPE_AAAA = 28;
const CLASS_IN = 1;
const RCODE = { noError: 0, formErr: 1, servFail: 2, nxDomain: 3, notImp: 4 } as const;
/** MAX_IN_FLIGHT bounds the questions of one connection being answered at once. */
const MAX_IN_FLIGHT = 32;
/** MAX_CONNECTIONS bounds a VM's open DNS connections (the guest's resolver opens one per lookup). */
const MAX_CONNECTIONS = 128;
/** MESSAGE_DEADLINE_MS is how long a begun message may take to arrive whole. */
const MESSAGE_DEADLINE_MS = 5000;
/** MAX_BUFFERED stops reading from a connection that has this much waiting: two full messages. */
const MAX_BUFFERED = 2 * (65_535 + 2);

interface Question {
  readonly name: string;
  readonly type: number;
  readonly klass: number;
  /** end is the offset just past the question, so the answer can echo it. */
  readonly end: number;
}

/** parseQuestion reads the first question of a DNS query, or null when malformed. */
export function parseQuestion(msg: Buffer): Question | null {
  if (msg.length < 12 || msg.readUInt16BE(4) < 1) return null;
  const labels: string[] = [];
  let p = 12;
  for (;;) {
    const length = msg[p];
    if (length === undefined || length > 63) return null;
    p += 1;
    if (length === 0) break;
    if (p + length > msg.length) return null;
    labels.push(msg.toString('latin1', p, p + length));
    p += length;
  }
  if (p + 4 > msg.length) return null;
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(p), klass: msg.readUInt16BE(p + 2), end: p + 4 };
}

/** buildResponse answers `query` with `rcode` and the given address records. */
export function buildResponse(query: Buffer, question: Question | null, rcode: number, answers: readonly { type: number; address: string; ttl: number }[] = []): Buffer {
  const questionBytes = question ? query.subarray(12, question.end) : Buffer.alloc(0);
  const records = answers.map((answer) => {
    const rdata = Buffer.from(parseIp(answer.address)?.bytes ?? new Uint8Array(answer.type === TYPE_A ? 4 : 16));
    const record = Buffer.alloc(12 + rdata.length);
    record.writeUInt16BE(0xc00c, 0); // pointer to the question's name
    record.writeUInt16BE(answer.type, 2);
    record.writeUInt16BE(CLASS_IN, 4);
    record.writeUInt32BE(Math.max(0, Math.min(answer.ttl, 0x7fffffff)), 6);
    record.writeUInt16BE(rdata.length, 10);
    rdata.copy(record, 12);
    return record;
  });
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.length >= 2 ? query.readUInt16BE(0) : 0, 0);
  const opcode = query.length >= 3 ? (query[2] ?? 0) & 0x78 : 0;
  const rd = query.length >= 3 ? (query[2] ?? 0) & 0x01 : 0;
  header[2] = 0x80 | opcode | rd;
  header[3] = 0x80 | rcode;
  header.writeUInt16BE(question ? 1 : 0, 4);
  header.writeUInt16BE(records.length, 6);
  return Buffer.concat([header, questionBytes, ...records]);
}

export interface DnsServerOptions {
  readonly vm: string;
  /** socketPath is the VM's dns.sock that QEMU's guestfwd connects to. */
  readonly socketPath?: string;
  /** tcpPort, when set, also listens on 127.0.0.1 (0 picks a free port); for tests. */
  readonly tcpPort?: number;
  readonly resolver?: DnsResolver;
  readonly nameCache: NameCache;
  /** onLookup receives one `dns` log entry per answered question. */
  readonly onLookup?: (entry: FirewallLogEntry) => void;
  readonly idleTimeoutMs?: number;
  readonly messageDeadlineMs?: number;
  readonly maxConnections?: number;
}

/**
 * DnsServer is the guest's only resolver under restrict=on. The guest's
 * resolv.conf says `options use-vc`, so queries come as DNS over TCP (RFC 7766
 * framing: a 2-byte length before each message, several per connection) to
 * 10.0.2.100:53, which QEMU forwards to this VM's dns.sock.
 *
 * It answers A and AAAA through the host's resolver and records each answer in
 * the VM's NameCache; other query types and opcodes get NOTIMP, malformed
 * queries FORMERR, names that do not exist NXDOMAIN, resolver failures
 * SERVFAIL. Lookups are not gated by rules (a guest can still leak data in the
 * names it asks for); connections are.
 */
export class DnsServer {
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly resolver: DnsResolver;
  private tcpAddress: number | null = null;

  constructor(private readonly options: DnsServerOptions) {
    this.resolver = options.resolver ?? hostResolver();
  }

  /** tcpPort is the port the test listener got, or null. */
  get tcpPort(): number | null {
    return this.tcpAddress;
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  async listen(): Promise<void> {
    const opened = await openListeners(this.options, () => this.createServer());
    this.servers.push(...opened.servers);
    this.tcpAddress = opened.tcpPort;
  }

  async close(): Promise<void> {
    await closeListeners(this.servers, this.sockets, this.options.socketPath);
  }

  /** answer resolves one DNS message to its response; exposed for tests of the protocol. */
  async answer(query: Buffer): Promise<Buffer> {
    const question = parseQuestion(query);
    if (!question) return buildResponse(query, null, RCODE.formErr);
    const opcode = ((query[2] ?? 0) >> 3) & 0x0f;
    if (opcode !== 0 || question.klass !== CLASS_IN || (question.type !== TYPE_A && question.type !== TYPE_AAAA)) {
      return buildResponse(query, question, RCODE.notImp);
    }
    const name = normalizeHostname(question.name);
    if (!name) return buildResponse(query, question, RCODE.nxDomain);
    if (name === HOST_INTERNAL_NAME) {
      const answers = question.type === TYPE_A ? [{ type: TYPE_A, address: HOST_INTERNAL_IP, ttl: 60 }] : [];
      this.recordLookup(name, answers.map((a) => a.address), answers.map(() => 60));
      return buildResponse(query, question, RCODE.noError, answers);
    }
    try {
      const found = question.type === TYPE_A ? await this.resolver.resolve4(name) : await this.resolver.resolve6(name);
      const answers = found.map((r) => ({ type: question.type, address: r.address, ttl: r.ttl }));
      this.recordLookup(name, found.map((r) => r.address), found.map((r) => r.ttl));
      return buildResponse(query, question, RCODE.noError, answers);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENODATA') return buildResponse(query, question, RCODE.noError);
      if (code === 'ENOTFOUND') {
        this.recordLookup(name, [], []);
        return buildResponse(query, question, RCODE.nxDomain);
      }
      return buildResponse(query, question, RCODE.servFail);
    }
  }

  private recordLookup(name: string, addresses: string[], ttls: number[]): void {
    addresses.forEach((address, i) => this.options.nameCache.record(address, name, ttls[i] ?? 0));
    this.options.onLookup?.({
      at: new Date().toISOString(),
      vm: this.options.vm,
      kind: 'dns',
      destination: { ip: null, port: 53, name, nameSource: 'dns', service: 'dns' },
      addresses,
    });
  }

  private createServer(): Server {
    return createServer((socket) => this.serve(socket));
  }

  /**
   * serve reads RFC 7766 frames from one guest connection. At most
   * MAX_IN_FLIGHT questions of a connection are being answered at once (the
   * rest wait in its buffer, and reading pauses); a message begun must
   * arrive whole within MESSAGE_DEADLINE_MS, so a client trickling bytes
   * cannot hold the connection; the server keeps at most MAX_CONNECTIONS,
   * refusing more at once; a connection idle for the idle timeout closes.
   */
  private serve(socket: Socket): void {
    if (this.sockets.size >= (this.options.maxConnections ?? MAX_CONNECTIONS)) {
      socket.destroy();
      return;
    }
    const messageDeadlineMs = this.options.messageDeadlineMs ?? MESSAGE_DEADLINE_MS;
    let buffered: Buffer = Buffer.alloc(0);
    let inFlight = 0;
    let deadline: NodeJS.Timeout | undefined;
    this.sockets.add(socket);
    socket.setTimeout(this.options.idleTimeoutMs ?? 30_000, () => socket.destroy());
    socket.on('close', () => {
      this.sockets.delete(socket);
      clearTimeout(deadline);
    });
    socket.on('error', () => socket.destroy());
    const send = (response: Buffer): void => {
      if (socket.destroyed) return;
      const frame = Buffer.alloc(2 + response.length);
      frame.writeUInt16BE(response.length, 0);
      response.copy(frame, 2);
      socket.write(frame);
    };
    const drain = (): void => {
      if (socket.destroyed) return;
      let completed = false;
      while (inFlight < MAX_IN_FLIGHT && buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) break;
        const message = Buffer.from(buffered.subarray(2, 2 + length));
        buffered = buffered.subarray(2 + length);
        completed = true;
        inFlight += 1;
        void this.answer(message)
          .then(send)
          .finally(() => {
            inFlight -= 1;
            drain();
          });
      }
      const partial = buffered.length > 0 && inFlight < MAX_IN_FLIGHT;
      if (!partial || completed) {
        clearTimeout(deadline);
        deadline = undefined;
      }
      if (partial && deadline === undefined) {
        deadline = setTimeout(() => socket.destroy(), messageDeadlineMs);
      }
      if (inFlight >= MAX_IN_FLIGHT || buffered.length > MAX_BUFFERED) socket.pause();
      else socket.resume();
    };
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      drain();
    });
  }
}
