// gateway/gateway: the data plane. Per request, in this order (and why):
//   1. route     Host header, else /s/NAME/ (in-memory table; no store or disk work per request)
//   2. split     pick a revision by traffic percent
//   3. acquire   a slot on the least-loaded ready instance; none → held in the activator queue,
//                one capacity request per burst; queue full or timeout → 503, never a hang
//   4. forward   stream the request once connected; connect failure before any byte → next instance
//   5. release   the slot when the response ends, which may hand the instance to a held request
// Websocket upgrades take the same route/split/acquire steps and splice the sockets once the
// instance answers 101 (tunnel.ts).
// Before any of it, a connection must fit the connection limits (limits.ts), and its head must arrive
// within the head timeout and be well-formed: one Host, no more than node:http's 16 KiB; a head
// refused is answered (400, 408, 431 in the API's JSON shape) and the connection closed.
// Custom domains (tls.ts): on the TLS port, the certificate is chosen by SNI and the connection then
// takes the same paths; on the plain port, ACME HTTP-01 challenges are answered and a domain that asks
// for it is redirected to https:// (both on the node:http path) once its certificate is served.
// Two paths share these steps: connections start on the raw fast path (fast-path.ts), which serves
// plain requests that find an instance free at once; anything else is handed to the node:http path
// below, which owns the activator queue, retries across instances, upgrades and odd requests.
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Logger } from '../core/logger.ts';
import type { ErrorCode } from '../core/errors.ts';
import type { AsyncPort, Endpoint, Route, RevisionLimits, ScalePort } from './ports.ts';
import { acceptAsync, answerStatus, wantsAsync } from './async.ts';
import { INVOCATION_BODY_LIMIT } from '../core/events.ts';
import { RouteTable, pickRevision, type DomainRoute, type Match } from './routing.ts';
import { AcmeChallenges, TlsCertificates } from './tls.ts';
import { RevisionPool, type Slot } from './pool.ts';
import { forward } from './forward.ts';
import { forwardedHeaders, forwarding, priorForwarding, ProxyTrust } from './headers.ts';
import { rawGatewayError, refusalError, sendGatewayError } from './errors.ts';
import { FastConnection, type FastPathHost } from './fast-path.ts';
import { LINGER_MS, MAX_REQUEST_HEAD } from './http1.ts';
import { ConnectionCounter, connectionLimits, type ConnectionLimits } from './limits.ts';
import { UpgradeExchange } from './tunnel.ts';
import { UpstreamPool } from './upstreams.ts';
import { InstanceClients } from './instance-clients.ts';
import type { ColdStartBreakdown, Observer } from './observe.ts';
import { parseTraceparent, propagatedTraceparent } from './trace-context.ts';

const MAX_ATTEMPTS = 3;
/** request headers the gateway sets itself on an upgrade (and every request: headers.ts) */
const UPGRADE_DROPPED = new Set(['host', 'connection', 'upgrade', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'traceparent', 'tracestate']);
/** how often fast connections are checked against their deadlines (request timeouts, idle close) */
const SWEEP_MS = 100;

export interface GatewayOptions {
  /** random source for the traffic split, [0, 1) */
  random?: () => number;
  /** a request that waited `waitedMs` for an instance got its response head `firstByteMs` after it
   *  arrived; returns the cold start's stages when it was the request the instance was started for */
  onColdStart?: (revision: string, waitedMs: number, firstByteMs: number) => ColdStartBreakdown | undefined | unknown;
  /** tracing and the access log (observe.ts); none: only traceparent is passed on */
  observer?: Observer;
  /** serve plain requests on the raw fast path (default); false sends every connection to node:http */
  fastPath?: boolean;
  /** connection limits and timeouts; a missing or 0 value takes its default (limits.ts) */
  limits?: Partial<ConnectionLimits>;
  /** CIDRs of front proxies whose X-Forwarded-* / Forwarded are kept */
  trustedProxies?: readonly string[];
  /** a busy spell's billed length (metering/billing.ts roundUpBusy); default: as measured */
  roundBusy?: (ms: number) => number;
}

export class Gateway implements FastPathHost {
  private readonly table = new RouteTable();
  private readonly pools = new Map<string, RevisionPool>();
  /** the node:http path's keep-alive connections, per published instance */
  private readonly clients: InstanceClients;
  private server: http.Server | undefined;
  private listener: net.Server | undefined;
  private tlsListener: net.Server | undefined;
  /** the internal port: instances calling their tenant's services by name */
  private internalListener: net.Server | undefined;
  /** the tenant of each connection on the internal port (absent: a public port's connection) */
  private readonly callers = new WeakMap<object, string>();
  /** the TLS port's port, once it listens (redirects name it) */
  private tlsPort: number | undefined;
  /** what the TLS port serves, by SNI */
  readonly certificates = new TlsCertificates();
  /** ACME HTTP-01 answers of the plain port */
  readonly challenges = new AcmeChallenges();
  readonly upstreams = new UpstreamPool();
  private readonly fast = new Set<FastConnection>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly fastPath: boolean;
  /** upgraded (websocket) connections: not tracked by the http server, so closed here on shutdown */
  private readonly upgraded = new Set<Duplex>();
  private readonly random: () => number;
  private readonly onColdStart: GatewayOptions['onColdStart'];
  private readonly roundBusy: GatewayOptions['roundBusy'];
  /** FastPathHost */
  readonly observer: Observer | undefined;
  readonly limits: ConnectionLimits;
  private readonly connections: ConnectionCounter;
  private readonly trust: ProxyTrust;
  private async: AsyncPort | undefined;
  /** connections refused by the limits since start (for tests and metrics) */
  refusedConnections = 0;

  constructor(
    private readonly scale: ScalePort,
    private readonly log: Logger,
    opts: GatewayOptions = {},
  ) {
    this.random = opts.random ?? Math.random;
    this.onColdStart = opts.onColdStart;
    this.roundBusy = opts.roundBusy;
    this.observer = opts.observer;
    this.fastPath = opts.fastPath ?? true;
    this.limits = connectionLimits(opts.limits);
    this.connections = new ConnectionCounter(this.limits);
    this.trust = new ProxyTrust(opts.trustedProxies);
    this.clients = new InstanceClients((e) => this.upstreams.isPublished(e));
  }

  setRoutes(routes: Route[]): void {
    this.table.replace(routes);
  }

  /** Custom domains: each host goes to its service's route (routing.ts). */
  setDomains(domains: DomainRoute[]): void {
    this.table.setDomains(domains);
  }

  /** Creates or updates the pool of a revision. */
  setRevision(revision: string, limits: RevisionLimits): void {
    const pool = this.pools.get(revision);
    if (pool) pool.limits = limits;
    else this.pools.set(revision, new RevisionPool(revision, limits, () => this.scale.requestCapacity(revision), undefined, this.limits.tunnelIdleTimeoutMs, this.roundBusy));
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

  /** Every revision's pool, for a metrics scrape (read-only use: requests, in flight, queued). */
  revisionPools(): IterableIterator<RevisionPool> {
    return this.pools.values();
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
    const headTimeout = this.limits.headTimeoutMs;
    const server = http.createServer(
      {
        keepAlive: true,
        noDelay: true,
        headersTimeout: headTimeout,
        requestTimeout: Math.max(300_000, headTimeout),
        // node:http checks its timeouts every 30 s by default: far too coarse for a head timeout of seconds
        connectionsCheckingInterval: Math.min(1_000, Math.max(50, Math.floor(headTimeout / 5))),
      },
      (req, res) => void this.handle(req, res),
    );
    // A client may shut its side once the request is sent (nc, HTTP/1.0 scripts): node's http server
    // aborts such a request unless httpAllowHalfOpen is set (its socketOnEnd), and then it answers and
    // ends the connection after the response, as the fast path does.
    (server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    server.on('upgrade', (req, socket, head) => void this.handleUpgrade(req, socket, head));
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.clientError(err, socket));
    server.emit('listening');
    this.server = server;
    const listener = net.createServer({ allowHalfOpen: true, noDelay: true, keepAlive: true }, (socket) => {
      // Over a limit: closed before anything of it is read, so it holds its fd for no time at all.
      if (!this.connections.admit(socket)) {
        this.refusedConnections++;
        socket.destroy();
        return;
      }
      this.serve(socket);
    });
    this.listener = listener;
    return { host, port: await listenOn(listener, host, port) };
  }

  /** A connection admitted (and on the TLS port, past its handshake): the fast path, or node's http. */
  private serve(socket: net.Socket): void {
    if (!this.fastPath) return this.handOff(socket, null);
    this.fast.add(new FastConnection(socket, this));
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS).unref();
  }

  /**
   * The TLS port: a TLS handshake (certificate by SNI, within the head timeout, counted by the same
   * connection limits as the plain port), then the same two paths as a plain connection.
   */
  async listenTls(host: string, port: number): Promise<{ host: string; port: number }> {
    // One context for the port, as tls.Server keeps one: without it node builds a SecureContext per
    // connection (~0.5 ms of CPU, a third of the gateway's cost per new connection: bench/tls.ts),
    // and no session ticket could be resumed, its keys being that context's own. SNI then switches
    // each handshake to its host's certificate.
    const context = tls.createSecureContext({ minVersion: 'TLSv1.2' });
    const listener = net.createServer({ noDelay: true, keepAlive: true }, (raw) => {
      if (!this.connections.admit(raw)) {
        this.refusedConnections++;
        raw.destroy();
        return;
      }
      const socket = new tls.TLSSocket(raw, { isServer: true, secureContext: context, SNICallback: this.certificates.sni, ALPNProtocols: ['http/1.1'] });
      const timer = setTimeout(() => socket.destroy(), this.limits.headTimeoutMs);
      timer.unref();
      socket.on('error', () => socket.destroy());
      socket.once('close', () => clearTimeout(timer));
      socket.once('secure', () => {
        clearTimeout(timer);
        this.serve(socket);
      });
    });
    this.tlsListener = listener;
    this.tlsPort = await listenOn(listener, host, port);
    return { host, port: this.tlsPort };
  }

  /**
   * The internal port: where instances' calls by name arrive (core/internal-network.ts). Whoever
   * connects is known by address — `callerOf` gives the tenant of the instance at it, and a connection
   * from anywhere else is closed unread. Routes answer only their own tenant's callers, and internal
   * services answer only here.
   */
  async listenInternal(host: string, port: number, callerOf: (address: string) => string | undefined): Promise<{ host: string; port: number }> {
    const listener = net.createServer({ allowHalfOpen: true, noDelay: true, keepAlive: true }, (socket) => {
      const caller = socket.remoteAddress === undefined ? undefined : callerOf(socket.remoteAddress);
      if (caller === undefined || !this.connections.admit(socket)) {
        if (caller !== undefined) this.refusedConnections++;
        else this.log.debug({ from: socket.remoteAddress }, 'internal port: a connection from no known instance, closed');
        socket.destroy();
        return;
      }
      this.callers.set(socket, caller);
      this.serve(socket);
    });
    this.internalListener = listener;
    return { host, port: await listenOn(listener, host, port) };
  }

  /** Accepts no new connection; requests on the open ones go on (a drain before close()). */
  stopAccepting(): void {
    this.listener?.close();
    this.tlsListener?.close();
    this.internalListener?.close();
  }

  async close(): Promise<void> {
    for (const pool of this.pools.values()) pool.close();
    for (const socket of this.upgraded) socket.destroy();
    for (const conn of [...this.fast]) conn.destroy();
    this.upstreams.close();
    await this.clients.close();
    const server = this.server;
    // A listener's close waits for every connection it accepted, handed-off ones included (on the TLS
    // port too), so those are closed by the http server at the same time rather than after: awaiting
    // one listener before closing the server's connections waits for ever on a keep-alive one.
    await Promise.all([
      ...[this.listener, this.tlsListener, this.internalListener].map((l) => (l ? new Promise<void>((resolve) => l.close(() => resolve())) : undefined)),
      server
        ? new Promise<void>((resolve) => {
            server.close(() => resolve()); // reports "not running" (it never listened) after closing its connections
            server.closeAllConnections();
          })
        : undefined,
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
  get headTimeoutMs(): number {
    return this.limits.headTimeoutMs;
  }

  /** FastPathHost */
  trusts(address: string | undefined): boolean {
    return this.trust.trusts(address);
  }

  /** open client connections */
  get openConnections(): number {
    return this.connections.open;
  }

  /** FastPathHost */
  coldStart(revision: string, waitedMs: number, firstByteMs: number): ColdStartBreakdown | undefined {
    const stages = this.onColdStart?.(revision, waitedMs, firstByteMs);
    return typeof stages === 'object' && stages !== null ? (stages as ColdStartBreakdown) : undefined;
  }

  /** FastPathHost */
  forget(conn: FastConnection): void {
    this.fast.delete(conn);
    if (this.fast.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  /** Async invocations: answered here instead of forwarded (async.ts). */
  setAsync(port: AsyncPort): void {
    this.async = port;
  }

  /** FastPathHost: the same route and split as the slow path; a miss is left to it to answer. */
  routeFor(host: string, target: string, secure: boolean, socket: net.Socket): { path: string; pool: RevisionPool; service: string } | undefined {
    // an invocation's status may be answered by the gateway itself: the slow path looks
    if (this.async && target.startsWith('/api/v1/invocations/')) return undefined;
    // so may an ACME challenge, or a domain's redirect to https
    if (!secure && this.plainAnswer(host, target) !== undefined) return undefined;
    const routed = this.resolve(host, target, this.callers.get(socket));
    return 'error' in routed ? undefined : { path: routed.match.path, pool: routed.pool, service: routed.match.route.service };
  }

  /** What the plain port answers itself for this host and target: an ACME HTTP-01 key authorization,
   *  or the https:// URL a domain redirects to (once its certificate is served on the TLS port). */
  private plainAnswer(host: string | undefined, target: string): { challenge: string } | { redirect: string } | undefined {
    const challenge = this.challenges.answer(target);
    if (challenge !== undefined) return { challenge };
    const domain = this.table.domain(host);
    if (!domain?.redirectHttp || this.tlsPort === undefined || !this.certificates.has(domain.host)) return undefined;
    const path = target.startsWith('/') ? target : '/';
    return { redirect: `https://${domain.host}${this.tlsPort === 443 ? '' : `:${this.tlsPort}`}${path}` };
  }

  private sweep(): void {
    const now = performance.now();
    for (const conn of this.fast) if (conn.deadline <= now) conn.expire();
  }

  private route(req: http.IncomingMessage): { match: Match; pool: RevisionPool } | { error: ErrorCode; message: string } {
    toOriginForm(req);
    return this.resolve(req.headers.host, req.url ?? '/', this.callers.get(req.socket));
  }

  /** `caller`: the calling instance's tenant, on the internal port */
  private resolve(host: string | undefined, url: string, caller?: string): { match: Match; pool: RevisionPool } | { error: ErrorCode; message: string } {
    const match = this.table.match(host, url, caller);
    if (!match) return { error: 'NOT_FOUND', message: `no service is routed at host ${host ?? '(none)'} path ${url.slice(0, 100)}` };
    const revision = pickRevision(match.route.targets, this.random() * 100);
    const pool = revision === undefined ? undefined : this.pools.get(revision);
    if (!pool) return { error: 'NOT_FOUND', message: `service ${match.route.service} has no revision taking traffic` };
    return { match, pool };
  }

  /**
   * A head node:http refused (or timed out): answered in the API's JSON and the connection closed,
   * when nothing else is on its way to the client on it (a response in progress would be corrupted;
   * then it is only cut). The answer must reach the client rather than a reset: the socket is ended,
   * not destroyed, and what the client still sends is read and dropped until it closes its side.
   */
  private clientError(err: NodeJS.ErrnoException & { reason?: string }, socket: Duplex): void {
    const responding = (socket as { _httpMessage?: unknown })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || responding) {
      socket.destroy();
      return;
    }
    let answer: string;
    if (err.code === 'HPE_HEADER_OVERFLOW') answer = rawGatewayError('HEADERS_TOO_LARGE', `the request head is over ${MAX_REQUEST_HEAD} bytes`);
    else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') answer = rawGatewayError('REQUEST_TIMEOUT', `the request head did not arrive within ${this.limits.headTimeoutMs} ms`);
    else answer = rawGatewayError('BAD_REQUEST', `malformed request: ${err.reason ?? err.message}`);
    socket.end(answer);
    socket.removeAllListeners('data');
    socket.on('data', () => {});
    socket.resume();
    const linger = setTimeout(() => socket.destroy(), LINGER_MS);
    linger.unref();
    socket.once('close', () => clearTimeout(linger));
  }

  /** RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host, an HTTP/1.0 one at most one (a second
   *  one is a second opinion on where the request goes: the app and the gateway may pick differently). */
  private hostProblem(req: http.IncomingMessage): string | undefined {
    let hosts = 0;
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') hosts++;
    if (hosts > 1) return `the request has ${hosts} Host headers; exactly one is allowed`;
    if (hosts === 0 && req.httpVersionMinor >= 1) return 'an HTTP/1.1 request must have a Host header';
    return undefined;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const arrived = performance.now();
    const hostProblem = this.hostProblem(req);
    if (hostProblem) {
      res.shouldKeepAlive = false;
      return sendGatewayError(res, 'BAD_REQUEST', hostProblem);
    }
    const secure = isSecure(req.socket);
    if (!secure) {
      const own = this.plainAnswer(req.headers.host, req.url ?? '/');
      if (own && 'challenge' in own) return void res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(own.challenge) }).end(own.challenge);
      if (own) return void res.writeHead(308, { location: own.redirect, 'content-length': 0 }).end();
    }
    const routed = this.route(req);
    if (this.async) {
      const service = 'error' in routed ? undefined : routed.match.route.service;
      if (await answerStatus(this.async, req, res, service)) return;
      if (service !== undefined && wantsAsync(req.headers.prefer)) return acceptAsync(this.async, req, res, service, (routed as { match: Match }).match.path, INVOCATION_BODY_LIMIT);
    }
    if ('error' in routed) return sendGatewayError(res, routed.error, routed.message);
    const { match, pool } = routed;
    // counted once the response is over, however it ended (0: cut off before a status was sent)
    res.once('close', () => pool.requests.record(res.headersSent ? res.statusCode : 0, performance.now() - arrived));
    const headers = forwardedHeaders(req.headers, req.socket.remoteAddress, secure, this.trust.trusts(req.socket.remoteAddress));
    // W3C trace context: the client's trace id (or a new trace), the gateway's hop as the parent
    const observer = this.observer;
    // (node:http joins repeated unknown headers into one string: two traceparents are then invalid)
    const tp = req.headers.traceparent as string | undefined;
    const rec = observer?.begin(tp, req.headers.tracestate as string | undefined, req.method ?? 'GET', req.url ?? '/', match.route.service, pool.revision, arrived);
    if (rec) {
      headers.traceparent = rec.traceparent;
      if (rec.tracestate === undefined) delete headers.tracestate;
      else headers.tracestate = rec.tracestate;
      res.once('close', () => {
        rec.status = res.headersSent ? res.statusCode : 0;
        observer!.end(rec);
      });
    } else {
      const parent = tp === undefined ? undefined : parseTraceparent(tp);
      headers.traceparent = propagatedTraceparent(parent);
      if (!parent) delete headers.tracestate;
    }
    let refused: Set<string> | undefined;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      // Most acquires are synchronous: await only a held request's promise (saves a tick per request).
      let got = pool.acquire(refused);
      if (got instanceof Promise) got = await got;
      if (!got.ok) return sendGatewayError(res, ...refusalError(got, pool));
      const { slot } = got;
      const extra = slot.waitedMs > 0 ? { 'x-skiff-cold-start': String(Math.round(slot.waitedMs)) } : undefined;
      if (rec) {
        rec.instance = slot.endpoint.id;
        rec.waitedMs = slot.waitedMs;
      }
      const onHead =
        extra && (this.onColdStart || rec)
          ? () => {
              const stages = this.coldStart(pool.revision, slot.waitedMs, performance.now() - arrived);
              if (rec) observer!.coldStart(rec, stages);
            }
          : undefined;
      // response body bytes, for the access log (rec) and the metering's egress (slot.sent)
      const counted = rec ?? { bytes: 0 };
      const before = counted.bytes;
      const outcome = await forward(req, res, slot.endpoint, match.path, headers, this.clients.for(slot.endpoint), pool.limits.timeoutMs, extra, onHead, counted);
      slot.sent(counted.bytes - before);
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
    this.upgraded.add(socket);
    socket.once('close', () => this.upgraded.delete(socket));
    socket.on('error', () => socket.destroy());
    const hostProblem = this.hostProblem(req);
    if (hostProblem) return void socket.end(rawGatewayError('BAD_REQUEST', hostProblem));
    const routed = this.route(req);
    if ('error' in routed) return void socket.end(rawGatewayError(routed.error, routed.message));
    const { pool, match } = routed;
    const got = await pool.acquire();
    if (!got.ok) return void socket.end(rawGatewayError(...refusalError(got, pool)));
    if (socket.destroyed) return got.slot.release();
    new UpgradeExchange(socket, got.slot, {
      method: req.method ?? 'GET',
      head: this.upgradeHead(req, match.path),
      rest: head,
      service: match.route.service,
      timeoutMs: pool.limits.timeoutMs,
      idleMs: this.limits.tunnelIdleTimeoutMs,
    });
  }

  /** The upgrade request as the instance gets it: the client's headers but for hop-by-hop and
   *  forwarding ones, which are the gateway's (headers.ts); Connection/Upgrade as the upgrade needs. */
  private upgradeHead(req: http.IncomingMessage, path: string): string {
    const lines = [`${req.method} ${path} HTTP/1.1`];
    if (req.headers.host !== undefined) lines.push(`host: ${req.headers.host}`);
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) if (!UPGRADE_DROPPED.has(raw[i]!.toLowerCase())) lines.push(`${raw[i]}: ${raw[i + 1]}`);
    const h = req.headers;
    const remote = req.socket.remoteAddress ?? '';
    const f = forwarding(priorForwarding(h), remote, h.host ?? '', isSecure(req.socket) ? 'https' : 'http', this.trust.trusts(remote));
    const parent = parseTraceparent(h.traceparent as string | undefined);
    lines.push(`traceparent: ${propagatedTraceparent(parent)}`);
    if (parent && h.tracestate !== undefined) lines.push(`tracestate: ${h.tracestate}`);
    lines.push('connection: upgrade', `upgrade: ${h.upgrade ?? ''}`, `x-forwarded-for: ${f.for}`, `x-forwarded-proto: ${f.proto}`, `x-forwarded-host: ${f.host}`, `forwarded: ${f.forwarded}`);
    return lines.join('\r\n') + '\r\n\r\n';
  }
}

function isSecure(socket: unknown): boolean {
  return (socket as { encrypted?: boolean } | null)?.encrypted === true;
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

/** Listens; resolves with the port (the kernel's pick for 0). */
function listenOn(listener: net.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(port, host, () => resolve((listener.address() as net.AddressInfo).port));
  });
}
