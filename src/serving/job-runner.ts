// serving/job-runner: runs one execution of a job to its end. Each task attempt is a container of its
// own, made like a one-off run's (serving/runs.ts: a run id, its own network isolation group), with
// SKIFF_JOB, SKIFF_EXECUTION, SKIFF_TASK_INDEX, SKIFF_TASK_COUNT and SKIFF_TASK_ATTEMPT in its
// environment; at most `parallelism` exist at once. Which task starts next and when the execution is
// over is job-decider.ts's; this file applies it, against the driver and the store:
//
//   attempt:  record it (with its container id) → create → start → watch, killed at its timeout →
//             its last lines → delete (the driver keeps its output under the job's log group) →
//             record how it ended → the decider
//
// The store is written before each container exists and after it is gone, so a daemon killed at any
// point finds every attempt it had started: at the next start the execution resumes here, and an
// attempt still recorded as running is marked interrupted (its container deleted first, so two
// copies of a task never run) and run again.
import type { Clock } from '../core/clock.ts';
import { exitText, type ExitReason } from '../core/instance.ts';
import type { ExecutionRecord, ExecutionStatus, JobRecord, TaskAttempt, TaskRecord, TaskStatus } from '../core/jobs.ts';
import type { Logger } from '../core/logger.ts';
import { jobLogGroup, runId } from '../core/names.ts';
import { nextStep, statusAfter } from './job-decider.ts';
import type { JobDriverPort, JobRecords } from './ports.ts';

/** lines of a failed attempt's output its message quotes */
const FAILURE_OUTPUT_LINES = 5;

export interface JobRunnerDeps {
  driver: JobDriverPort;
  records: JobRecords;
  clock: Clock;
  log: Logger;
  /** a task killed (timeout, cancel) gets the stop signal, then SIGKILL this much later */
  killGraceMs: number;
}

/** How an attempt ended; undefined from attempt() when the daemon is stopping (nothing is recorded). */
type AttemptEnd = Required<Pick<TaskAttempt, 'outcome'>> & Pick<TaskAttempt, 'exit' | 'message'>;

interface LiveAttempt {
  instance: string;
  /** started: a kill now reaches its process */
  started: boolean;
  timedOut: boolean;
  cancelled: boolean;
}


function duration(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`;
}

export class ExecutionRunner {
  /** every task's status by index; tasks never started are pending */
  private readonly statuses: TaskStatus[];
  private readonly tasks = new Map<number, TaskRecord>();
  private readonly live = new Map<number, LiveAttempt>();
  private readonly flows = new Set<Promise<void>>();
  private dirty = false;
  private wake: (() => void) | undefined;
  private stopping = false;
  private cancelReason: string | undefined;
  /** resolves once the execution ended (recorded) or the runner was stopped */
  readonly done: Promise<void>;

  constructor(
    private readonly job: JobRecord,
    private readonly exec: ExecutionRecord,
    private readonly d: JobRunnerDeps,
  ) {
    this.statuses = Array.from({ length: exec.taskCount }, () => 'pending' as TaskStatus);
    for (const t of exec.tasks) {
      this.tasks.set(t.index, t);
      this.statuses[t.index] = t.status;
    }
    this.done = this.loop().catch(async (err: unknown) => {
      // a bug or a store that stopped answering: said on the execution, never left running forever
      this.d.log.error({ err, execution: exec.id }, 'job execution failed unexpectedly');
      if (!this.stopping) await this.finish('failed', `internal error: ${(err as Error).message}`).catch(() => undefined);
    });
  }

  /** Ends the execution as cancelled (`reason` is its message): running tasks are killed. */
  cancel(reason: string): Promise<void> {
    this.cancelReason ??= reason;
    this.poke();
    return this.done;
  }

  /** The daemon is stopping: the task containers are deleted (their output kept) and nothing more is
   *  recorded, so the next daemon finds the execution running and runs those tasks again. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.poke();
    await Promise.all([...this.live.values()].map((l) => this.d.driver.delete(l.instance).catch((err: unknown) => this.d.log.warn({ err, instance: l.instance }, 'removing a task container failed'))));
    await this.done;
    await Promise.all(this.flows);
  }

  private async loop(): Promise<void> {
    await this.recoverInterrupted();
    for (;;) {
      if (this.stopping) return;
      if (this.cancelReason !== undefined) {
        await this.cancelAll(this.cancelReason);
        if (!this.stopping) await this.finish('cancelled', this.cancelReason);
        return;
      }
      const step = nextStep(this.statuses, this.job.spec.parallelism);
      if (step.kind === 'succeeded') {
        await Promise.all(this.flows); // the last tasks' records are written before the execution's
        return this.finish('succeeded', null);
      }
      if (step.kind === 'failed') {
        const cause = this.failure(step.task);
        await this.cancelAll(`task ${step.task} failed`);
        if (!this.stopping) await this.finish('failed', cause);
        return;
      }
      if (step.kind === 'start') for (const i of step.tasks) this.launch(i);
      await this.changed();
    }
  }

  /** Attempts a daemon that stopped left recorded as running: their containers go (the orphan sweep
   *  would remove them too, but a task must not run twice at once), and they count as interrupted. */
  private async recoverInterrupted(): Promise<void> {
    const interrupted = [...this.tasks.values()].filter((t) => t.status === 'running');
    await Promise.all(
      interrupted.map(async (task) => {
        const last = task.attempts.at(-1);
        if (last && last.outcome === undefined) {
          await this.d.driver.delete(last.instance).catch((err: unknown) => this.d.log.warn({ err, instance: last.instance }, 'removing an interrupted task container failed'));
          Object.assign(last, { endedAt: this.d.clock.now(), outcome: 'interrupted', message: 'the daemon stopped while it ran; run again' });
        }
        task.status = statusAfter(task, 'interrupted', this.job.spec.retries);
        this.statuses[task.index] = task.status;
        await this.d.records.putTask(this.exec.id, task, this.d.clock.now());
        this.d.log.info({ execution: this.exec.id, task: task.index, instance: last?.instance }, 'task interrupted by a daemon restart: running it again');
      }),
    );
  }

  private launch(index: number): void {
    const task = this.tasks.get(index) ?? { index, status: 'pending', attempts: [] };
    this.tasks.set(index, task);
    const attempt = task.attempts.length;
    const instance = runId();
    task.attempts.push({ instance, startedAt: this.d.clock.now() });
    task.status = this.statuses[index] = 'running';
    const flow = this.runAttempt(task, attempt)
      .catch((err: unknown) => this.d.log.error({ err, execution: this.exec.id, task: index }, 'recording a task attempt failed'))
      .finally(() => {
        this.flows.delete(flow);
        this.poke();
      });
    this.flows.add(flow);
  }

  private async runAttempt(task: TaskRecord, attempt: number): Promise<void> {
    const record = task.attempts[attempt]!;
    // the container id is stored before the container exists: a restart finds (and removes) it
    await this.d.records.putTask(this.exec.id, task, this.d.clock.now());
    if (this.stopping) return;
    const end = await this.attempt(task.index, attempt, record.instance);
    if (!end) return;
    Object.assign(record, { endedAt: this.d.clock.now(), ...end });
    task.status = this.statuses[task.index] = statusAfter(task, end.outcome, this.job.spec.retries);
    await this.d.records.putTask(this.exec.id, task, this.d.clock.now());
    this.d.log.info({ execution: this.exec.id, task: task.index, attempt, outcome: end.outcome, status: task.status }, `task attempt ${end.outcome}`);
  }

  private async attempt(index: number, attempt: number, instance: string): Promise<AttemptEnd | undefined> {
    const { spec, image } = this.job;
    const live: LiveAttempt = { instance, started: false, timedOut: false, cancelled: this.cancelReason !== undefined };
    this.live.set(index, live);
    const kill = () => void this.d.driver.stop(instance, this.d.killGraceMs).catch((err: unknown) => this.d.log.warn({ err, instance }, 'killing a task failed'));
    try {
      if (live.cancelled) return { outcome: 'cancelled', message: this.cancelReason };
      try {
        await this.d.driver.create(instance, {
          image,
          service: instance, // its own isolation group, as a one-off run: it reaches no service's instances
          ...(spec.command ? { args: spec.command } : {}),
          // Skiff's own variables last: a job's env cannot make a task believe it is another
          env: { ...spec.env, SKIFF_JOB: spec.name, SKIFF_EXECUTION: this.exec.id, SKIFF_TASK_INDEX: String(index), SKIFF_TASK_COUNT: String(this.exec.taskCount), SKIFF_TASK_ATTEMPT: String(attempt) },
          readOnlyRoot: false,
          limits: { memoryBytes: spec.memoryBytes, cpus: spec.cpus, pids: spec.pids },
          logGroup: jobLogGroup(spec.name),
          // its tenant's services by name (http://api/, db:6379), as a service's instances
          namespace: this.job.tenant,
        });
        await this.d.driver.start(instance); // (a failed start deletes the container)
      } catch (err) {
        await this.d.driver.delete(instance).catch(() => undefined);
        if (this.stopping) return undefined;
        return live.cancelled ? { outcome: 'cancelled', message: this.cancelReason } : { outcome: 'failed', message: `its container could not start: ${(err as Error).message}` };
      }
      live.started = true;
      if (live.cancelled || this.stopping) kill(); // asked while it was being made
      const cancelTimer = this.d.clock.after(spec.timeoutMs, () => {
        live.timedOut = true;
        kill();
      });
      const exit = await this.d.driver.watch(instance);
      cancelTimer();
      if (this.stopping) return undefined; // stop() deletes the container; the next daemon runs the task again
      const output = await this.lastOutput(instance);
      await this.d.driver.delete(instance).catch((err: unknown) => this.d.log.warn({ err, instance }, 'removing a task container failed'));
      if (live.cancelled) return { outcome: 'cancelled', ...(exit ? { exit } : {}), message: this.cancelReason };
      if (live.timedOut) return { outcome: 'timed-out', ...(exit ? { exit } : {}), message: `exceeded its timeout (${duration(spec.timeoutMs)}) and was killed${output}` };
      if (!exit) return { outcome: 'failed', message: `its container vanished before it ended${output}` };
      if (exit.reason === 'exited' && exit.exitCode === 0) return { outcome: 'succeeded', exit };
      return { outcome: 'failed', exit, message: `${exitText(exit, spec.memoryBytes, 'ended')}${output}` };
    } finally {
      this.live.delete(index);
    }
  }

  /** `; last output: "…" "…"`, or nothing when it printed nothing. */
  private async lastOutput(instance: string): Promise<string> {
    const lines: string[] = [];
    try {
      for await (const l of this.d.driver.logs(instance, { tail: FAILURE_OUTPUT_LINES })) lines.push(l.line.length > 200 ? `${l.line.slice(0, 200)}…` : l.line);
    } catch {
      // gone already: nothing to quote
    }
    return lines.length ? `; last output: ${lines.map((l) => JSON.stringify(l)).join(' ')}` : '';
  }

  /** Why the execution failed: the task, its attempts and how the last one ended. */
  private failure(index: number): string {
    const task = this.tasks.get(index)!;
    const last = task.attempts.at(-1);
    const n = task.attempts.length;
    return `task ${index} failed after ${n} attempt${n === 1 ? '' : 's'} (retries: ${this.job.spec.retries}): ${last?.message ?? 'no attempt recorded'}`;
  }

  /** Kills the running attempts (recorded as cancelled) and marks the tasks not running as cancelled. */
  private async cancelAll(reason: string): Promise<void> {
    this.cancelReason ??= reason;
    for (const l of this.live.values()) {
      l.cancelled = true;
      if (l.started) void this.d.driver.stop(l.instance, this.d.killGraceMs).catch(() => undefined);
    }
    await Promise.all(this.flows);
    if (this.stopping) return;
    for (const task of this.tasks.values()) {
      if (task.status !== 'pending') continue;
      task.status = this.statuses[task.index] = 'cancelled';
      await this.d.records.putTask(this.exec.id, task, this.d.clock.now());
    }
    for (let i = 0; i < this.statuses.length; i++) if (this.statuses[i] === 'pending') this.statuses[i] = 'cancelled';
  }

  private async finish(status: Exclude<ExecutionStatus, 'running'>, message: string | null): Promise<void> {
    await this.d.records.finishExecution(this.exec.id, status, message, this.d.clock.now());
    this.d.log.info({ execution: this.exec.id, job: this.job.name, status, message }, `job execution ${status}`);
  }

  private poke(): void {
    this.dirty = true;
    this.wake?.();
  }

  /** resolves once something changed since the last call (an attempt ended, a cancel, a stop) */
  private changed(): Promise<void> {
    if (this.dirty) {
      this.dirty = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        this.dirty = false;
        resolve();
      };
    });
  }
}
