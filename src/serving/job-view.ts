// serving/job-view: what the API answers about a job and its executions (core/jobs.ts JobView,
// ExecutionView), from the records: ISO times, durations, every task listed (those never started as
// pending, or cancelled once the execution is over) and counts per status.
import type { AttemptView, ExecutionRecord, ExecutionView, JobRecord, JobView, TaskStatus, TaskView } from '../core/jobs.ts';
import { pinnedReference } from '../core/names.ts';

const iso = (ms: number) => new Date(ms).toISOString();

export function executionView(e: ExecutionRecord): ExecutionView {
  const started = new Map(e.tasks.map((t) => [t.index, t]));
  const notStarted: TaskStatus = e.status === 'running' ? 'pending' : 'cancelled';
  const tasks: TaskView[] = Array.from({ length: e.taskCount }, (_, index) => {
    const t = started.get(index);
    if (!t) return { index, status: notStarted, attempts: [] };
    const attempts = t.attempts.map((a, attempt): AttemptView => ({
      attempt,
      instance: a.instance,
      startedAt: iso(a.startedAt),
      ...(a.endedAt !== undefined ? { endedAt: iso(a.endedAt), durationMs: a.endedAt - a.startedAt } : {}),
      ...(a.outcome ? { outcome: a.outcome } : {}),
      ...(a.exit && a.exit.reason !== 'signalled' ? { exitCode: a.exit.exitCode } : {}),
      ...(a.exit?.reason === 'signalled' ? { signal: a.exit.signal } : {}),
      ...(a.message ? { message: a.message } : {}),
    }));
    return { index, status: t.status, attempts };
  });
  const counts: Record<TaskStatus, number> = { pending: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
  for (const t of tasks) counts[t.status]++;
  return {
    id: e.id,
    job: e.job,
    status: e.status,
    ...(e.message !== null ? { message: e.message } : {}),
    createdAt: iso(e.createdAt),
    ...(e.endedAt !== null ? { endedAt: iso(e.endedAt), durationMs: e.endedAt - e.createdAt } : {}),
    counts,
    tasks,
  };
}

export function jobView(j: JobRecord, executions: ExecutionRecord[]): JobView {
  const s = j.spec;
  return {
    name: j.name,
    project: j.tenant,
    image: s.image,
    digest: pinnedReference(j.image),
    ...(s.command ? { command: s.command } : {}),
    env: s.env,
    memoryBytes: s.memoryBytes,
    cpus: s.cpus,
    tasks: s.tasks,
    parallelism: s.parallelism,
    retries: s.retries,
    timeoutMs: s.timeoutMs,
    createdAt: iso(j.createdAt),
    executions: executions.map(executionView),
  };
}
