// serving/job-spec: a job document (core/jobs.ts) normalised into the JobSpec a job stores, every
// default filled in — Cloud Run's where it has one (1 task, 3 retries, a 10-minute task timeout) — and
// every bound said in words naming the field, for callers that skipped the API's schema.
import { SkiffError } from '../core/errors.ts';
import { JOB_MAXIMUMS, type JobDocument, type JobSpec } from '../core/jobs.ts';
import { SERVICE_NAME_RE } from '../core/names.ts';
import { parseCpu, parseDuration, parseMemory } from '../core/quantity.ts';
import { DEFAULT_LIMITS } from './spec.ts';

export const JOB_DEFAULTS = { tasks: 1, retries: 3, timeoutMs: 10 * 60_000 } as const;
/** parallelism when none is given: every task at once, up to this many */
export const DEFAULT_MAX_PARALLELISM = 10;
/** a task attempt may run at most this long */
export const MAX_TASK_TIMEOUT_MS = 24 * 3600_000;

function integer(value: number | undefined, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) throw new SkiffError('BAD_REQUEST', `${field}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return value;
}

export function normaliseJobDocument(doc: JobDocument): JobSpec {
  if (!SERVICE_NAME_RE.test(doc.name)) throw new SkiffError('BAD_REQUEST', `name: must be a DNS label (lowercase letters, digits, '-'), got ${JSON.stringify(doc.name)}`);
  const tasks = integer(doc.tasks, 'tasks', 1, JOB_MAXIMUMS.tasks, JOB_DEFAULTS.tasks);
  const parallelism = integer(doc.parallelism, 'parallelism', 1, JOB_MAXIMUMS.parallelism, Math.min(tasks, DEFAULT_MAX_PARALLELISM));
  // said, not silently capped: more slots than tasks is a mistake in one of the two numbers
  if (parallelism > tasks) throw new SkiffError('BAD_REQUEST', `parallelism: ${parallelism} is more than tasks (${tasks})`);
  const timeoutMs = doc.timeout !== undefined ? parseDuration(doc.timeout, 'timeout') : JOB_DEFAULTS.timeoutMs;
  if (timeoutMs > MAX_TASK_TIMEOUT_MS) throw new SkiffError('BAD_REQUEST', `timeout: at most 24h per task attempt, got ${timeoutMs / 1000}s`);
  return {
    name: doc.name,
    image: doc.image,
    ...(doc.command?.length ? { command: doc.command } : {}),
    env: doc.env ?? {},
    memoryBytes: doc.resources?.memory !== undefined ? parseMemory(doc.resources.memory, 'resources.memory') : DEFAULT_LIMITS.memoryBytes,
    cpus: doc.resources?.cpu !== undefined ? parseCpu(doc.resources.cpu, 'resources.cpu') : DEFAULT_LIMITS.cpus,
    pids: DEFAULT_LIMITS.pids,
    tasks,
    parallelism,
    retries: integer(doc.retries, 'retries', 0, JOB_MAXIMUMS.retries, JOB_DEFAULTS.retries),
    timeoutMs,
  };
}
