// Runs in: plain Node, inside the test internet's network namespace (started
// by test/helpers/netlab.ts through `ip netns exec`). Plain JavaScript so it
// needs no TypeScript loader, and independent of Xray's code: it is what the
// code under test talks to.
//
// argv[2] is a JSON config: { addresses: { web, tls, tcp, dns }, ports: { http,
// https, tcp, dns }, names: { name: IPv4 }, certPath, keyPath }.
// stdout carries JSON lines: {"type":"ready"} once every server listens,
// {"type":"seen","request":{...}} for each request, {"type":"pong","id":N}
// for each "ping N" line read on stdin. The process exits when stdin ends, so
// it never outlives the test process that started it.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer } from 'node:net';
import { createInterface } from 'node:readline';

const config = JSON.parse(process.argv[2] ?? '{}');
const names = new Map(Object.entries(config.names));

/** TTL_SECONDS is short so a resolver never keeps an answer beyond one test file. */
const TTL_SECONDS = 60;
const TYPE_A = 1;
const CLASS_IN = 1;
const RCODE = { noError: 0, formErr: 1, nxDomain: 3, notImp: 4 };
const TYPE_NAMES = new Map([[1, 'A'], [2, 'NS'], [5, 'CNAME'], [6, 'SOA'], [12, 'PTR'], [15, 'MX'], [16, 'TXT'], [28, 'AAAA'], [33, 'SRV'], [65, 'HTTPS'], [255, 'ANY']]);

/** emit writes one JSON line; stdout to a pipe is synchronous, so lines keep their order. */
function emit(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** seen reports one request; every field is present so the parent can compare records whole. */
function seen(fields) {
  emit({ type: 'seen', request: { method: null, path: null, host: null, sni: null, authorization: null, ...fields, at: new Date().toISOString() } });
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
}

/** httpHandler answers every request with 200 and a body naming the server, address, Host and path. */
function httpHandler(server, address) {
  return (req, res) => {
    const host = req.headers.host ?? null;
    const sni = typeof req.socket.servername === 'string' ? req.socket.servername : null;
    const authorization = req.headers.authorization ?? null;
    seen({ server, method: req.method, path: req.url, host, sni, authorization, remoteAddress: req.socket.remoteAddress });
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`hello from ${server} ${address} host=${host ?? ''} path=${req.url}\n`);
  };
}

/** startTcp runs the non-HTTP server: a one-line banner first, then an echo of whatever arrives. */
function startTcp() {
  const server = createTcpServer((socket) => {
    seen({ server: 'tcp', remoteAddress: socket.remoteAddress });
    socket.on('error', () => socket.destroy());
    socket.write(`netlab tcp ${config.addresses.tcp} ready\n`);
    socket.pipe(socket);
  });
  return listen(server, config.ports.tcp, config.addresses.tcp);
}

/** readQuestion parses the one question of a query; null when the message is malformed. */
function readQuestion(message) {
  if (message.length < 12 || message.readUInt16BE(4) !== 1) return null;
  const labels = [];
  let offset = 12;
  for (;;) {
    const length = message[offset];
    if (length === undefined || length > 63) return null;
    offset += 1;
    if (length === 0) break;
    if (offset + length > message.length) return null;
    labels.push(message.toString('latin1', offset, offset + length));
    offset += length;
  }
  if (offset + 4 > message.length) return null;
  return { name: labels.join('.').toLowerCase(), type: message.readUInt16BE(offset), class: message.readUInt16BE(offset + 2), end: offset + 4 };
}

/** header builds a response header: the query's id, opcode and RD bit, authoritative, with `rcode`. */
function header(query, rcode, questions, answers) {
  const out = Buffer.alloc(12);
  const flags = query.readUInt16BE(2);
  out.writeUInt16BE(query.readUInt16BE(0), 0);
  out.writeUInt16BE(0x8000 | (flags & 0x7800) | 0x0400 | (flags & 0x0100) | rcode, 2);
  out.writeUInt16BE(questions, 4);
  out.writeUInt16BE(answers, 6);
  return out;
}

/** answerA is one A record whose name points back at the question (offset 12). */
function answerA(address) {
  const out = Buffer.alloc(16);
  out.writeUInt16BE(0xc00c, 0);
  out.writeUInt16BE(TYPE_A, 2);
  out.writeUInt16BE(CLASS_IN, 4);
  out.writeUInt32BE(TTL_SECONDS, 6);
  out.writeUInt16BE(4, 10);
  address.split('.').forEach((octet, i) => out.writeUInt8(Number(octet), 12 + i));
  return out;
}

/**
 * answerDns builds the response to one query (RFC 1035): A records from the
 * names table, NOERROR without answers for other types of a known name,
 * NXDOMAIN for an unknown one. Null means drop (a response, or too short to
 * carry an id).
 */
function answerDns(query, remoteAddress) {
  if (query.length < 12 || (query[2] & 0x80) !== 0) return null;
  const question = readQuestion(query);
  if (!question) return header(query, RCODE.formErr, 0, 0);
  seen({ server: 'dns', method: TYPE_NAMES.get(question.type) ?? `TYPE${question.type}`, host: question.name, remoteAddress });
  const echoed = query.subarray(12, question.end);
  if (((query[2] >> 3) & 0x0f) !== 0) return Buffer.concat([header(query, RCODE.notImp, 1, 0), echoed]);
  const address = names.get(question.name);
  if (address === undefined) return Buffer.concat([header(query, RCODE.nxDomain, 1, 0), echoed]);
  if (question.type !== TYPE_A || question.class !== CLASS_IN) return Buffer.concat([header(query, RCODE.noError, 1, 0), echoed]);
  return Buffer.concat([header(query, RCODE.noError, 1, 1), echoed, answerA(address)]);
}

function startDnsUdp() {
  const socket = createSocket('udp4');
  socket.on('message', (query, remote) => {
    const response = answerDns(query, remote.address);
    if (response) socket.send(response, remote.port, remote.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(config.ports.dns, config.addresses.dns, () => resolve());
  });
}

/** startDnsTcp serves DNS over TCP (RFC 7766): 2-byte length framing, any number of queries per connection. */
function startDnsTcp() {
  const server = createTcpServer((socket) => {
    let buffered = Buffer.alloc(0);
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const length = buffered.readUInt16BE(0);
        const response = answerDns(buffered.subarray(2, 2 + length), socket.remoteAddress);
        buffered = buffered.subarray(2 + length);
        if (!response) continue;
        const frame = Buffer.alloc(2);
        frame.writeUInt16BE(response.length, 0);
        socket.write(Buffer.concat([frame, response]));
      }
    });
  });
  return listen(server, config.ports.dns, config.addresses.dns);
}

/** answerPings echoes "ping N" lines as pongs: the parent's barrier for "every request so far is reported". */
function answerPings() {
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const match = /^ping (\d+)$/.exec(line.trim());
    if (match) emit({ type: 'pong', id: Number(match[1]) });
  });
  lines.on('close', () => process.exit(0));
}

async function main() {
  const tls = { cert: readFileSync(config.certPath), key: readFileSync(config.keyPath) };
  await Promise.all([
    listen(createHttpServer(httpHandler('web', config.addresses.web)), config.ports.http, config.addresses.web),
    listen(createHttpsServer(tls, httpHandler('tls', config.addresses.tls)), config.ports.https, config.addresses.tls),
    ...Object.entries(config.addresses).map(([server, address]) => listen(createHttpServer(httpHandler(server, address)), config.ports.httpAlt, address)),
    startTcp(),
    startDnsUdp(),
    startDnsTcp(),
  ]);
  answerPings();
  emit({ type: 'ready' });
}

main().catch((error) => {
  process.stderr.write(`netlab servers failed to start: ${error.message}\n`);
  process.exit(1);
});
