// cli/push/registry-http: one registry request (api/http-transport: node:http, so a blob upload can
// stream a file with an exact Content-Length), its answer read whole.
import type http from 'node:http';
import type { Readable } from 'node:stream';
import { SkiffError } from '../../core/errors.ts';
import { errorFromBody, type SkiffClient } from '../../api/client.ts';
import { open, readText } from '../../api/http-transport.ts';

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
  const res = await open({ method, url, headers: { authorization: client.authHeader, ...headers }, body }).catch((err: Error) => {
    throw new SkiffError('UNAVAILABLE', `${method} ${url.origin}${url.pathname} failed: ${err.message}`);
  });
  return { status: res.statusCode ?? 0, headers: res.headers, text: await readText(res) };
}

/** Throws the registry's own error (its code kept) unless the status is one of `ok`. */
export function expectStatus(res: RegistryResponse, ...ok: number[]): RegistryResponse {
  if (!ok.includes(res.status)) throw errorFromBody(res.status, res.text);
  return res;
}
