// test/helpers/http1: raw HTTP/1.1 over node:net for the gateway's protocol tests — a byte reader,
// a message parser, a raw backend and a raw client — so a test controls and sees every byte on both
// sides of the proxy. The parser is deliberately lenient (bare LF ends a line, a folded line is read
// as a header of its own, Transfer-Encoding beats Content-Length), like the sloppiest backend a
// proxy may sit in front of: a request the gateway smuggles past its own parser shows up here.
import { freePort } from './tools.ts';
import net from 'node:net';
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import { Gateway, type GatewayOptions } from '../../src/gateway/gateway.ts';
import type { Endpoint, RevisionLimits } from '../../src/gateway/ports.ts';
import { silentLogger } from '../../src/core/logger.ts';

const EMPTY = Buffer.alloc(0);

/** Buffers what a socket receives and hands it out by delimiter or by count. */
export class Wire {
  private chunks: Buffer[] = [];
  private length = 0;
  private ended = false;
  private wake: (() => void) | undefined;
  readonly closed: Promise<void>;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.length += d.length;
      this.kick();
    });
    socket.on('error', () => {}); // a reset shows up as 'close'; tests look at what arrived
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.ended = true;
      this.kick();
      resolve();
    }));
  }

  get buffered(): number {
    return this.length;
  }

  /** The bytes up to and including `delim`; undefined when the socket closes first. */
  async readUntil(delim: string): Promise<Buffer | undefined> {
    for (;;) {
      const all = this.compact();
      const at = all.indexOf(delim);
      if (at >= 0) return this.take(at + delim.length);
      if (!(await this.more())) return undefined;
    }
  }

  /** Exactly n bytes; undefined when the socket closes first. */
  async readN(n: number): Promise<Buffer | undefined> {
    while (this.length < n) if (!(await this.more())) return undefined;
    this.compact();
    return this.take(n);
  }

  /** Everything until the peer closes. */
  async readToClose(): Promise<Buffer> {
    while (await this.more());
    return this.take(this.length);
  }

  private compact(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? EMPTY;
  }

  private take(n: number): Buffer {
    const all = this.compact();
    const out = all.subarray(0, n);
    this.chunks = n < all.length ? [all.subarray(n)] : [];
    this.length -= n;
    return out;
  }

  private more(): Promise<boolean> {
    if (this.ended) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.wake = () => resolve(true);
    }).then(() => !this.ended || this.length > 0);
  }

  private kick(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}

export interface Message {
  /** request line or status line */
  line: string;
  headers: [string, string][];
  body: Buffer;
  trailers: [string, string][];
  /** the head as received, for byte-level checks */
  rawHead: Buffer;
  /** whether the body was chunked on the wire */
  chunked: boolean;
}

export interface Response extends Message {
  status: number;
  /** 1xx responses received before this one */
  interim: Message[];
}

export function header(m: { headers: [string, string][] }, name: string): string | undefined {
  const vals = m.headers.filter(([k]) => k.toLowerCase() === name).map(([, v]) => v);
  return vals.length ? vals.join(', ') : undefined;
}

export class Truncated extends Error {}

async function readHead(w: Wire): Promise<{ line: string; headers: [string, string][]; rawHead: Buffer } | undefined> {
  const first = await w.readUntil('\n');
  if (!first) return undefined;
  const lines = [first.toString('latin1').replace(/\r?\n$/, '')];
  const parts = [first];
  for (;;) {
    const l = await w.readUntil('\n');
    if (!l) throw new Truncated('closed inside a message head');
    parts.push(l);
    const text = l.toString('latin1').replace(/\r?\n$/, '');
    if (text === '') break;
    lines.push(text);
  }
  const headers = lines.slice(1).map((l): [string, string] => {
    const colon = l.indexOf(':');
    return [l.slice(0, colon).trim(), l.slice(colon + 1).trim()];
  });
  return { line: lines[0]!, headers, rawHead: Buffer.concat(parts) };
}

async function readChunked(w: Wire): Promise<{ body: Buffer; trailers: [string, string][] }> {
  const parts: Buffer[] = [];
  for (;;) {
    const sizeLine = await w.readUntil('\n');
    if (!sizeLine) throw new Truncated('closed inside a chunked body');
    const size = parseInt(sizeLine.toString('latin1').split(';')[0]!.trim(), 16);
    if (size === 0) break;
    const data = await w.readN(size);
    if (!data || !(await w.readUntil('\n'))) throw new Truncated('closed inside a chunk');
    parts.push(Buffer.from(data));
  }
  const trailers: [string, string][] = [];
  for (;;) {
    const l = await w.readUntil('\n');
    if (!l) throw new Truncated('closed inside the trailers');
    const text = l.toString('latin1').replace(/\r?\n$/, '');
    if (text === '') break;
    const colon = text.indexOf(':');
    trailers.push([text.slice(0, colon).trim(), text.slice(colon + 1).trim()]);
  }
  return { body: Buffer.concat(parts), trailers };
}

async function readBody(w: Wire, m: { headers: [string, string][] }, toClose: boolean): Promise<{ body: Buffer; trailers: [string, string][]; chunked: boolean }> {
  if (/chunked\s*$/i.test(header(m, 'transfer-encoding') ?? '')) return { ...(await readChunked(w)), chunked: true };
  const cl = header(m, 'content-length');
  if (cl !== undefined) {
    const n = parseInt(cl, 10);
    const body = await w.readN(n);
    if (!body) throw new Truncated(`closed after ${w.buffered} of ${n} body bytes`);
    return { body: Buffer.from(body), trailers: [], chunked: false };
  }
  return { body: toClose ? await w.readToClose() : EMPTY, trailers: [], chunked: false };
}

/** One request as a server reads it; undefined when the connection closes between requests. */
export async function readRequest(w: Wire): Promise<Message | undefined> {
  const head = await readHead(w);
  if (!head) return undefined;
  return { ...head, ...(await readBody(w, head, false)) };
}

/** One final response (1xx ones are collected on the way) to a request made with `method`. */
export async function readResponse(w: Wire, method = 'GET'): Promise<Response> {
  const interim: Message[] = [];
  for (;;) {
    const head = await readHead(w);
    if (!head) throw new Truncated('closed before a response');
    const status = Number(head.line.split(' ')[1]);
    if (status >= 100 && status < 200 && status !== 101) {
      interim.push({ ...head, body: EMPTY, trailers: [], chunked: false });
      continue;
    }
    const bodiless = method === 'HEAD' || status === 101 || status === 204 || status === 304;
    const body = bodiless ? { body: EMPTY, trailers: [], chunked: false } : await readBody(w, head, true);
    return { ...head, ...body, status, interim };
  }
}

export interface Seen extends Message {
  method: string;
  target: string;
  /** which backend connection carried it, counted from 1 */
  conn: number;
}

/** Writes the response to a request; may keep the socket, end it or reset it. */
export type Respond = (req: Seen, socket: net.Socket, w: Wire) => void | Promise<void>;

export interface RawBackend {
  endpoint: Endpoint;
  requests: Seen[];
  connections: number;
  maxActive: number;
}

export const ok: Respond = (_req, socket) => void socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');

/** A backend instance on a raw socket: reads requests one after another on each connection. */
export async function rawBackend(t: TestContext, id: string, respond: Respond = ok): Promise<RawBackend> {
  const b: RawBackend = { endpoint: { id, host: '127.0.0.1', port: 0 }, requests: [], connections: 0, maxActive: 0 };
  const sockets = new Set<net.Socket>();
  let active = 0;
  const server = net.createServer(async (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const conn = ++b.connections;
    const w = new Wire(socket);
    try {
      for (;;) {
        const m = await readRequest(w);
        if (!m) break;
        const [method = '', target = ''] = m.line.split(' ');
        const req: Seen = { ...m, method, target, conn };
        b.requests.push(req);
        b.maxActive = Math.max(b.maxActive, ++active);
        try {
          await respond(req, socket, w);
        } finally {
          active--;
        }
        if (socket.destroyed) break;
      }
    } catch {
      socket.destroy();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  b.endpoint.port = (server.address() as net.AddressInfo).port;
  t.after(() => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  }));
  return b;
}

export const LIMITS: RevisionLimits = { concurrency: 0, queueLimit: 100, timeoutMs: 5_000 };

/** What a test may set on its gateway: when asked for capacity, publish these instances after a delay
 *  (a stand-in scheduler for held requests), and the Gateway's own options. */
export interface GatewaySetup {
  publishOnDemand?: { endpoints: Endpoint[]; afterMs: number };
  options?: GatewayOptions;
}

/** A gateway routing host s.test (and /s/s/) to revision s-1 on the given instances. */
export async function startGateway(t: TestContext, endpoints: Endpoint[], limits: Partial<RevisionLimits> = {}, setup: GatewaySetup = {}): Promise<{ gw: Gateway; port: number }> {
  const onDemand = setup.publishOnDemand;
  const gw: Gateway = new Gateway(
    { requestCapacity: (rev) => void (onDemand && setTimeout(() => gw.setEndpoints(rev, onDemand.endpoints), onDemand.afterMs)) },
    silentLogger,
    setup.options,
  );
  gw.setRevision('s-1', { ...LIMITS, ...limits });
  gw.setEndpoints('s-1', endpoints);
  gw.setRoutes([{ service: 's', hosts: ['s.test'], targets: [{ revision: 's-1', percent: 100 }] }]);
  const { port } = await gw.listen('127.0.0.1', 0);
  t.after(() => gw.close());
  return { gw, port };
}

/** startGateway() when only the port matters. */
export async function rawGateway(t: TestContext, endpoints: Endpoint[], limits: Partial<RevisionLimits> = {}): Promise<number> {
  return (await startGateway(t, endpoints, limits)).port;
}

/** A port nothing listens on: connections to it are refused (an instance that is gone). */
export const refusedPort = freePort;

/** A raw client connection to the gateway, destroyed after the test. */
export async function connect(t: TestContext, port: number): Promise<Wire> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  t.after(() => socket.destroy());
  await once(socket, 'connect');
  return new Wire(socket);
}

/** Writes raw bytes and reads one response. */
export async function exchange(w: Wire, raw: string | Buffer, method = 'GET'): Promise<Response> {
  w.socket.write(raw);
  return readResponse(w, method);
}

/** A plain GET for s.test with extra header lines. */
export function get(target = '/', extra = ''): string {
  return `GET ${target} HTTP/1.1\r\nHost: s.test\r\n${extra}\r\n`;
}
