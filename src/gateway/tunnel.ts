// gateway/tunnel: a request with Upgrade (a websocket) on the node:http path. The request head is
// replayed to the instance and the sockets are spliced only once the instance answers
// `101 Switching Protocols`: an app that answers 200 (or 401, or 404) to an Upgrade has not agreed to
// another protocol, and splicing anyway left the client holding a raw pipe into the app with no
// HTTP framing, no timeout and the service's concurrency slot. Any other final answer is relayed as a
// normal response, framed by its own Content-Length, chunked coding or close, and the connection is
// then closed (the client's socket has left node:http's parser; it cannot go back). After the 101 the
// tunnel gives its slot back (pool.ts says why) and closes after `idleMs` without a byte either way.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { ErrorCode } from '../core/errors.ts';
import type { Slot, Tunnel } from './pool.ts';
import { HEAD_END, LINGER_MS, MAX_RESPONSE_HEAD, lenientResponseHead, parseResponseHead } from './http1.ts';
import { ChunkedScanner, CHUNKED_MALFORMED } from './chunked.ts';
import { rawGatewayError } from './errors.ts';

export interface UpgradeRequest {
  method: string;
  /** the request head for the instance, ending in its blank line */
  head: string;
  /** bytes the client sent after its head */
  rest: Buffer;
  service: string;
  timeoutMs: number;
  idleMs: number;
}

type Phase = 'connecting' | 'head' | 'response' | 'tunnel' | 'done';

export class UpgradeExchange {
  private phase: Phase = 'connecting';
  private readonly upstream: net.Socket;
  private buf: Buffer | null = null;
  private timer: NodeJS.Timeout | undefined;
  private tunnel: Tunnel | undefined;
  private slot: Slot | undefined;
  private responseStarted = false;
  private left = 0;
  private chunks: ChunkedScanner | undefined;
  private framing: 'length' | 'chunked' | 'close' | 'none' = 'none';

  constructor(
    private readonly client: Duplex,
    slot: Slot,
    private readonly req: UpgradeRequest,
  ) {
    this.slot = slot;
    this.timer = setTimeout(() => this.fail('UPSTREAM_TIMEOUT', `${req.service} did not answer within ${req.timeoutMs} ms`), req.timeoutMs);
    this.upstream = net.connect({ host: slot.endpoint.host, port: slot.endpoint.port, noDelay: true });
    this.upstream.once('connect', () => {
      this.phase = 'head';
      this.upstream.write(req.head, 'latin1');
      if (req.rest.length > 0) this.upstream.write(req.rest);
      // bytes the client sends before the answer (a body, or frames sent early) go on as they come
      this.client.pipe(this.upstream);
    });
    this.upstream.on('data', (d: Buffer) => this.onUpstreamData(d));
    this.upstream.on('end', () => this.onUpstreamEnd());
    this.upstream.on('error', () => this.onUpstreamEnd());
    this.upstream.on('close', () => this.onUpstreamEnd());
    client.on('error', () => this.close());
    client.on('close', () => this.close());
  }

  private onUpstreamData(d: Buffer): void {
    switch (this.phase) {
      case 'head':
        return this.readHead(d);
      case 'response':
        return this.relay(d);
      case 'tunnel':
        if (!this.client.write(d)) {
          this.upstream.pause();
          this.client.once('drain', () => this.upstream.resume());
        }
        return;
    }
  }

  private readHead(d: Buffer): void {
    const buf = this.buf ? Buffer.concat([this.buf, d]) : d;
    const end = buf.indexOf(HEAD_END);
    let parsed = end < 0 ? undefined : parseResponseHead(buf.toString('latin1', 0, end), this.req.method);
    let next = end + 4;
    if (parsed === undefined) {
      const lenient = lenientResponseHead(buf, MAX_RESPONSE_HEAD);
      if (lenient) {
        parsed = parseResponseHead(lenient.head, this.req.method);
        next = lenient.next;
      } else if (end < 0) {
        if (buf.length > MAX_RESPONSE_HEAD) return this.fail('UPSTREAM_FAILED', `${this.req.service} sent a response head over ${MAX_RESPONSE_HEAD} bytes`);
        this.buf = buf;
        return;
      }
    }
    this.buf = null;
    if (!parsed) return this.fail('UPSTREAM_FAILED', `${this.req.service} sent a malformed response head`);
    const rest = buf.subarray(next);
    if (parsed.status === 101) return this.splice(buf.subarray(0, next), rest);
    this.responseStarted = true;
    if (parsed.status < 200) {
      // interim (100 Continue, 103 Early Hints): passed on, the final answer follows
      this.client.write(parsed.head + '\r\n', 'latin1');
      if (rest.length > 0) this.readHead(rest);
      return;
    }
    // A final answer other than 101: a plain response, after which this connection closes.
    this.phase = 'response';
    this.framing = parsed.framing.kind;
    if (parsed.framing.kind === 'length') this.left = parsed.framing.length;
    if (parsed.framing.kind === 'chunked') this.chunks = new ChunkedScanner();
    this.client.write(parsed.head + 'connection: close\r\n\r\n', 'latin1');
    if (this.framing === 'none' || (this.framing === 'length' && this.left === 0)) return this.finish();
    if (rest.length > 0) this.relay(rest);
  }

  /** A body of a non-101 answer, up to its end. */
  private relay(d: Buffer): void {
    let out = d;
    let done = false;
    if (this.framing === 'length') {
      if (d.length >= this.left) {
        out = d.subarray(0, this.left);
        done = true;
      }
      this.left -= out.length;
    } else if (this.framing === 'chunked') {
      const end = this.chunks!.scan(d);
      if (end === CHUNKED_MALFORMED) return this.close();
      if (end >= 0) {
        out = d.subarray(0, end);
        done = true;
      }
    }
    if (!this.client.write(out) && !done) {
      this.upstream.pause();
      this.client.once('drain', () => this.upstream.resume());
    }
    if (done) this.finish();
  }

  private splice(head: Buffer, rest: Buffer): void {
    this.phase = 'tunnel';
    clearTimeout(this.timer);
    this.timer = undefined;
    this.tunnel = this.slot!.toTunnel();
    this.slot = undefined;
    // a bare-LF head (allowed from instances) reaches the client with CRLF line ends
    const text = head.toString('latin1');
    this.client.write(/(^|[^\r])\n/.test(text) ? text.replace(/\r?\n/g, '\r\n') : head);
    if (rest.length > 0) this.client.write(rest);
    // activity either way resets both timers: each socket both reads and writes the tunnel's bytes
    (this.client as net.Socket).setTimeout?.(this.req.idleMs, () => this.close());
    this.upstream.setTimeout(this.req.idleMs, () => this.close());
  }

  private onUpstreamEnd(): void {
    if (this.phase === 'done') return;
    if (this.phase === 'response' && this.framing === 'close') return this.finish();
    if (this.phase === 'tunnel') {
      // the instance ended its side: the client gets its end after the bytes already written
      this.phase = 'done';
      this.release();
      this.client.end();
      this.linger();
      return;
    }
    this.fail('UPSTREAM_FAILED', `${this.req.service} closed the connection or failed`);
  }

  /** An error answer if nothing of a response was sent yet, else the connection is cut. */
  private fail(code: ErrorCode, message: string): void {
    if (this.phase === 'done') return;
    if (this.responseStarted || this.phase === 'tunnel') return this.close();
    this.phase = 'done';
    this.release();
    this.client.end(rawGatewayError(code, message));
    this.linger();
  }

  /** The non-101 response was relayed whole: end cleanly. */
  private finish(): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.release();
    this.client.end();
    this.linger();
  }

  private close(): void {
    this.phase = 'done';
    this.release();
    this.client.destroy();
  }

  private linger(): void {
    this.client.resume(); // whatever the client still sends is read and dropped, not left to reset the close
    const t = setTimeout(() => this.client.destroy(), LINGER_MS);
    t.unref();
    this.client.once('close', () => clearTimeout(t));
  }

  private release(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.client.unpipe(this.upstream);
    this.upstream.destroy();
    this.slot?.release();
    this.slot = undefined;
    this.tunnel?.close();
    this.tunnel = undefined;
  }
}
