// registry/body: reads a small request body (a manifest) into memory with a hard size limit, refusing
// early on Content-Length and again while streaming, so an oversized body never fills memory.
import type { IncomingMessage } from 'node:http';
import { SkiffError } from '../core/errors.ts';

export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) {
    req.resume();
    throw new SkiffError('PAYLOAD_TOO_LARGE', `body is ${declared} bytes; the limit is ${limit}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw new SkiffError('PAYLOAD_TOO_LARGE', `body exceeds the limit of ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
