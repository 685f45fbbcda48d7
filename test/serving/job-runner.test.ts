// serving/job-runner against hand-written fakes of its two ports (an in-memory driver whose task
// programs are decided by their SKIFF_TASK_* environment, and in-memory records) and a FakeClock:
// parallelism, retries, a failure cancelling the tasks still running, a timeout, a cancel, and a
// daemon stop whose executions the next runner resumes. End to end with real runc: test/cli/jobs.test.ts
// and test/serving/job-crash.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/core/clock.ts';
import type { ExitReason, InstanceSpec, LogLine } from '../../src/core/instance.ts';
import type { ExecutionRecord, JobRecord, TaskRecord } from '../../src/core/jobs.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { ExecutionRunner } from '../../src/serving/job-runner.ts';
import { normaliseJobDocument } from '../../src/serving/job-spec.ts';
import type { JobDriverPort, JobRecords } from '../../src/serving/ports.ts';

/** What a task's process does: print lines, then exit with a code (or, without one, run until killed). */
type Program = (env: Record<string, string>) => { lines?: string[]; exit?: number };

interface Proc {
  env: Record<string, string>;
  lines: LogLine[];
  started: boolean;
  ended: Promise<ExitReason | undefined>;
  end(exit: ExitReason | undefined): void;
}

class TaskDriver implements JobDriverPort {
  readonly procs = new Map<string, Proc>();
  readonly kept = new Map<string, LogLine[]>();
  readonly stopped: string[] = [];
  /** the most task containers that existed at once */
  most = 0;
  constructor(private readonly program: Program) {}

  async create(id: string, spec: InstanceSpec): Promise<void> {
    let end!: (e: ExitReason | undefined) => void;
    const ended = new Promise<ExitReason | undefined>((r) => (end = r));
    this.procs.set(id, { env: spec.env, lines: [], started: false, ended, end });
    this.most = Math.max(this.most, this.procs.size);
  }

  async start(id: string) {
    const p = this.procs.get(id)!;
    p.started = true;
    const run = this.program(p.env);
    for (const line of run.lines ?? []) p.lines.push({ time: new Date().toISOString(), stream: 'stdout', line });
    if (run.exit !== undefined) setImmediate(() => p.end({ reason: 'exited', exitCode: run.exit! }));
    return { host: '10.0.0.2', port: 0 };
  }

  async watch(id: string) {
    return this.procs.get(id)?.ended;
  }

  async stop(id: string): Promise<void> {
    this.stopped.push(id);
    this.procs.get(id)?.end({ reason: 'signalled', signal: 9 });
  }

  async delete(id: string): Promise<void> {
    const p = this.procs.get(id);
    if (!p) return;
    p.end(undefined); // (no-op once it ended)
    this.kept.set(id, p.lines);
    this.procs.delete(id);
  }

  async *logs(id: string, opts?: { tail?: number }): AsyncGenerator<LogLine> {
    const lines = this.procs.get(id)?.lines ?? this.kept.get(id) ?? [];
    yield* opts?.tail ? lines.slice(-opts.tail) : lines;
  }

  async forgetLogs(): Promise<void> {}
}

/** Executions and tasks in memory (the store's own contract is test/store/contract/jobs.ts). */
function memoryRecords(): JobRecords & { executions: Map<string, ExecutionRecord> } {
  const executions = new Map<string, ExecutionRecord>();
  const copy = <T>(x: T): T => structuredClone(x);
  return {
    executions,
    createJob: async () => {},
    getJob: async () => undefined,
    listJobs: async () => [],
    deleteJob: async () => false,
    createExecution: async (e) => void executions.set(e.id, { ...e, status: 'running', message: null, endedAt: null, tasks: [] }),
    getExecution: async (id) => copy(executions.get(id)),
    executionsOf: async () => [],
    runningExecutions: async () => copy([...executions.values()].filter((e) => e.status === 'running')),
    putTask: async (id, task: TaskRecord) => {
      const e = executions.get(id)!;
      e.tasks = [...e.tasks.filter((t) => t.index !== task.index), copy(task)].sort((a, b) => a.index - b.index);
    },
    finishExecution: async (id, status, message, endedAt) => void Object.assign(executions.get(id)!, { status, message, endedAt }),
    pruneExecutions: async () => [],
  };
}

function jobOf(doc: { tasks: number; parallelism?: number; retries?: number; timeout?: string }): JobRecord {
  return { name: 'batch', tenant: 't', spec: normaliseJobDocument({ name: 'batch', image: 'team/batch:v1', ...doc }), image: { repository: 'team/batch', digest: `sha256:${'a'.repeat(64)}` }, createdAt: 0 };
}

async function runner(job: JobRecord, driver: TaskDriver, records: ReturnType<typeof memoryRecords>, clock = new FakeClock(1000)) {
  const id = `batch-${records.executions.size}`;
  await records.createExecution({ id, job: 'batch', taskCount: job.spec.tasks, createdAt: clock.now() });
  return { id, run: new ExecutionRunner(job, (await records.getExecution(id))!, { driver, records, clock, log: silentLogger, killGraceMs: 100 }) };
}

const outcomes = (e: ExecutionRecord) => e.tasks.map((t) => [t.index, t.status, t.attempts.map((a) => a.outcome)]);

test('runner: 7 tasks, 3 at a time, each seeing its index, count and attempt; a failed attempt retried', async () => {
  const seen: string[] = [];
  const driver = new TaskDriver((env) => {
    seen.push(`${env.SKIFF_JOB} ${env.SKIFF_EXECUTION} ${env.SKIFF_TASK_INDEX}/${env.SKIFF_TASK_COUNT} #${env.SKIFF_TASK_ATTEMPT}`);
    return { exit: env.SKIFF_TASK_INDEX === '4' && env.SKIFF_TASK_ATTEMPT === '0' ? 1 : 0 };
  });
  const records = memoryRecords();
  const { id, run } = await runner(jobOf({ tasks: 7, parallelism: 3 }), driver, records);
  await run.done;
  const e = records.executions.get(id)!;
  assert.equal(e.status, 'succeeded');
  assert.equal(driver.most, 3);
  assert.deepEqual(e.tasks.find((t) => t.index === 4)!.attempts.map((a) => a.outcome), ['failed', 'succeeded']);
  assert.equal(seen.length, 8);
  assert.ok(seen.includes(`batch ${id} 4/7 #1`) && seen.includes(`batch ${id} 0/7 #0`), seen.join(', '));
  assert.equal(driver.procs.size, 0, 'every container deleted');
});

test('runner: a task failing on its last attempt fails the execution and cancels the tasks still running', async () => {
  const driver = new TaskDriver((env) => (env.SKIFF_TASK_INDEX === '1' ? { lines: ['working', 'oops'], exit: 2 } : {}));
  const records = memoryRecords();
  const { id, run } = await runner(jobOf({ tasks: 4, parallelism: 3, retries: 1 }), driver, records);
  await run.done;
  const e = records.executions.get(id)!;
  assert.equal(e.status, 'failed');
  assert.equal(e.message, 'task 1 failed after 2 attempts (retries: 1): exited with code 2; last output: "working" "oops"');
  assert.deepEqual(outcomes(e), [
    [0, 'cancelled', ['cancelled']],
    [1, 'failed', ['failed', 'failed']],
    [2, 'cancelled', ['cancelled']],
  ]);
  assert.equal(e.tasks[0]!.attempts[0]!.message, 'task 1 failed');
  assert.equal(driver.stopped.length, 2, 'the two running tasks were killed');
  assert.equal(driver.procs.size, 0);
});

test('runner: an attempt past its timeout is killed and counts as failed; cancel kills the rest', async () => {
  const clock = new FakeClock(1000);
  const driver = new TaskDriver(() => ({})); // runs until killed
  const records = memoryRecords();
  const { id, run } = await runner(jobOf({ tasks: 1, retries: 0, timeout: '30s' }), driver, records, clock);
  await clock.advance(29_000);
  assert.equal(records.executions.get(id)!.status, 'running');
  await clock.advance(1000);
  await run.done;
  const e = records.executions.get(id)!;
  assert.deepEqual([e.status, e.message], ['failed', 'task 0 failed after 1 attempt (retries: 0): exceeded its timeout (30s) and was killed']);
  assert.deepEqual(e.tasks[0]!.attempts[0]!.exit, { reason: 'signalled', signal: 9 });

  const other = await runner(jobOf({ tasks: 3, parallelism: 2 }), driver, records, clock);
  await clock.advance(1);
  await other.run.cancel('cancelled: the job was removed');
  const c = records.executions.get(other.id)!;
  assert.deepEqual([c.status, c.message], ['cancelled', 'cancelled: the job was removed']);
  assert.deepEqual(outcomes(c), [[0, 'cancelled', ['cancelled']], [1, 'cancelled', ['cancelled']]]);
  assert.equal(driver.procs.size, 0);
});

test('runner: a daemon stop leaves the execution running; the next runner resumes it, interrupted tasks run again', async () => {
  let release = false;
  const driver = new TaskDriver((env) => (release || env.SKIFF_TASK_INDEX === '0' ? { exit: 0 } : {}));
  const records = memoryRecords();
  const job = jobOf({ tasks: 3, parallelism: 2, retries: 0 });
  const { id, run } = await runner(job, driver, records);
  // task 0 done, 1 and 2 running (they run until killed)
  const statuses = () => records.executions.get(id)!.tasks.map((t) => t.status).join(' ');
  for (let i = 0; i < 100 && statuses() !== 'succeeded running running'; i++) await new Promise((r) => setImmediate(r));
  await run.stop();
  const left = records.executions.get(id)!;
  assert.equal(left.status, 'running', 'left for the next daemon');
  assert.deepEqual(outcomes(left), [[0, 'succeeded', ['succeeded']], [1, 'running', [undefined]], [2, 'running', [undefined]]]);
  assert.equal(driver.procs.size, 0, 'the stop deleted the task containers');

  release = true;
  const [resumed] = await records.runningExecutions();
  const next = new ExecutionRunner(job, resumed!, { driver, records, clock: new FakeClock(5000), log: silentLogger, killGraceMs: 100 });
  await next.done;
  const e = records.executions.get(id)!;
  assert.equal(e.status, 'succeeded', 'no retries, yet the interrupted tasks ran again');
  assert.deepEqual(outcomes(e), [[0, 'succeeded', ['succeeded']], [1, 'succeeded', ['interrupted', 'succeeded']], [2, 'succeeded', ['interrupted', 'succeeded']]]);
  assert.equal(e.tasks[1]!.attempts[1]!.instance !== e.tasks[1]!.attempts[0]!.instance, true);
});
