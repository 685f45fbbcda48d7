// gateway/errors: the gateway's error responses, in the API's one shape { error: { code, message } },
// written by these functions only (node:http path and raw fast path) so a held request can never end
// in a silent drop and both paths answer alike.
import { STATUS_CODES, type ServerResponse } from 'node:http';
import { ERROR_CATALOGUE, type ErrorCode } from '../core/errors.ts';

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

/** The same answer as a complete HTTP/1.1 message for the fast path; the connection closes after it. */
export function rawGatewayError(code: ErrorCode, message: string): string {
  const body = errorBody(code, message);
  const status = ERROR_CATALOGUE[code].status;
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-skiff-error: ${code}\r\nconnection: close\r\n\r\n${body}`;
}
