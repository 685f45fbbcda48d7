// gateway/gateway: the data plane. Per request, in this order (and why):
//   1. route     Host header, else /s/NAME/ (in-memory table; no store or disk work per request)
//   2. split     pick a revision by traffic percent
//   3. acquire   a slot on the least-loaded ready instance; none → held in the activator queue,
//                one capacity request per burst; queue full or timeout → 503, never a hang
//   4. forward   stream the request once connected; connect failure before any byte → next instance
//   5. release   the slot when the response ends, which may hand the instance to a held request
// Websocket upgrades take the same route/split/acquire steps and then splice the sockets.
// Two paths share these steps: connections start on the raw fast path (fast-path.ts), which serves
// plain requests that find an instance free at once; anything else is handed to the node:http path
// below, which owns the activator queue, retries across instances, upgrades and odd requests.
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../core/logger.ts';
import type { ErrorCode } from '../core/errors.ts';
import type { Endpoint, Route, RevisionLimits, ScalePort } from './ports.ts';
import { RouteTable, pickRevision, type Match } from './routing.ts';
import { RevisionPool, type Slot } from './pool.ts';
import { forward } from './forward.ts';
import { forwardedHeaders } from './headers.ts';
import { refusalError, sendGatewayError } from './errors.ts';
import { FastConnection, type FastPathHost } from './fast-path.ts';
import { UpstreamPool } from './upstreams.ts';
import { InstanceClients } from './instance-clients.ts';

const MAX_ATTEMPTS = 3;
/** how often fast connections are checked against their deadlines (request timeouts, idle close) */
const SWEEP_MS = 100;

export interface GatewayOptions {
  /** random source for the traffic split, [0, 1) */
  random?: () => number;
  /** a request that waited `waitedMs` for an instance got its response head `firstByteMs` after it arrived */
  onColdStart?: (revision: string, waitedMs: number, firstByteMs: number) => void;
  /** serve plain requests on the raw fast path (default); false sends every connection to node:http */
  fastPath?: boolean;
}

export class Gateway implements FastPathHost {
  private readonly table = new RouteTable();
  private readonly pools = new Map<string, RevisionPool>();
  /** the node:http path's keep-alive connections, per published instance */
  private readonly clients: InstanceClients;
  private server: http.Server | undefined;
  private listener: net.Server | undefined;
  readonly upstreams = new UpstreamPool();
  private readonly fast = new Set<FastConnection>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly fastPath: boolean;
  /** upgraded (websocket) connections: not tracked by the http server, so closed here on shutdown */
  private readonly upgraded = new Set<Duplex>();
  private readonly random: () => number;
  private readonly onColdStart: GatewayOptions['onColdStart'];

  constructor(
    private readonly scale: ScalePort,
    private readonly log: Logger,
    opts: GatewayOptions = {},
  ) {
    this.random = opts.random ?? Math.random;
    this.onColdStart = opts.onColdStart;
    this.fastPath = opts.fastPath ?? true;
    this.clients = new InstanceClients((e) => this.upstreams.isPublished(e));
  }

  setRoutes(routes: Route[]): void {
    this.table.replace(routes);
  }

  /** Creates or updates the pool of a revision. */
  setRevision(revision: string, limits: RevisionLimits): void {
    const pool = this.pools.get(revision);
    if (pool) pool.limits = limits;
    else this.pools.set(revision, new RevisionPool(revision, limits, () => this.scale.requestCapacity(revision)));
  }

  removeRevision(revision: string): void {
    this.pools.get(revision)?.close();
    this.pools.delete(revision);
    this.clients.forget(this.upstreams.setEndpoints(revision, []));
  }

  setEndpoints(revision: string, endpoints: Endpoint[]): void {
    const pool = this.pools.get(revision);
    if (!pool) return;
    pool.setEndpoints(endpoints);
    this.clients.forget(this.upstreams.setEndpoints(revision, endpoints));
  }

  pool(revision: string): RevisionPool | undefined {
    return this.pools.get(revision);
  }

  /** Per-revision concurrency samples for the autoscaler tick. */
  sample(): Map<string, { concurrency: number; arrivals: number; ready: number }> {
    const out = new Map<string, { concurrency: number; arrivals: number; ready: number }>();
    for (const [rev, pool] of this.pools) out.set(rev, { ...pool.sample(), ready: pool.readyCount });
    return out;
  }

  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    // The http server never listens itself: the one listening socket is the fast path's, which hands
    // connections over. Its 'listening' event is what starts node:http's header/request timeout
    // checks (setupConnectionsTracking), so it is emitted here.
    const server = http.createServer({ keepAlive: true, noDelay: true }, (req, res) => void this.handle(req, res));
    server.on('upgrade', (req, socket, head) => void this.handleUpgrade(req, socket, head));
    server.on('clientError', (_err, socket) => socket.destroy());
    server.emit('listening');
    this.server = server;
    const listener = net.createServer({ allowHalfOpen: true, noDelay: true, keepAlive: true }, (socket) => {
      if (!this.fastPath) return this.handOff(socket, null);
      this.fast.add(new FastConnection(socket, this));
      this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS).unref();
    });
    this.listener = listener;
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(port, host, () => resolve());
    });
    const addr = listener.address() as net.AddressInfo;
    return { host, port: addr.port };
  }

  async close(): Promise<void> {
    for (const pool of this.pools.values()) pool.close();
    for (const socket of this.upgraded) socket.destroy();
    for (const conn of [...this.fast]) conn.destroy();
    this.upstreams.close();
    await this.clients.close();
    const server = this.server;
    const listener = this.listener;
    if (!server || !listener) return;
    // The listener's close waits for every connection it accepted, handed-off ones included, so
    // those are closed by the http server at the same time rather than after.
    await Promise.all([
      new Promise<void>((resolve) => listener.close(() => resolve())),
      new Promise<void>((resolve) => {
        server.close(() => resolve()); // reports "not running" (it never listened) after closing its connections
        server.closeAllConnections();
      }),
    ]);
  }

  /** FastPathHost: the connection leaves the fast path for good. */
  handOff(socket: net.Socket, pending: Buffer | null): void {
    socket.pause();
    if (pending) socket.unshift(pending);
    this.server!.emit('connection', socket);
    socket.resume();
  }

  /** FastPathHost */
  coldStart(revision: string, waitedMs: number, firstByteMs: number): void {
    this.onColdStart?.(revision, waitedMs, firstByteMs);
  }

  /** FastPathHost */
  forget(conn: FastConnection): void {
    this.fast.delete(conn);
    if (this.fast.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  /** FastPathHost: the same route and split as the slow path; a miss is left to it to answer. */
  routeFor(host: string, target: string): { path: string; pool: RevisionPool; service: string } | undefined {
    const routed = this.resolve(host, target);
    return 'error' in routed ? undefined : { path: routed.match.path, pool: routed.pool, service: routed.match.route.service };
  }

  private sweep(): void {
    const now = performance.now();
    for (const conn of this.fast) if (conn.deadline <= now) conn.expire();
  }

  private route(req: http.IncomingMessage): { match: Match; pool: RevisionPool } | { error: ErrorCode; message: string } {
    toOriginForm(req);
    return this.resolve(req.headers.host, req.url ?? '/');
  }

  private resolve(host: string | undefined, url: string): { match: Match; pool: RevisionPool } | { error: ErrorCode; message: string } {
    const match = this.table.match(host, url);
    if (!match) return { error: 'NOT_FOUND', message: `no service is routed at host ${host ?? '(none)'} path ${url.slice(0, 100)}` };
    const revision = pickRevision(match.route.targets, this.random() * 100);
    const pool = revision === undefined ? undefined : this.pools.get(revision);
    if (!pool) return { error: 'NOT_FOUND', message: `service ${match.route.service} has no revision taking traffic` };
    return { match, pool };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const arrived = performance.now();
    const routed = this.route(req);
    if ('error' in routed) return sendGatewayError(res, routed.error, routed.message);
    const { match, pool } = routed;
    const headers = forwardedHeaders(req.headers, req.socket.remoteAddress, false);
    let refused: Set<string> | undefined;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      // Most acquires are synchronous: await only a held request's promise (saves a tick per request).
      let got = pool.acquire(refused);
      if (got instanceof Promise) got = await got;
      if (!got.ok) return sendGatewayError(res, ...refusalError(got.reason, pool));
      const { slot } = got;
      const extra = slot.waitedMs > 0 ? { 'x-skiff-cold-start': String(Math.round(slot.waitedMs)) } : undefined;
      const onHead = extra && this.onColdStart ? () => this.onColdStart?.(pool.revision, slot.waitedMs, performance.now() - arrived) : undefined;
      const outcome = await forward(req, res, slot.endpoint, match.path, headers, this.clients.for(slot.endpoint), pool.limits.timeoutMs, extra, onHead);
      slot.release();
      switch (outcome) {
        case 'done':
        case 'client-gone':
          return;
        case 'retry':
          (refused ??= new Set()).add(slot.endpoint.id);
          this.log.debug({ revision: pool.revision, instance: slot.endpoint.id, attempt }, 'instance refused connection; retrying');
          continue;
        case 'upstream-timeout':
          return sendGatewayError(res, 'UPSTREAM_TIMEOUT', `${match.route.service} did not answer within ${pool.limits.timeoutMs} ms`);
        case 'upstream-failed':
          return sendGatewayError(res, 'UPSTREAM_FAILED', `${match.route.service} closed the connection or failed`);
      }
    }
    sendGatewayError(res, 'UPSTREAM_FAILED', `${match.route.service}: no instance accepted the connection after ${MAX_ATTEMPTS} attempts`);
  }

  private async handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const routed = this.route(req);
    if ('error' in routed) return rejectUpgrade(socket, 404, routed.message);
    const got = await routed.pool.acquire();
    if (!got.ok) return rejectUpgrade(socket, 503, refusalError(got.reason, routed.pool)[1]);
    this.upgraded.add(socket);
    socket.once('close', () => this.upgraded.delete(socket));
    spliceUpgrade(req, socket, head, got.slot, routed.match.path);
  }
}

/** An absolute-form target (`GET http://host/path`) names the host itself, and that wins over the Host
 *  header (RFC 9112 §3.2.2): route by it and forward origin-form with a matching Host. */
function toOriginForm(req: http.IncomingMessage): void {
  const url = req.url ?? '/';
  if (url.startsWith('/') || !/^https?:\/\//i.test(url)) return;
  try {
    const parsed = new URL(url);
    req.headers.host = parsed.host;
    req.url = parsed.pathname + parsed.search;
  } catch {
    req.url = '/'; // unparsable: routed by Host to nothing more specific than the root
  }
}


function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(message)}\r\n\r\n${message}`);
}

/** Websocket (or any Upgrade): replay the request head to the instance, then splice the two sockets. */
function spliceUpgrade(req: http.IncomingMessage, client: Duplex, head: Buffer, slot: Slot, path: string): void {
  const upstream = net.connect(slot.endpoint.port, slot.endpoint.host);
  let released = false;
  const done = () => {
    if (released) return;
    released = true;
    slot.release();
    client.destroy();
    upstream.destroy();
  };
  upstream.once('connect', () => {
    const lines = [`${req.method} ${path} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    upstream.write(lines.join('\r\n') + '\r\n\r\n');
    if (head.length) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', done);
  client.on('error', done);
  upstream.on('close', done);
  client.on('close', done);
}
