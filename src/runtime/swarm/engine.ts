// runtime/swarm/engine: a Docker Engine API client — JSON over HTTP on a unix socket (unix:///var/run/
// docker.sock), TCP (tcp://HOST:PORT, http://…) or TLS with a client certificate (https://HOST:PORT,
// Docker's --tlsverify: the CA, certificate and key from a DOCKER_CERT_PATH-style directory) — for
// exactly the calls the swarm driver makes. Not
// dockerode: the Engine API is plain HTTP+JSON, this is ~150 lines on node:http, and dockerode brings
// gRPC, protobufjs and ssh2 (an optional native addon) for BuildKit sessions and SSH we do not use
// (docs/dependencies.md). Engine errors keep their HTTP status: 404 → NOT_FOUND, 409 → CONFLICT.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { SkiffError } from '../../core/errors.ts';

/** The oldest Engine API with everything the driver uses (Limits.Pids, CapabilityAdd): dockerd 20.10. */
const API_VERSION = 'v1.41';

export interface EngineEndpoint {
  socketPath?: string;
  host?: string;
  port?: number;
  /** https:// — the engine's --tlsverify */
  tls?: boolean;
}

/** Docker's client-side TLS material (DOCKER_CERT_PATH): the CA the engine's certificate chains to, and
 *  this client's certificate and key. */
export interface EngineTls {
  ca: string;
  cert: string;
  key: string;
}

/** ca.pem, cert.pem and key.pem of a directory, as `docker --tlsverify` reads DOCKER_CERT_PATH. */
export function readEngineTls(dir: string): EngineTls {
  const read = (f: string) => {
    try {
      return readFileSync(path.join(dir, f), 'utf8');
    } catch (err) {
      throw new SkiffError('CONFIG_INVALID', `runtime.swarm.tlsCertPath: cannot read ${path.join(dir, f)} (the directory holds ca.pem, cert.pem and key.pem, as DOCKER_CERT_PATH does): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  return { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
}

/** `unix:///path`, `tcp://host:port`, `http://host:port` or `https://host:port` → where to connect. */
export function parseDockerHost(value: string): EngineEndpoint {
  if (value.startsWith('unix://')) {
    const socketPath = value.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw new SkiffError('CONFIG_INVALID', `--docker-host: ${JSON.stringify(value)}: a unix socket path must be absolute (unix:///var/run/docker.sock)`);
    return { socketPath };
  }
  const m = /^(tcp|http|https):\/\/([^/:]+|\[[^\]]+\]):(\d{1,5})\/?$/.exec(value);
  if (!m) throw new SkiffError('CONFIG_INVALID', `--docker-host: expected unix:///PATH, tcp://HOST:PORT or https://HOST:PORT, got ${JSON.stringify(value)}`);
  return { host: m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3]), ...(m[1] === 'https' ? { tls: true } : {}) };
}

export class EngineError extends SkiffError {
  constructor(readonly httpStatus: number, message: string) {
    super(httpStatus === 404 ? 'NOT_FOUND' : httpStatus === 409 ? 'CONFLICT' : httpStatus === 400 ? 'BAD_REQUEST' : 'UNAVAILABLE', message);
  }
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  query?: Record<string, string | number | boolean | undefined>;
  signal?: AbortSignal;
  /** the answer's whole head must arrive within this (idle time on the socket after it) */
  timeoutMs?: number;
}

/** an engine that does not accept a connection within this is unreachable (a blackholed address
 *  would otherwise wait out the kernel's SYN retries, about two minutes) */
const CONNECT_TIMEOUT_MS = 10_000;

export class Engine {
  private readonly agent: http.Agent;
  private readonly endpoint: EngineEndpoint;

  constructor(
    readonly address: string,
    tls?: EngineTls,
  ) {
    this.endpoint = parseDockerHost(address);
    if (this.endpoint.tls && !tls) throw new SkiffError('CONFIG_INVALID', `${address}: an https:// engine needs its client certificate (runtime.swarm.tlsCertPath: a directory with ca.pem, cert.pem and key.pem)`);
    // no socket limit: a followed log holds its socket for the instance's life, and a limit would
    // queue every other call behind such streams
    this.agent = this.endpoint.tls && tls ? new https.Agent({ keepAlive: true, ca: tls.ca, cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }) : new http.Agent({ keepAlive: true });
  }

  close(): void {
    this.agent.destroy();
  }

  private path(p: string, query?: RequestOptions['query']): string {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) q.set(k, String(v));
    const qs = q.toString();
    return `/${API_VERSION}${p}${qs ? `?${qs}` : ''}`;
  }

  /** The raw response (status and body stream), for streams (logs); the caller reads or destroys it. */
  open(method: string, p: string, o: RequestOptions = {}): Promise<http.IncomingMessage> {
    const body = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
    return new Promise((resolve, reject) => {
      const req = (this.endpoint.tls ? https : http).request(
        {
          ...(this.endpoint.socketPath ? { socketPath: this.endpoint.socketPath } : { host: this.endpoint.host, port: this.endpoint.port }),
          agent: this.agent,
          method,
          path: this.path(p, o.query),
          // over a socket the Host header names nothing (Docker's own clients send "docker"); over TCP it is
          // the engine's (and over TLS the name its certificate is checked against)
          headers: { ...(this.endpoint.socketPath ? { host: 'docker' } : {}), ...(body ? { 'content-type': 'application/json', 'content-length': body.length } : {}), ...o.headers },
          ...(o.signal ? { signal: o.signal } : {}),
        },
        resolve,
      );
      if (o.timeoutMs) req.setTimeout(o.timeoutMs, () => req.destroy(new SkiffError('UNAVAILABLE', `Docker Engine at ${this.address}: ${method} ${p.split('?')[0]} took over ${o.timeoutMs} ms`)));
      // the connect itself, which req.setTimeout does not cover
      req.once('socket', (socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(() => req.destroy(new SkiffError('UNAVAILABLE', `Docker Engine at ${this.address} is unreachable: no connection within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
        timer.unref();
        socket.once('connect', () => clearTimeout(timer)).once('close', () => clearTimeout(timer));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.name === 'AbortError' || err instanceof SkiffError) return reject(err);
        reject(new SkiffError('UNAVAILABLE', `Docker Engine at ${this.address} is unreachable: ${err.code ?? err.message}`, { cause: err }));
      });
      req.end(body);
    });
  }

  /** A JSON call; a non-2xx answer rejects with the engine's message and an EngineError code. */
  async call<T = unknown>(method: string, p: string, o: RequestOptions = {}): Promise<T> {
    const res = await this.open(method, p, { timeoutMs: 60_000, ...o });
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) {
      let message = text.trim();
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        // not JSON: the text as it is
      }
      throw new EngineError(status, `Docker Engine at ${this.address}: ${method} ${p.split('?')[0]}: ${message || `HTTP ${status}`}`);
    }
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      // a proxy's HTML page, a truncated answer: not the engine's JSON
      throw new SkiffError('UNAVAILABLE', `Docker Engine at ${this.address}: ${method} ${p.split('?')[0]}: an answer that is not JSON (${JSON.stringify(text.slice(0, 80))})`);
    }
  }
}

/** One frame of Docker's multiplexed stream (non-TTY attach/logs): 1 = stdout, 2 = stderr. */
export interface Frame {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

/** Splits Docker's multiplexed stream (8-byte headers: stream type, 3 zero bytes, big-endian length). */
export async function* demux(body: AsyncIterable<Buffer>): AsyncGenerator<Frame> {
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of body) {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      const type = buf[0];
      const data = buf.subarray(8, 8 + size);
      buf = buf.subarray(8 + size);
      if (type === 1 || type === 2) yield { stream: type === 1 ? 'stdout' : 'stderr', data };
    }
  }
}
