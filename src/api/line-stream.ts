// api/line-stream: a text/plain response of lines (logs of a service or a job) streamed from an async
// iterable. The first line is awaited before the status line is sent, so an unknown service, job or
// revision is still an ordinary API error (404 in the API's shape), not a 200 cut short.
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';

export async function sendLines(reply: FastifyReply, lines: AsyncIterable<string>): Promise<FastifyReply> {
  const iterator = lines[Symbol.asyncIterator]();
  const first = await iterator.next();
  async function* all() {
    if (!first.done) yield first.value + '\n';
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) yield r.value + '\n';
  }
  return reply.header('content-type', 'text/plain; charset=utf-8').send(Readable.from(all()));
}
