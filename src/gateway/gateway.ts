// gateway/gateway: the data plane. Per request, in this order (and why):
//   1. route     Host header, else /s/NAME/ (in-memory table; no store or disk work per request)
//   2. split     pick a revision by traffic percent
//   3. acquire   a slot on the least-loaded ready instance; none → held in the activator queue,
//                one capacity request per burst; queue full or timeout → 503, never a hang
//   4. forward   stream the request once connected; connect failure before any byte → next instance
//   5. release   the slot when the response ends, which may hand the instance to a held request
// Websocket upgrades take the same route/split/acquire steps and then splice the sockets.
import http from 'node:http';
import net from 'node:net';
import { Agent } from 'undici';
import type { Duplex } from 'node:stream';
import type { Logger } from '../core/logger.ts';
import type { ErrorCode } from '../core/errors.ts';
import type { Endpoint, Route, RevisionLimits, ScalePort } from './ports.ts';
import { RouteTable, pickRevision, type Match } from './routing.ts';
import { RevisionPool, type AcquireResult, type Slot } from './pool.ts';
import { forward } from './forward.ts';
import { forwardedHeaders } from './headers.ts';
import { sendGatewayError } from './errors.ts';

const MAX_ATTEMPTS = 3;

export interface GatewayOptions {
  /** random source for the traffic split, [0, 1) */
  random?: () => number;
  /** a request that waited `waitedMs` for an instance got its response head `firstByteMs` after it arrived */
  onColdStart?: (revision: string, waitedMs: number, firstByteMs: number) => void;
}

export class Gateway {
  private readonly table = new RouteTable();
  private readonly pools = new Map<string, RevisionPool>();
  /** keep-alive connections per instance address; timeouts are the gateway's own (per revision) */
  private readonly agent = new Agent({ headersTimeout: 0, bodyTimeout: 0 });
  private server: http.Server | undefined;
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
  }

  setEndpoints(revision: string, endpoints: Endpoint[]): void {
    this.pools.get(revision)?.setEndpoints(endpoints);
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
    const server = http.createServer({ keepAlive: true, noDelay: true }, (req, res) => void this.handle(req, res));
    server.on('upgrade', (req, socket, head) => void this.handleUpgrade(req, socket, head));
    server.on('clientError', (_err, socket) => socket.destroy());
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const addr = server.address() as net.AddressInfo;
    return { host, port: addr.port };
  }

  async close(): Promise<void> {
    for (const pool of this.pools.values()) pool.close();
    for (const socket of this.upgraded) socket.destroy();
    await this.agent.destroy();
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private route(req: http.IncomingMessage): { match: Match; pool: RevisionPool } | { error: ErrorCode; message: string } {
    const match = this.table.match(req.headers.host, req.url ?? '/');
    if (!match) return { error: 'NOT_FOUND', message: `no service is routed at host ${req.headers.host ?? '(none)'} path ${(req.url ?? '').slice(0, 100)}` };
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
      if (!got.ok) return sendGatewayError(res, ...refusal(got, pool));
      const { slot } = got;
      const extra = slot.waitedMs > 0 ? { 'x-skiff-cold-start': String(Math.round(slot.waitedMs)) } : undefined;
      const onHead = extra && this.onColdStart ? () => this.onColdStart?.(pool.revision, slot.waitedMs, performance.now() - arrived) : undefined;
      const outcome = await forward(req, res, slot.endpoint, match.path, headers, this.agent, pool.limits.timeoutMs, extra, onHead);
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
    if (!got.ok) return rejectUpgrade(socket, 503, refusal(got, routed.pool)[1]);
    this.upgraded.add(socket);
    socket.once('close', () => this.upgraded.delete(socket));
    spliceUpgrade(req, socket, head, got.slot, routed.match.path);
  }
}

function refusal(got: Exclude<AcquireResult, { ok: true }>, pool: RevisionPool): [ErrorCode, string] {
  switch (got.reason) {
    case 'queue-full':
      return ['QUEUE_FULL', `revision ${pool.revision}: all instances busy and ${pool.limits.queueLimit} requests already waiting`];
    case 'timeout':
      return ['COLD_START_TIMEOUT', `revision ${pool.revision}: no instance became ready within ${pool.limits.timeoutMs} ms`];
    case 'closed':
      return ['UNAVAILABLE', `revision ${pool.revision} is shutting down`];
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
