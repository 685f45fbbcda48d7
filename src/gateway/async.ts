// gateway/async: the gateway's side of async invocations (RFC 7240 Prefer: respond-async). A request
// asking for it is read whole (bounded), handed to the invocation queue, and answered 202 Accepted
// with `Location: /api/v1/invocations/ID` at once; the queue delivers it later through the gateway
// like any request. A GET of that Location — at the bare gateway address, or at the service's own
// address — answers the invocation's status; any other path of a service stays the service's.
import type http from 'node:http';
import { SkiffError } from '../core/errors.ts';
import type { AsyncPort } from './ports.ts';
import { sendGatewayError } from './errors.ts';

const STATUS_PATH = /^\/api\/v1\/invocations\/(inv-[0-9a-f]{32})\/?(?:\?.*)?$/;
/** request headers not kept with an invocation: the connection's, or this exchange's own */
const NOT_KEPT = new Set(['host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'content-length', 'expect', 'prefer', 'x-skiff-callback', 'proxy-authorization']);

/** The Prefer header asks for respond-async (a token among its comma-separated preferences). */
export function wantsAsync(prefer: string | string[] | undefined): boolean {
  if (prefer === undefined) return false;
  const values = Array.isArray(prefer) ? prefer : [prefer];
  return values.some((v) => v.split(',').some((p) => p.split(';')[0]!.trim().toLowerCase() === 'respond-async'));
}

/** The invocation id of a status URL, if it is one. */
export function statusIdOf(url: string): string | undefined {
  return STATUS_PATH.exec(url)?.[1];
}

/** Answers GET/HEAD of an invocation's Location when the invocation exists and, at a service's
 *  address, belongs to that service. False: not an invocation's status; the request goes on. */
export async function answerStatus(port: AsyncPort, req: http.IncomingMessage, res: http.ServerResponse, routedService: string | undefined): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const id = statusIdOf(req.url ?? '');
  if (!id) return false;
  const found = await port.status(id);
  if (!found || (routedService !== undefined && routedService !== found.service)) return false;
  const body = JSON.stringify(found.view);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}

/** Reads the request, queues it and answers 202 (or the reason it cannot be queued). */
export async function acceptAsync(port: AsyncPort, req: http.IncomingMessage, res: http.ServerResponse, service: string, path: string, limit: number): Promise<void> {
  const callback = header(req, 'x-skiff-callback');
  if (callback !== undefined && !isHttpUrl(callback)) return sendGatewayError(res, 'BAD_REQUEST', 'X-Skiff-Callback: must be an absolute http:// or https:// URL');
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return tooLarge(res, limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return tooLarge(res, limit);
    chunks.push(chunk);
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !NOT_KEPT.has(k)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  const key = header(req, 'idempotency-key');
  try {
    const r = await port.accept({ service, method: req.method ?? 'POST', path, headers, body: Buffer.concat(chunks) }, { ...(key !== undefined ? { idempotencyKey: key } : {}), ...(callback !== undefined ? { callback } : {}) });
    const location = `/api/v1/invocations/${r.id}`;
    const body = JSON.stringify({ id: r.id, status: r.status, location, ...(r.created ? {} : { duplicate: true }) });
    res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), location, 'preference-applied': 'respond-async' });
    res.end(body);
  } catch (err) {
    if (err instanceof SkiffError) return sendGatewayError(res, err.code, err.message);
    throw err;
  }
}

function tooLarge(res: http.ServerResponse, limit: number): void {
  res.shouldKeepAlive = false; // the rest of the body is not read
  sendGatewayError(res, 'PAYLOAD_TOO_LARGE', `an async request body is at most ${limit} bytes`);
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}
