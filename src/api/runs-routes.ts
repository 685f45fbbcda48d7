// api/runs-routes: POST /api/v1/runs — one-off containers (`skiff run`, like `docker run --rm`). The
// response streams newline-delimited JSON events while the container runs:
//   {"stream":"stdout","data":"hello\n"}   …   {"exit":{"reason":"exited","exitCode":0}}
// Image errors (MANIFEST_UNKNOWN, NAME_UNKNOWN, …) are ordinary API errors, before the stream starts.
// A client that disconnects gets its container killed and removed (RunPort).
import type { FastifyInstance } from 'fastify';
import { Readable } from 'node:stream';
import { runRequestSchema, type RunRequest } from '../core/documents.ts';
import type { RunPort } from './ports.ts';
import { errorRef as error } from './errors.ts';
import { needs } from './auth.ts';

export function registerRunRoutes(api: FastifyInstance, runs: RunPort): void {
  api.post('/runs', {
    config: needs('runs:create'),
    schema: {
      summary: 'Run a one-off container from an image and stream its output (like docker run --rm)',
      description:
        'The 200 response is application/x-ndjson, one event per line while the container runs: ' +
        '{"stream":"stdout"|"stderr","data":"<line>\\n"}, then last {"exit":{"reason":"exited","exitCode":N}} | ' +
        '{"exit":{"reason":"oom-killed","exitCode":N,"memoryLimitBytes":N}} | {"exit":{"reason":"signalled","signal":N}} ' +
        '(plus "pidsLimitHits" and "pidsLimit" when forks were refused at the pids limit), ' +
        'sent once the container has been removed. Closing the connection kills and removes the container.',
      tags: ['runs'],
      body: runRequestSchema,
      response: { 400: error, 404: error },
    },
  }, async (req, reply) => {
    const abort = new AbortController();
    // The response closing before it finished means the client went away (Ctrl-C): kill the container.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    const run = await runs.start(req.body as RunRequest, req.principal!.tenant, abort.signal);
    async function* lines() {
      for await (const event of run.events) yield JSON.stringify(event) + '\n';
    }
    return reply.header('content-type', 'application/x-ndjson').header('x-skiff-run', run.id).send(Readable.from(lines()));
  });
}
