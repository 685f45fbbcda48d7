// cli/push/registry-http: one registry request over node:http(s). fetch() is not used because blob
// uploads must stream a file with an exact Content-Length, which undici's fetch does not let us set.
import http from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { SkiffError } from '../../core/errors.ts';
import { errorFromBody, type SkiffClient } from '../../api/client.ts';

export interface RegistryResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export async function send(
  client: SkiffClient,
  method: string,
  pathOrUrl: string,
  headers: Record<string, string | number> = {},
  body?: Buffer | Readable,
): Promise<RegistryResponse> {
  const url = new URL(pathOrUrl, client.options.baseUrl);
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise<RegistryResponse>((resolve, reject) => {
    const req = lib.request(url, { method, headers: { authorization: client.authHeader, ...headers } });
    req.on('error', (err) => reject(new SkiffError('UNAVAILABLE', `${method} ${url.origin}${url.pathname} failed: ${err.message}`)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    if (body === undefined || Buffer.isBuffer(body)) req.end(body);
    // The server may answer (e.g. with an error) before the body is sent; that answer is what counts,
    // and a source read failure destroys the request, which rejects through req's 'error'.
    else pipeline(body, req).catch((err: Error) => req.destroy(err));
  });
}

/** Throws the registry's own error (its code kept) unless the status is one of `ok`. */
export function expectStatus(res: RegistryResponse, ...ok: number[]): RegistryResponse {
  if (!ok.includes(res.status)) throw errorFromBody(res.status, res.text);
  return res;
}
