// core/jobs: run-to-completion workloads (Cloud Run jobs). What users write (the job document, the
// body of POST /api/v1/jobs, with its JSON schema), the records the store keeps (a job, its executions
// and their tasks' attempts) and what the API answers about them (views). serving/jobs.ts owns the
// rules; store/jobs-repository.ts keeps the records; api/ and cli/ speak the document and the views.
//
//   job ─┬─ execution (one `skiff job run`) ─┬─ task 0 ─ attempt 0, attempt 1, …
//        │                                   └─ task N-1 …
//        └─ execution …
import type { ExitReason } from './instance.ts';
import { SERVICE_NAME_RE } from './names.ts';
import type { PinnedImage } from './service.ts';

/** The largest values a job document may name: beyond them a number is a typo. */
export const JOB_MAXIMUMS = { tasks: 10_000, parallelism: 100, retries: 10, envVars: 1000 } as const;

const quantity = { type: ['string', 'number'] } as const;

export const jobDocumentSchema = {
  type: 'object',
  required: ['name', 'image'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: SERVICE_NAME_RE.source },
    image: { type: 'string', minLength: 1, maxLength: 512, description: 'repo[:tag] or repo@sha256:… in Skiff’s registry; pinned to its digest when the job is created' },
    command: { type: 'array', items: { type: 'string' }, description: 'replaces the image CMD (the ENTRYPOINT stays), as skiff run IMAGE CMD…' },
    env: { type: 'object', maxProperties: JOB_MAXIMUMS.envVars, additionalProperties: { type: 'string' }, propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' } },
    tasks: { type: 'integer', minimum: 1, maximum: JOB_MAXIMUMS.tasks, description: 'tasks per execution, each in its own container (default 1)' },
    parallelism: { type: 'integer', minimum: 1, maximum: JOB_MAXIMUMS.parallelism, description: 'tasks running at once at most (default: tasks, at most 10)' },
    retries: { type: 'integer', minimum: 0, maximum: JOB_MAXIMUMS.retries, description: 'failed attempts of a task retried before the execution fails (default 3)' },
    timeout: { ...quantity, description: 'per task attempt, then it is killed and counts as failed: 90s, 10m, 1h (default 10m)' },
    resources: { type: 'object', additionalProperties: false, properties: { memory: quantity, cpu: quantity } },
  },
} as const;

export interface JobDocument {
  name: string;
  image: string;
  command?: string[];
  env?: Record<string, string>;
  tasks?: number;
  parallelism?: number;
  retries?: number;
  timeout?: string | number;
  resources?: { memory?: string | number; cpu?: string | number };
}

/** A job document with every default filled in. */
export interface JobSpec {
  name: string;
  /** the reference as the user gave it; JobRecord.image is what it resolved to */
  image: string;
  command?: string[];
  env: Record<string, string>;
  memoryBytes: number;
  cpus: number;
  pids: number;
  tasks: number;
  parallelism: number;
  retries: number;
  timeoutMs: number;
}

export interface JobRecord {
  name: string;
  tenant: string;
  spec: JobSpec;
  /** spec.image pinned when the job was created: every execution runs this digest */
  image: PinnedImage;
  createdAt: number;
}

export type ExecutionStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';
export type TaskStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';
/** How an attempt ended: `interrupted` = the daemon stopped while it ran (it is run again, and does
 *  not count against the retries); `cancelled` = the execution failed or its job was removed. */
export type AttemptOutcome = 'succeeded' | 'failed' | 'timed-out' | 'interrupted' | 'cancelled';

export interface TaskAttempt {
  /** the container it ran in (a one-off run's id) */
  instance: string;
  startedAt: number;
  endedAt?: number;
  outcome?: AttemptOutcome;
  exit?: ExitReason;
  /** why it did not succeed, for people: exit code, OOM, timeout, last output lines */
  message?: string;
}

export interface TaskRecord {
  index: number;
  status: TaskStatus;
  /** oldest first; attempt n ran with SKIFF_TASK_ATTEMPT=n */
  attempts: TaskAttempt[];
}

export interface ExecutionRecord {
  id: string;
  job: string;
  status: ExecutionStatus;
  /** why it failed or was cancelled */
  message: string | null;
  taskCount: number;
  createdAt: number;
  endedAt: number | null;
  /** the tasks that have started at least once, by index (the others are pending) */
  tasks: TaskRecord[];
}

export interface AttemptView {
  attempt: number;
  instance: string;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  outcome?: AttemptOutcome;
  exitCode?: number;
  signal?: number;
  message?: string;
}

export interface TaskView {
  index: number;
  status: TaskStatus;
  attempts: AttemptView[];
}

export interface ExecutionView {
  id: string;
  job: string;
  status: ExecutionStatus;
  message?: string;
  createdAt: string;
  endedAt?: string;
  durationMs?: number;
  counts: Record<TaskStatus, number>;
  tasks: TaskView[];
}

export interface JobView {
  name: string;
  /** the project it belongs to */
  project: string;
  /** the reference as given at create */
  image: string;
  /** the pinned reference every execution runs, `repo@sha256:…` */
  digest: string;
  command?: string[];
  env: Record<string, string>;
  memoryBytes: number;
  cpus: number;
  tasks: number;
  parallelism: number;
  retries: number;
  timeoutMs: number;
  createdAt: string;
  /** newest first: the recent ones in describe, the latest one in a list */
  executions: ExecutionView[];
}
