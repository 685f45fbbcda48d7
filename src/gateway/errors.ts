// gateway/errors: the gateway's error responses, in the API's one shape { error: { code, message } },
// written by these functions only (node:http path and raw fast path) so a held request can never end
// in a silent drop and both paths answer alike.
import { STATUS_CODES, type ServerResponse } from 'node:http';
import { ERROR_CATALOGUE, type ErrorCode } from '../core/errors.ts';
import type { RevisionLimits } from './ports.ts';
import type { Refusal } from './pool.ts';

function errorBody(code: ErrorCode, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

export function sendGatewayError(res: ServerResponse, code: ErrorCode, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorBody(code, message);
  res.writeHead(ERROR_CATALOGUE[code].status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-skiff-error': code });
  res.end(body);
}

/** The same answer as a complete HTTP/1.1 message for the fast path. */
export function rawGatewayError(code: ErrorCode, message: string, close = true): string {
  const body = errorBody(code, message);
  const status = ERROR_CATALOGUE[code].status;
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-skiff-error: ${code}\r\n${close ? 'connection: close\r\n' : ''}\r\n${body}`;
}

/** Why the activator gave a request no instance, as the error both paths answer with. */
export function refusalError(refusal: Refusal, pool: { revision: string; limits: RevisionLimits }): [ErrorCode, string] {
  const { revision, limits } = pool;
  switch (refusal.reason) {
    case 'failed':
      if (refusal.budget) return ['BUDGET_EXHAUSTED', `revision ${revision}: ${refusal.cause}`];
      if (refusal.quota) return ['QUOTA_EXCEEDED', `revision ${revision} cannot start an instance: ${refusal.cause}`];
      return ['REVISION_FAILED', `revision ${revision} cannot start: ${refusal.cause} (next attempt in ${Math.ceil(refusal.retryInMs / 1000)}s)`];
    case 'queue-full':
      return ['QUEUE_FULL', `revision ${revision}: all instances busy and ${limits.queueLimit} requests already waiting`];
    case 'timeout':
      return ['COLD_START_TIMEOUT', `revision ${revision}: no instance became ready within ${limits.timeoutMs} ms`];
    case 'closed':
      return ['UNAVAILABLE', `revision ${revision} is shutting down`];
  }
}
