// registry/errors: the one serializer for errors on /v2, in the distribution-spec shape
// { "errors": [ { "code", "message", "detail" } ] }, with the headers clients rely on.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { asSkiffError, SkiffError } from '../core/errors.ts';

export function toSkiffError(err: unknown): SkiffError {
  if (err instanceof SkiffError) return err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new SkiffError('PAYLOAD_TOO_LARGE');
  if (e?.code === 'ERR_STREAM_PREMATURE_CLOSE' || e?.code === 'ECONNRESET') {
    return new SkiffError('BLOB_UPLOAD_INVALID', 'client closed the connection before the body was complete');
  }
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return new SkiffError('BAD_REQUEST', e.message);
  return asSkiffError(err);
}

export function sendOciError(reply: FastifyReply, err: unknown, req: FastifyRequest): FastifyReply {
  const e = toSkiffError(err);
  if (e.kind === 'system') req.log.error({ err: (e.cause as Error) ?? e, url: req.url }, 'registry request failed');
  else req.log.debug({ code: e.code, url: req.url }, e.message);
  if (e.code === 'UNAUTHORIZED') {
    // over the TLS listener (registryTls) the token endpoint is https too: a client must not be sent to plain http on a TLS port
    const proto = (req.headers['x-forwarded-proto'] as string | undefined) ?? req.protocol;
    reply.header('www-authenticate', `Bearer realm="${proto}://${req.headers.host ?? 'localhost'}/v2/token",service="skiff"`);
  }
  const detail = e.detail as { offset?: number } | undefined;
  if (e.code === 'RANGE_INVALID' && detail?.offset !== undefined) {
    reply.header('range', `0-${Math.max(0, detail.offset - 1)}`);
    reply.header('location', req.url.split('?')[0]);
  }
  const body = { errors: [{ code: e.code, message: e.message, detail: e.detail ?? {} }] };
  reply.code(e.status).header('content-type', 'application/json');
  return req.method === 'HEAD' ? reply.send() : reply.send(JSON.stringify(body));
}
