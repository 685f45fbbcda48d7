// gateway/fast-path: one client connection served without node:http. Node's HTTP server alone costs
// what nginx spends on a whole proxied request here (docs/benchmarks.md), so warm traffic takes this
// path: the request head is parsed strictly (http1.ts), the instance is chosen by the same route
// table and pool as the slow path, and bytes are relayed over raw keep-alive sockets (upstreams.ts);
// response bodies pass through unchanged, framed by their own Content-Length, chunked coding or close.
//
// A request that finds no instance free waits in the same activator queue as on the slow path
// (RevisionPool.acquire), so a connection that met one cold start stays on the fast path.
// Whatever is not plain is handed to the node:http path before anything of that request has been
// sent: the buffered bytes are put back on the socket and the connection goes to the http server
// for good (odd heads, Upgrade, Expect, routes that do not match). A request whose
// instance fails before answering is replayed the same way when that is safe: the whole request is
// still buffered and either nothing reached the instance or the method is idempotent and the socket
// was a reused keep-alive one (the app closed it as we sent).
import type net from 'node:net';
import { ERROR_CATALOGUE, type ErrorCode } from '../core/errors.ts';
import type { AcquireResult, RevisionPool, Slot } from './pool.ts';
import type { RequestStats } from './request-stats.ts';
import { HEAD_END, LINGER_MS, MAX_REQUEST_HEAD, MAX_RESPONSE_HEAD, lenientResponseHead, parseRequestHead, parseResponseHead, upstreamRequestHead, type Framing, type RequestHead } from './http1.ts';
import { ChunkedScanner, CHUNKED_MALFORMED } from './chunked.ts';
import type { Upstream, UpstreamOwner, UpstreamPool } from './upstreams.ts';
import { rawGatewayError, refusalError } from './errors.ts';
import { parseTraceparent, propagatedTraceparent } from './trace-context.ts';
import type { ColdStartBreakdown, Observer, RequestRecord } from './observe.ts';

function hasBareLf(buf: Buffer): boolean {
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, i + 1)) if (i === 0 || buf[i - 1] !== 0x0d) return true;
  return false;
}

/** node:http's default for an idle keep-alive connection (the head timeout is the gateway's setting) */
const IDLE_TIMEOUT_MS = 5_000;
const KEEP_ALIVE_HINT = `keep-alive: timeout=${IDLE_TIMEOUT_MS / 1000}\r\n\r\n`;
/** bytes of later pipelined requests read while one is in flight, before the client is paused */
const MAX_READ_AHEAD = 64 * 1024;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** What a fast connection needs from the gateway. */
export interface FastPathHost {
  readonly upstreams: UpstreamPool;
  /** time a client has to send a whole head: from connecting, or from a later request's first byte */
  readonly headTimeoutMs: number;
  /** whether a peer's X-Forwarded-* / Forwarded are kept (a trusted front proxy) */
  trusts(address: string | undefined): boolean;
  /** the app's path and the revision's pool for a request, or undefined (the slow path will say why) */
  /** `secure`: the connection came in over TLS (a domain redirecting plain HTTP is left to the slow path);
   *  `socket`: the client's (on the internal port, it says who calls) */
  routeFor(host: string, target: string, secure: boolean, socket: net.Socket): { path: string; pool: RevisionPool; service: string } | undefined;
  /** gives the connection to the node:http server; `pending` goes back onto the socket first */
  handOff(socket: net.Socket, pending: Buffer | null): void;
  forget(conn: FastConnection): void;
  /** a request that waited `waitedMs` for an instance got its response head `firstByteMs` after it
   *  arrived; the stages of the cold start when it was the request the instance was started for */
  coldStart(revision: string, waitedMs: number, firstByteMs: number): ColdStartBreakdown | undefined;
  /** tracing / access log; undefined when both are off (observe.ts) */
  readonly observer: Observer | undefined;
}

type Routed = NonNullable<ReturnType<FastPathHost['routeFor']>>;

/** idle: between requests; queued: held by the activator; body: forwarding a request body;
 *  awaiting: the response; closing: our side ended, waiting (bounded) for the client's; gone:
 *  destroyed or handed off */
type Phase = 'idle' | 'queued' | 'body' | 'awaiting' | 'closing' | 'gone';

export class FastConnection implements UpstreamOwner {
  private phase: Phase = 'idle';
  /** bytes read from the client and not yet forwarded (a partial head, or pipelined requests) */
  private pending: Buffer | null = null;
  /** when the current phase times out (performance.now() ms); checked by the gateway's sweep */
  deadline: number;
  /** the client half-closed: requests already sent are answered, then the connection ends */
  private clientEnded = false;
  /** a partial head is pending; its deadline runs from its first byte, not its latest */
  private headPending = false;
  /** a head has been read on this connection: the first one's deadline runs from the connect */
  private servedOne = false;
  private readonly trusted: boolean;
  /** what X-Forwarded-Proto says: the connection is TLS (the gateway's TLS port) or not */
  private readonly proto: 'http' | 'https';

  // The exchange in flight (phase 'body' or 'awaiting').
  private slot: Slot | undefined;
  private up: Upstream | undefined;
  private service = '';
  private timeoutMs = 0;
  private method = '';
  private bodyLeft = 0;
  private closeAfter = false;
  /** the whole request while it may still be replayed on the slow path */
  private replay: Buffer | undefined;
  private responseStarted = false;
  /** ms this request waited for an instance (0: one was free); when it arrived, for the breakdown */
  private waitedMs = 0;
  private arrivedAt = 0;
  private revision = '';
  /** where the request being started ends in `pending` (head + declared body) */
  private requestEnd = 0;
  private responseHead: Buffer | null = null;
  /** undefined while the response head is being read */
  private framing: Framing | undefined;
  private responseLeft = 0;
  private chunks: ChunkedScanner | undefined;
  private upstreamReusable = false;
  /** the exchange as observed (tracing or access log on) */
  private obs: RequestRecord | undefined;
  /** where the exchange in flight is counted when it ends (its revision's), and the status it got (0: none yet) */
  private stats: RequestStats | undefined;
  private status = 0;

  constructor(
    private readonly socket: net.Socket,
    private readonly host: FastPathHost,
  ) {
    this.deadline = performance.now() + host.headTimeoutMs;
    this.trusted = host.trusts(socket.remoteAddress);
    this.proto = (socket as net.Socket & { encrypted?: boolean }).encrypted ? 'https' : 'http';
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onClose);
    socket.on('close', this.onClose);
  }

  /** Called by the gateway's sweep when `deadline` has passed. */
  expire(): void {
    switch (this.phase) {
      case 'idle':
        // a half-sent head gets node:http's answer to a slow client; an idle connection just closes
        return this.finish(this.pending ? rawGatewayError('REQUEST_TIMEOUT', `the request head did not arrive within ${this.host.headTimeoutMs} ms`) : undefined);
      case 'body':
      case 'awaiting':
        return this.fail('UPSTREAM_TIMEOUT', `${this.service} did not answer within ${this.timeoutMs} ms`);
      case 'closing':
        return this.destroy();
    }
  }

  destroy(): void {
    this.socket.destroy();
    this.gone();
  }

  private readonly onData = (d: Buffer): void => {
    switch (this.phase) {
      case 'idle':
        this.pending = this.pending ? Buffer.concat([this.pending, d]) : d;
        return this.next();
      case 'body':
        return this.forwardBody(d);
      case 'queued':
      case 'awaiting':
        this.pending = this.pending ? Buffer.concat([this.pending, d]) : d;
        if (this.pending.length > MAX_READ_AHEAD) this.socket.pause();
        return;
    }
  };

  private readonly onEnd = (): void => {
    // The client will send nothing more: what it sent in full is answered, then the connection ends
    // (next() sees clientEnded). A request body cut short can never complete: its slot is freed now.
    this.clientEnded = true;
    if (this.phase === 'idle') this.next();
    else if (this.phase === 'body' || (this.phase === 'queued' && !this.wholeRequestPending())) this.destroy();
  };

  private readonly onClose = (): void => {
    if (this.phase === 'gone') return;
    this.socket.destroy();
    this.gone();
  };

  /** Starts the next request in `pending`, or waits for more bytes. */
  private next(): void {
    const buf = this.pending;
    if (!buf) {
      if (this.clientEnded) return this.finish();
      this.headPending = false;
      this.deadline = performance.now() + IDLE_TIMEOUT_MS;
      return;
    }
    const end = buf.indexOf(HEAD_END);
    if (end < 0 || end > MAX_REQUEST_HEAD) {
      // too long, or a bare LF that may end it (refused there): node:http answers it now, rather than
      // the head timeout later
      if (buf.length > MAX_REQUEST_HEAD || hasBareLf(buf)) return this.handOff();
      if (this.clientEnded) return this.finish(); // a head that can no longer be completed
      if (!this.headPending) {
        this.headPending = true;
        // a new connection's head is due a head timeout after the connect, not after its first byte:
        // else a byte just before the deadline would buy a slow client a second one
        if (this.servedOne) this.deadline = performance.now() + this.host.headTimeoutMs;
      }
      return;
    }
    this.headPending = false;
    this.servedOne = true;
    const head = parseRequestHead(buf.toString('latin1', 0, end));
    if (!head) return this.handOff();
    const routed = this.host.routeFor(head.host, head.target, this.proto === 'https', this.socket);
    if (!routed) return this.handOff();
    const arrived = performance.now();
    this.requestEnd = end + 4 + head.contentLength;
    // Most acquires are synchronous; a held one waits here, reading on (bounded) meanwhile.
    const got = routed.pool.acquire();
    if (!(got instanceof Promise)) return this.acquired(got, head, end, routed, arrived);
    this.phase = 'queued';
    this.deadline = Infinity; // the activator's own timeout answers a held request
    got.then((r) => this.acquired(r, head, end, routed, arrived));
  }

  /** The activator's answer for the request whose head ends at `end` in `pending`. */
  private acquired(got: AcquireResult, head: RequestHead, end: number, routed: Routed, arrived: number): void {
    if (this.phase === 'gone' || this.phase === 'closing') {
      if (got.ok) got.slot.release(); // the client left while it was held
      return;
    }
    const buf = this.pending!;
    if (!got.ok) {
      const [code, message] = refusalError(got, routed.pool);
      const observer = this.host.observer;
      if (observer) {
        const rec = observer.begin(head.traceparent, head.tracestate, head.method, head.target, routed.service, routed.pool.revision, arrived);
        rec.status = ERROR_CATALOGUE[code].status;
        observer.end(rec);
      }
      routed.pool.requests.record(ERROR_CATALOGUE[code].status, performance.now() - arrived);
      if (!this.wholeRequestPending()) return this.fail(code, message);
      // nothing of it was sent: answer, drop the request's bytes and go on with the connection
      this.pending = this.requestEnd < buf.length ? buf.subarray(this.requestEnd) : null;
      this.phase = 'idle';
      this.socket.write(rawGatewayError(code, message, false));
      if (this.socket.isPaused()) this.socket.resume();
      return this.next();
    }
    const slot = got.slot;
    const bodyStart = end + 4;
    const inBuffer = Math.min(buf.length - bodyStart, head.contentLength);
    const requestEnd = bodyStart + inBuffer;
    this.replay = inBuffer === head.contentLength ? buf.subarray(0, requestEnd) : undefined;
    this.pending = requestEnd < buf.length ? buf.subarray(requestEnd) : null;
    this.slot = slot;
    this.service = routed.service;
    this.timeoutMs = routed.pool.limits.timeoutMs;
    this.method = head.method;
    this.bodyLeft = head.contentLength - inBuffer;
    this.closeAfter = head.close;
    this.responseStarted = false;
    this.framing = undefined;
    this.waitedMs = slot.waitedMs;
    this.arrivedAt = arrived;
    this.revision = routed.pool.revision;
    this.stats = routed.pool.requests;
    this.status = 0;
    this.phase = this.bodyLeft > 0 ? 'body' : 'awaiting';
    this.deadline = performance.now() + this.timeoutMs;

    const up = this.host.upstreams.take(slot.endpoint, this);
    this.up = up;
    // W3C trace context: the client's trace id (or a new trace) with the gateway's own hop as parent
    const observer = this.host.observer;
    let trace: string;
    if (observer === undefined) {
      const parent = head.traceparent === undefined ? undefined : parseTraceparent(head.traceparent);
      trace = `traceparent: ${propagatedTraceparent(parent)}\r\n`;
      if (parent && head.tracestate !== undefined) trace += `tracestate: ${head.tracestate}\r\n`;
    } else {
      const rec = observer.begin(head.traceparent, head.tracestate, head.method, head.target, routed.service, routed.pool.revision, arrived);
      rec.instance = slot.endpoint.id;
      rec.waitedMs = slot.waitedMs;
      this.obs = rec;
      trace = rec.headerLines();
    }
    const text = upstreamRequestHead(head, routed.path, this.socket.remoteAddress ?? '', this.trusted, this.proto, trace);
    if (inBuffer === 0) up.socket.write(text, 'latin1');
    else {
      up.socket.cork();
      up.socket.write(text, 'latin1');
      up.socket.write(buf.subarray(bodyStart, requestEnd));
      up.socket.uncork();
    }
    // a held request's client may have been paused at the read-ahead bound: the rest of its body
    // flows to the instance now
    if (this.phase === 'body' && this.socket.isPaused()) this.socket.resume();
  }

  /** Whether `pending` holds all of the request being started: its head and its whole body. */
  private wholeRequestPending(): boolean {
    return this.pending !== null && this.pending.length >= this.requestEnd;
  }

  private forwardBody(d: Buffer): void {
    const take = Math.min(this.bodyLeft, d.length);
    this.bodyLeft -= take;
    if (take < d.length) this.pending = this.pending ? Buffer.concat([this.pending, d.subarray(take)]) : d.subarray(take);
    if (this.bodyLeft === 0) this.phase = 'awaiting';
    const up = this.up!;
    if (!up.socket.write(take === d.length ? d : d.subarray(0, take))) {
      this.socket.pause();
      up.socket.once('drain', this.resumeClient);
    }
  }

  private readonly resumeClient = (): void => {
    if (this.phase === 'body') this.socket.resume();
  };

  private readonly resumeUpstream = (): void => {
    this.up?.socket.resume();
  };

  onUpstreamData(chunk: Buffer): void {
    if (this.framing === undefined) {
      const buf = this.responseHead ? Buffer.concat([this.responseHead, chunk]) : chunk;
      const end = buf.indexOf(HEAD_END);
      let parsed = end < 0 ? undefined : parseResponseHead(buf.toString('latin1', 0, end), this.method);
      let next = end + 4;
      if (parsed === undefined) {
        // Not a plain CRLF head: read it again allowing bare LF line ends. A strict parse never
        // succeeds on a head with a bare LF in it, so the two readings cannot disagree on its end.
        const lenient = lenientResponseHead(buf, MAX_RESPONSE_HEAD);
        if (lenient) {
          parsed = parseResponseHead(lenient.head, this.method);
          next = lenient.next;
        } else if (end < 0) {
          if (buf.length > MAX_RESPONSE_HEAD) return this.fail('UPSTREAM_FAILED', `${this.service} sent a response head over ${MAX_RESPONSE_HEAD} bytes`);
          this.responseHead = buf;
          return;
        }
      }
      this.responseHead = null;
      if (!parsed || parsed.status === 101) return this.fail('UPSTREAM_FAILED', `${this.service} sent a malformed response head`);
      const rest = buf.subarray(next);
      this.responseStarted = true;
      if (parsed.status < 200) {
        // an interim response (103 Early Hints): pass it on and read the final one
        this.socket.write(parsed.head + '\r\n', 'latin1');
        if (rest.length > 0) this.onUpstreamData(rest);
        return;
      }
      this.status = parsed.status;
      if (this.obs) this.obs.status = parsed.status;
      if (parsed.framing.kind === 'close') this.closeAfter = true;
      this.upstreamReusable = !parsed.upstreamClose;
      this.framing = parsed.framing;
      if (parsed.framing.kind === 'length') this.responseLeft = parsed.framing.length;
      if (parsed.framing.kind === 'chunked') this.chunks = new ChunkedScanner();
      let head = parsed.head;
      if (this.waitedMs > 0) {
        head += `x-skiff-cold-start: ${Math.round(this.waitedMs)}\r\n`;
        const stages = this.host.coldStart(this.revision, this.waitedMs, performance.now() - this.arrivedAt);
        if (this.obs) this.host.observer!.coldStart(this.obs, stages);
      }
      // the idle timeout announced as node:http does, so a client's pool retires a socket before we
      // close it (Node's Agent a second early) instead of sending a request into our FIN
      head += this.closeAfter ? 'connection: close\r\n\r\n' : KEEP_ALIVE_HINT;
      if (parsed.framing.kind === 'none' || (parsed.framing.kind === 'length' && parsed.framing.length === 0)) {
        this.socket.write(head, 'latin1');
        if (rest.length > 0) this.upstreamReusable = false;
        return this.complete();
      }
      if (rest.length === 0) {
        this.socket.write(head, 'latin1');
        return;
      }
      // head and first body bytes in one buffer, one write: cheaper here than a corked writev
      const joined = Buffer.allocUnsafe(head.length + rest.length);
      joined.write(head, 0, 'latin1');
      rest.copy(joined, head.length);
      this.forwardResponse(joined, head.length);
      return;
    }
    this.forwardResponse(chunk);
  }

  /** Writes response bytes to the client; the first `headBytes` of `chunk` are the head, not body. */
  private forwardResponse(chunk: Buffer, headBytes = 0): void {
    const framing = this.framing!;
    let out = chunk;
    let done = false;
    if (framing.kind === 'length') {
      const take = Math.min(this.responseLeft, chunk.length - headBytes);
      this.responseLeft -= take;
      if (headBytes + take < chunk.length) {
        out = chunk.subarray(0, headBytes + take);
        this.upstreamReusable = false; // bytes past the response: the instance's framing is off
      }
      done = this.responseLeft === 0;
    } else if (framing.kind === 'chunked') {
      const end = this.chunks!.scan(chunk, headBytes);
      if (end === CHUNKED_MALFORMED) return this.fail('UPSTREAM_FAILED', `${this.service} sent a malformed chunked body`);
      if (end >= 0) {
        if (end < chunk.length) {
          out = chunk.subarray(0, end);
          this.upstreamReusable = false;
        }
        done = true;
      }
    }
    if (this.obs) this.obs.bytes += out.length - headBytes;
    this.slot?.sent(out.length - headBytes);
    if (!this.socket.write(out) && !done) {
      this.up!.socket.pause();
      this.socket.once('drain', this.resumeUpstream);
    }
    if (done) this.complete();
  }

  onUpstreamEnd(err: Error | undefined): void {
    if (this.phase !== 'body' && this.phase !== 'awaiting') return;
    const up = this.up!;
    if (!err && this.framing?.kind === 'close') {
      this.upstreamReusable = false;
      return this.complete();
    }
    // Nothing of the response was sent yet: replay on the slow path when that cannot do harm.
    // (Not once the client half-closed: node:http cannot take a connection whose reading side ended.)
    if (!this.responseStarted && this.replay && !this.clientEnded && (!up.connected || (up.reused && IDEMPOTENT.has(this.method)))) {
      const replay = this.replay;
      this.obs = undefined; // the node:http path observes the request again
      this.stats = undefined; // counted by the slow path, which serves it
      this.endExchange(false);
      this.pending = this.pending ? Buffer.concat([replay, this.pending]) : replay;
      return this.handOff();
    }
    this.fail('UPSTREAM_FAILED', `${this.service} closed the connection or failed`);
  }

  /** The response is complete: free the slot and the upstream socket, then the next request. */
  private complete(): void {
    // the instance answered before the whole request body arrived: the rest of it cannot be told
    // from a next request without reading it, so the connection ends here
    if (this.bodyLeft > 0) {
      this.upstreamReusable = false;
      this.closeAfter = true;
    }
    const closeAfter = this.closeAfter;
    this.endExchange(this.upstreamReusable);
    if (closeAfter) return this.finish();
    this.phase = 'idle';
    if (this.socket.isPaused()) this.socket.resume();
    this.next();
  }

  /** Ends the exchange badly: an error response if nothing was sent yet, else the client is cut off. */
  private fail(code: ErrorCode, message: string): void {
    if (this.responseStarted) return this.destroy();
    if (this.obs) this.obs.status = ERROR_CATALOGUE[code].status;
    this.status = ERROR_CATALOGUE[code].status;
    this.endExchange(false);
    this.finish(rawGatewayError(code, message));
  }

  /** Ends our side (after `last`, if given) and waits a little for the client's; see expire(). */
  private finish(last?: string): void {
    this.endExchange(false);
    this.phase = 'closing';
    this.pending = null;
    this.deadline = performance.now() + LINGER_MS;
    if (last === undefined) this.socket.end();
    else this.socket.end(last);
  }

  private endExchange(reusable: boolean): void {
    const up = this.up;
    const slot = this.slot;
    if (this.obs) {
      this.host.observer?.end(this.obs);
      this.obs = undefined;
    }
    if (this.stats) {
      this.stats.record(this.status, performance.now() - this.arrivedAt);
      this.stats = undefined;
    }
    this.up = undefined;
    this.slot = undefined;
    this.replay = undefined;
    this.chunks = undefined;
    this.responseHead = null;
    this.framing = undefined;
    this.bodyLeft = 0;
    if (up) {
      up.socket.removeListener('drain', this.resumeClient);
      if (reusable) this.host.upstreams.giveBack(up);
      else {
        up.owner = undefined;
        up.socket.destroy();
      }
    }
    slot?.release();
  }

  private handOff(): void {
    // node:http cannot take a connection whose reading side has ended (and would abort its request)
    if (this.clientEnded) return this.fail('UNAVAILABLE', 'the client closed its side before the request could be served');
    this.phase = 'gone';
    this.host.forget(this);
    this.socket.removeListener('data', this.onData);
    this.socket.removeListener('end', this.onEnd);
    this.socket.removeListener('error', this.onClose);
    this.socket.removeListener('close', this.onClose);
    this.socket.removeListener('drain', this.resumeUpstream);
    const pending = this.pending;
    this.pending = null;
    this.host.handOff(this.socket, pending);
  }

  private gone(): void {
    if (this.phase !== 'gone') this.endExchange(false);
    this.phase = 'gone';
    this.pending = null;
    this.host.forget(this);
  }
}
