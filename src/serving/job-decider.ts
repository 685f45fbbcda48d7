// serving/job-decider: the pure rules of a job execution — which tasks to start next, when the
// execution is over, and what an attempt's end makes of its task. No clock, no I/O: job-runner.ts
// applies the decisions; test/serving/job-decider.test.ts steps through them with plain data.
import type { AttemptOutcome, TaskRecord, TaskStatus } from '../core/jobs.ts';

export type NextStep =
  /** start these tasks now (lowest index first, never more than the free slots) */
  | { kind: 'start'; tasks: number[] }
  /** nothing to start: wait for a running task to end */
  | { kind: 'wait' }
  | { kind: 'succeeded' }
  /** a task failed on its last allowed attempt: the execution fails (the others are cancelled) */
  | { kind: 'failed'; task: number };

/** The attempts that count against a task's retries: its own failures and timeouts, not an attempt
 *  the daemon interrupted (a restart) or one cancelled. */
export function failuresOf(task: Pick<TaskRecord, 'attempts'>): number {
  return task.attempts.filter((a) => a.outcome === 'failed' || a.outcome === 'timed-out').length;
}

/** The task's status once its last attempt (already in `task.attempts`, with `outcome`) has ended:
 *  pending again while it has retries left, failed when it has none. */
export function statusAfter(task: Pick<TaskRecord, 'attempts'>, outcome: AttemptOutcome, retries: number): TaskStatus {
  switch (outcome) {
    case 'succeeded':
      return 'succeeded';
    case 'cancelled':
      return 'cancelled';
    case 'interrupted':
      return 'pending';
    case 'failed':
    case 'timed-out':
      return failuresOf(task) > retries ? 'failed' : 'pending';
  }
}

/** What an execution does next, from its tasks' statuses (index = task index). */
export function nextStep(statuses: readonly TaskStatus[], parallelism: number): NextStep {
  const failed = statuses.indexOf('failed');
  if (failed >= 0) return { kind: 'failed', task: failed };
  if (statuses.every((s) => s === 'succeeded')) return { kind: 'succeeded' };
  const free = parallelism - statuses.filter((s) => s === 'running').length;
  const tasks: number[] = [];
  for (let i = 0; i < statuses.length && tasks.length < free; i++) if (statuses[i] === 'pending') tasks.push(i);
  return tasks.length ? { kind: 'start', tasks } : { kind: 'wait' };
}
