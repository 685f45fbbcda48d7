// api/errors: the one serializer for errors on /api: { "error": { "code", "message" } }.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { asSkiffError, SkiffError } from '../core/errors.ts';

function toSkiffError(err: unknown): SkiffError {
  if (err instanceof SkiffError) return err;
  const e = err as { code?: string; statusCode?: number; message?: string; validation?: unknown };
  if (e?.validation) return new SkiffError('BAD_REQUEST', e.message);
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new SkiffError('PAYLOAD_TOO_LARGE');
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return new SkiffError('BAD_REQUEST', e.message);
  return asSkiffError(err);
}

export function sendApiError(reply: FastifyReply, err: unknown, req: FastifyRequest): FastifyReply {
  const e = toSkiffError(err);
  if (e.kind === 'system') req.log.error({ err: (e.cause as Error) ?? e, url: req.url }, 'api request failed');
  if (e.code === 'UNAUTHORIZED') reply.header('www-authenticate', 'Bearer realm="skiff"');
  return reply.code(e.status).send({ error: { code: e.code, message: e.message } });
}

/** The error shape, registered once as the shared schema `SkiffError` (errorRef points at it). */
export const skiffErrorSchema = {
  $id: 'SkiffError',
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
} as const;

export const errorRef = { $ref: 'SkiffError#' } as const;
