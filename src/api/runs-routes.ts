// api/runs-routes: POST /api/v1/runs — one-off containers (`skiff run`, like `docker run --rm`). The
// response streams newline-delimited JSON events while the container runs:
//   {"stream":"stdout","data":"hello\n"}   …   {"exit":{"reason":"exited","exitCode":0}}
// Image errors (MANIFEST_UNKNOWN, NAME_UNKNOWN, …) are ordinary API errors, before the stream starts.
// A client that disconnects gets its container killed and removed (RunPort).
import type { FastifyInstance } from 'fastify';
import { Readable } from 'node:stream';
import { parseCpu, parseMemory } from '../core/quantity.ts';
import type { RunPort, RunSpec } from './ports.ts';
import { DEFAULT_LIMITS } from './service-spec.ts';

const quantity = { anyOf: [{ type: 'string' }, { type: 'number' }] } as const;

export const runRequestSchema = {
  type: 'object',
  required: ['image'],
  additionalProperties: false,
  properties: {
    image: { type: 'string', minLength: 1, maxLength: 512, description: 'repo[:tag] or repo@sha256:… in Skiff’s registry' },
    command: { type: 'array', items: { type: 'string' }, description: 'replaces the image CMD (the ENTRYPOINT stays), as docker run IMAGE CMD…' },
    env: { type: 'object', additionalProperties: { type: 'string' }, propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' } },
    memory: { ...quantity, description: 'memory limit: bytes or a quantity like 256Mi (default 256Mi)' },
    cpus: { ...quantity, description: 'CPU quota in cores: 0.5 or 500m (default 1)' },
    pids: { type: 'integer', minimum: 1, description: 'maximum processes + threads (default 512)' },
    readOnly: { type: 'boolean', description: 'mount the image root read-only (/tmp stays writable)' },
  },
} as const;

export interface RunRequest {
  image: string;
  command?: string[];
  env?: Record<string, string>;
  memory?: string | number;
  cpus?: string | number;
  pids?: number;
  readOnly?: boolean;
}

export function normaliseRunRequest(r: RunRequest): RunSpec {
  return {
    image: r.image,
    ...(r.command?.length ? { command: r.command } : {}),
    env: r.env ?? {},
    memoryBytes: r.memory !== undefined ? parseMemory(r.memory, 'memory') : DEFAULT_LIMITS.memoryBytes,
    cpus: r.cpus !== undefined ? parseCpu(r.cpus, 'cpus') : DEFAULT_LIMITS.cpus,
    pids: r.pids ?? DEFAULT_LIMITS.pids,
    readOnlyRoot: r.readOnly ?? false,
  };
}

export function registerRunRoutes(api: FastifyInstance, runs: RunPort): void {
  api.post('/runs', {
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
      response: { 400: { $ref: 'SkiffError#' }, 404: { $ref: 'SkiffError#' } },
    },
  }, async (req, reply) => {
    const abort = new AbortController();
    // The response closing before it finished means the client went away (Ctrl-C): kill the container.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    const run = await runs.start(normaliseRunRequest(req.body as RunRequest), abort.signal);
    async function* lines() {
      for await (const event of run.events) yield JSON.stringify(event) + '\n';
    }
    return reply.header('content-type', 'application/x-ndjson').header('x-skiff-run', run.id).send(Readable.from(lines()));
  });
}
