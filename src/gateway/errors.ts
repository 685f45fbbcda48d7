// gateway/errors: the gateway's error responses, in the API's one shape { error: { code, message } },
// written by this single function so a held request can never end in a silent drop.
import type { ServerResponse } from 'node:http';
import { ERROR_CATALOGUE, type ErrorCode } from '../core/errors.ts';

export function sendGatewayError(res: ServerResponse, code: ErrorCode, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(ERROR_CATALOGUE[code].status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-skiff-error': code });
  res.end(body);
}
