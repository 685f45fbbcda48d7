// gateway/lenient-socket: the node:http path's connections to instances, read leniently where the
// fast path is (http1.ts): a response head whose lines end in a bare LF (RFC 9112 §2.2 lets a
// recipient accept that; busybox CGI sends it). undici's parser refuses such a head, so the socket
// undici reads is this wrapper, which rewrites the line ends of such a head to CRLF before undici sees
// it and adds `connection: close`, so the connection carries no further response whose head would
// need finding (that takes the framing of every body in between). A connection whose first final
// head is plain CRLF is passed through untouched from then on: an app either ends lines one way or
// the other, and one that switches on a kept-alive connection gets a 502, as before.
import net from 'node:net';
import { Duplex } from 'node:stream';
import { HEAD_END, MAX_RESPONSE_HEAD, lenientResponseHead } from './http1.ts';

const STATUS_1XX = /^HTTP\/1\.[01] 1\d\d/;

/** undici's `connect` option: a TCP connection to the instance, wrapped. */
export function connectLenient(
  opts: { hostname: string; port: string },
  callback: (err: Error | null, socket: Duplex | null) => void,
): void {
  const socket = net.connect({ host: opts.hostname, port: Number(opts.port), noDelay: true });
  let settled = false;
  socket.once('connect', () => {
    settled = true;
    callback(null, new LenientResponses(socket));
  });
  socket.once('error', (err) => {
    if (settled) return;
    settled = true;
    callback(err, null);
  });
}

export class LenientResponses extends Duplex {
  /** bytes of a head not yet complete; null once heads are no longer looked at */
  private head: Buffer | null = Buffer.alloc(0);

  constructor(private readonly socket: net.Socket) {
    super({ allowHalfOpen: false });
    socket.on('data', (d: Buffer) => {
      const out = this.head === null ? d : this.inspect(d);
      if (out.length > 0 && !this.push(out)) socket.pause();
    });
    socket.on('end', () => {
      if (this.head && this.head.length > 0) this.push(this.head);
      this.head = null;
      this.push(null);
    });
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  /** What to hand undici of `d` while heads are still looked at (a Buffer, possibly empty). */
  private inspect(d: Buffer): Buffer {
    const buf = this.head!.length > 0 ? Buffer.concat([this.head!, d]) : d;
    const strict = buf.indexOf(HEAD_END);
    const lenient = lenientResponseHead(buf, MAX_RESPONSE_HEAD);
    if (!lenient) {
      if (strict >= 0 || buf.length > MAX_RESPONSE_HEAD) return this.passOn(buf); // plain, or undici's to refuse
      this.head = buf;
      return Buffer.alloc(0);
    }
    const interim = STATUS_1XX.test(lenient.head) && !lenient.head.startsWith('HTTP/1.1 101');
    const rest = buf.subarray(lenient.next);
    if (strict >= 0 && strict + 4 === lenient.next) {
      // a plain head: after a final one, nothing more is looked at
      if (!interim) return this.passOn(buf);
      this.head = Buffer.alloc(0);
      return Buffer.concat([buf.subarray(0, lenient.next), this.inspect(rest)]);
    }
    const fixed = Buffer.from(lenient.head + (interim ? '' : '\r\nconnection: close') + '\r\n\r\n', 'latin1');
    if (!interim) {
      this.head = null;
      return Buffer.concat([fixed, rest]);
    }
    this.head = Buffer.alloc(0);
    return Buffer.concat([fixed, this.inspect(rest)]);
  }

  private passOn(buf: Buffer): Buffer {
    this.head = null;
    return buf;
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.socket.write(chunk, encoding, callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>, callback: (err?: Error | null) => void): void {
    this.socket.cork();
    for (let i = 0; i < chunks.length - 1; i++) this.socket.write(chunks[i]!.chunk);
    this.socket.write(chunks[chunks.length - 1]!.chunk, callback);
    this.socket.uncork();
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.socket.end(callback);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.socket.destroy(err ?? undefined);
    callback(err);
  }

  // what undici asks of a socket besides the stream
  ref(): this {
    this.socket.ref();
    return this;
  }

  unref(): this {
    this.socket.unref();
    return this;
  }

  setKeepAlive(enable?: boolean, delay?: number): this {
    this.socket.setKeepAlive(enable, delay);
    return this;
  }

  setNoDelay(noDelay?: boolean): this {
    this.socket.setNoDelay(noDelay);
    return this;
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }

  get localAddress(): string | undefined {
    return this.socket.localAddress;
  }

  get localPort(): number | undefined {
    return this.socket.localPort;
  }

  get bytesWritten(): number {
    return this.socket.bytesWritten;
  }

  get bytesRead(): number {
    return this.socket.bytesRead;
  }
}
