// api/jobs-schemas: JSON schemas of what /api/v1/jobs answers — a job (JobView in core/jobs.ts) and an
// execution with its tasks and their attempts (ExecutionView). They serialise the responses (fastify
// drops a field a schema does not list) and document them in /api/openapi.json.
const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const TASK_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'cancelled'] as const;

const attemptSchema = {
  type: 'object',
  required: ['attempt', 'instance', 'startedAt'],
  properties: {
    attempt: { type: 'integer', description: '0-based, as the task saw it in SKIFF_TASK_ATTEMPT' },
    instance: { type: 'string', description: 'the container it ran in' },
    startedAt: str,
    endedAt: str,
    durationMs: int,
    outcome: { type: 'string', enum: ['succeeded', 'failed', 'timed-out', 'interrupted', 'cancelled'], description: 'absent while it runs; interrupted: the daemon stopped while it ran (it ran again)' },
    exitCode: int,
    signal: int,
    message: { type: 'string', description: 'why it did not succeed: exit code, OOM, timeout, its last output lines' },
  },
} as const;

export const executionViewSchema = {
  type: 'object',
  required: ['id', 'job', 'status', 'createdAt', 'counts', 'tasks'],
  properties: {
    id: str,
    job: str,
    status: { type: 'string', enum: ['running', 'succeeded', 'failed', 'cancelled'] },
    message: { type: 'string', description: 'why it failed (which task, how its last attempt ended) or was cancelled' },
    createdAt: str,
    endedAt: str,
    durationMs: int,
    counts: { type: 'object', required: [...TASK_STATUSES], properties: Object.fromEntries(TASK_STATUSES.map((s) => [s, int])) },
    tasks: {
      type: 'array',
      items: { type: 'object', required: ['index', 'status', 'attempts'], properties: { index: int, status: { type: 'string', enum: [...TASK_STATUSES] }, attempts: { type: 'array', items: attemptSchema } } },
    },
  },
} as const;

export const jobViewSchema = {
  type: 'object',
  required: ['name', 'project', 'image', 'digest', 'env', 'memoryBytes', 'cpus', 'tasks', 'parallelism', 'retries', 'timeoutMs', 'createdAt', 'executions'],
  properties: {
    name: str,
    project: { ...str, description: 'the project the job belongs to' },
    image: { type: 'string', description: 'the image reference as given' },
    digest: { type: 'string', description: 'the pinned reference repo@sha256:… every execution runs' },
    command: { type: 'array', items: str },
    env: { type: 'object', additionalProperties: str },
    memoryBytes: int,
    cpus: { type: 'number' },
    tasks: int,
    parallelism: int,
    retries: int,
    timeoutMs: { type: 'integer', description: 'per task attempt' },
    createdAt: str,
    executions: { type: 'array', items: executionViewSchema, description: 'newest first: the recent ones (describe), the latest one (list)' },
  },
} as const;
