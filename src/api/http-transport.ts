// api/http-transport: one HTTP exchange over node:http(s) for the API client and `skiff push`. Not
// fetch(): Node 20 loads fetch's undici on first use, which cost every CLI command ~0.2 s of its
// ~0.35 s (docs/benchmarks.md "CLI start"), while node:http is already in Node's startup snapshot;
// and blob uploads must stream a file with an exact Content-Length, which fetch does not let us set.
import http from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';

export interface Exchange {
  method: string;
  url: URL;
  headers?: Record<string, string | number>;
  body?: string | Buffer | Readable;
  signal?: AbortSignal;
}

/** Sends the request; resolves with the response head, its body left to the caller to read. Rejects
 *  with the socket's error when no response came (refused, reset, aborted through `signal`). */
export function open(x: Exchange): Promise<http.IncomingMessage> {
  const lib = x.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(x.url, { method: x.method, headers: x.headers, signal: x.signal });
    req.once('error', reject);
    req.once('response', resolve);
    if (x.body === undefined || typeof x.body === 'string' || Buffer.isBuffer(x.body)) req.end(x.body);
    // The server may answer (e.g. with an error) before the body is sent; that answer is what counts,
    // and a source read failure destroys the request, which rejects through req's 'error'.
    else pipeline(x.body, req).catch((err: Error) => req.destroy(err));
  });
}

/** The whole body as text. */
export async function readText(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
