// serving/jobs: run-to-completion workloads, like Cloud Run jobs. A job is an image pinned to its
// digest when it is created (resolved and prepared, as a deploy pins a revision's image) and a task
// count; `run` starts an execution, which job-runner.ts drives to its end (tasks in containers of their
// own, at most `parallelism` at once, retried, killed at their timeout). Every rule about jobs lives
// here and in job-spec.ts / job-decider.ts; the store keeps the records, the driver runs the tasks and
// keeps their output after their containers are gone (under the job's log group).
import type { Clock } from '../core/clock.ts';
import { SkiffError } from '../core/errors.ts';
import type { ExecutionRecord, ExecutionView, JobDocument, JobRecord, JobView } from '../core/jobs.ts';
import type { Logger } from '../core/logger.ts';
import { executionId, jobLogGroup } from '../core/names.ts';
import { ExecutionRunner } from './job-runner.ts';
import { normaliseJobDocument } from './job-spec.ts';
import { executionView, jobView } from './job-view.ts';
import type { ImagePort, JobDriverPort, JobRecords, TriggerRefsPort } from './ports.ts';
import { assertNoTriggers } from './trigger-refs.ts';

export interface JobServiceDeps {
  records: JobRecords;
  driver: JobDriverPort;
  images: ImagePort;
  clock: Clock;
  log: Logger;
  /** a task killed at its timeout (or cancelled) gets the stop signal, then SIGKILL this much later */
  killGraceMs?: number;
  /** refuses to remove a job a cron trigger still starts */
  triggers?: TriggerRefsPort;
}

/** executions describe shows; a list shows the latest only */
const RECENT_EXECUTIONS = 10;
/** executions of a job kept in the store (older ended ones are deleted at each run) */
const KEEP_EXECUTIONS = 50;
const DEFAULT_KILL_GRACE_MS = 2000;

export class JobService {
  /** executions running in this daemon, by id */
  private readonly runners = new Map<string, { job: string; runner: ExecutionRunner }>();
  /** jobs being removed: no execution starts for them */
  private readonly removing = new Set<string>();
  private stopped = false;

  constructor(private readonly d: JobServiceDeps) {}

  /** Resolves the image and pins it, prepares it (layers unpacked now: the first run starts fast, and a
   *  broken image is said here, not at the first run), and records the job. */
  async create(doc: JobDocument, tenant: string): Promise<JobView> {
    const spec = normaliseJobDocument(doc);
    if (await this.d.records.getJob(spec.name)) throw new SkiffError('CONFLICT', `a job named ${spec.name} exists: remove it first (skiff job rm ${spec.name})`);
    const image = await this.d.images.resolve(spec.image, tenant);
    await this.d.images.prepare(image);
    const job: JobRecord = { name: spec.name, tenant, spec, image, createdAt: this.d.clock.now() };
    await this.d.records.createJob(job); // CONFLICT too, for a create that raced this one
    this.d.log.info({ job: job.name, image }, 'job created');
    return jobView(job, []);
  }

  async list(): Promise<JobView[]> {
    const jobs = await this.d.records.listJobs();
    return Promise.all(jobs.map(async (j) => jobView(j, await this.d.records.executionsOf(j.name, 1))));
  }

  async get(name: string): Promise<JobView> {
    const job = await this.job(name);
    return jobView(job, await this.d.records.executionsOf(name, RECENT_EXECUTIONS));
  }

  /** CONFLICT while an execution runs, unless `force`, which cancels it first (its tasks are killed). */
  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.job(name);
    await assertNoTriggers(this.d.triggers, { job: name });
    const running = [...this.runners.entries()].filter(([, r]) => r.job === name);
    if (running.length && !opts.force) {
      throw new SkiffError('CONFLICT', `job ${name} has an execution running (${running.map(([id]) => id).join(', ')}): wait for it to end, or cancel it with skiff job rm ${name} --force`);
    }
    this.removing.add(name);
    try {
      await Promise.all(running.map(([, r]) => r.runner.cancel('cancelled: the job was removed')));
      await this.d.records.deleteJob(name);
      // the kept output of its tasks goes with it (a new job of that name starts clean)
      await this.d.driver.forgetLogs(jobLogGroup(name));
      this.d.log.info({ job: name, cancelled: running.map(([id]) => id) }, 'job removed');
    } finally {
      this.removing.delete(name);
    }
  }

  /** Starts an execution of the job and returns it (running, no task started yet). */
  async execute(name: string): Promise<ExecutionView> {
    if (this.stopped) throw new SkiffError('UNAVAILABLE', 'the daemon is stopping: no new job execution starts');
    const job = await this.job(name);
    if (this.removing.has(name)) throw new SkiffError('CONFLICT', `job ${name} is being removed`);
    const exec: ExecutionRecord = { id: executionId(name), job: name, status: 'running', message: null, taskCount: job.spec.tasks, createdAt: this.d.clock.now(), endedAt: null, tasks: [] };
    await this.d.records.createExecution(exec);
    this.launch(job, exec);
    this.d.log.info({ job: name, execution: exec.id, tasks: exec.taskCount }, 'job execution started');
    void this.d.records.pruneExecutions(name, KEEP_EXECUTIONS).catch((err: unknown) => this.d.log.warn({ err, job: name }, 'pruning old executions failed'));
    return executionView(exec);
  }

  /** For whatever starts jobs on its own (a cron trigger): starts an execution, returns its id. */
  async run(name: string): Promise<{ execution: string }> {
    return { execution: (await this.execute(name)).id };
  }

  /** The job's executions running in this daemon (resumed ones included, once start() ran). */
  running(name: string): string[] {
    return [...this.runners.entries()].filter(([, r]) => r.job === name).map(([id]) => id);
  }

  /** Cancels one running execution: its tasks are killed and it ends `cancelled` with `reason` as its
   *  message (what a cron trigger's concurrency policy `replace` does). Resolves once it has ended;
   *  an execution that is not running is left as it is. NOT_FOUND for an unknown job. */
  async cancel(name: string, id: string, reason: string): Promise<void> {
    await this.job(name);
    const r = this.runners.get(id);
    if (!r || r.job !== name) return;
    this.d.log.info({ job: name, execution: id, reason }, 'cancelling job execution');
    await r.runner.cancel(reason);
  }

  /** Resolves once the execution has ended, with its record as it is then: still `running` only when
   *  this daemon stopped running it (stopping: the next one resumes it); undefined when there is no
   *  such execution (its job was removed, or it was pruned). */
  async ended(name: string, id: string): Promise<ExecutionView | undefined> {
    const r = this.runners.get(id);
    if (r) await r.runner.done;
    const exec = await this.d.records.getExecution(id);
    return exec && exec.job === name ? executionView(exec) : undefined;
  }

  async execution(name: string, id: string): Promise<ExecutionView> {
    await this.job(name);
    const exec = await this.d.records.getExecution(id);
    if (!exec || exec.job !== name) throw new SkiffError('NOT_FOUND', `job ${name} has no execution ${JSON.stringify(id)} (skiff job describe ${name} lists the recent ones)`);
    return executionView(exec);
  }

  /**
   * The output of an execution's tasks (the latest execution unless `execution` names one; every task
   * unless `task` names one) as `<task>/<attempt> <ISO time> <stdout|stderr> <line>`, task by task,
   * each attempt's lines in order. Read from the driver, which keeps a task's output after its
   * container is deleted. NOT_FOUND before the first line for an unknown job or execution.
   */
  async *logs(name: string, opts: { execution?: string; task?: number } = {}): AsyncIterable<string> {
    await this.job(name);
    const exec = opts.execution !== undefined ? await this.d.records.getExecution(opts.execution) : (await this.d.records.executionsOf(name, 1))[0];
    if (opts.execution !== undefined && (!exec || exec.job !== name)) throw new SkiffError('NOT_FOUND', `execution: job ${name} has no execution ${JSON.stringify(opts.execution)}`);
    if (!exec) throw new SkiffError('NOT_FOUND', `job ${name} has not run yet (skiff job run ${name})`);
    if (opts.task !== undefined && opts.task >= exec.taskCount) throw new SkiffError('BAD_REQUEST', `task: execution ${exec.id} has tasks 0 to ${exec.taskCount - 1}, not ${opts.task}`);
    for (const t of exec.tasks) {
      if (opts.task !== undefined && t.index !== opts.task) continue;
      for (const [n, a] of t.attempts.entries()) {
        for await (const l of this.d.driver.logs(a.instance)) yield `${t.index}/${n} ${l.time} ${l.stream} ${l.line}`;
      }
    }
  }

  /** The daemon started: executions a stopped daemon left running resume (their interrupted tasks
   *  run again). Returns once they are under way. */
  async start(): Promise<void> {
    for (const exec of await this.d.records.runningExecutions()) {
      const job = await this.d.records.getJob(exec.job);
      if (!job) {
        await this.d.records.finishExecution(exec.id, 'cancelled', 'cancelled: the job was removed', this.d.clock.now());
        continue;
      }
      this.d.log.info({ job: job.name, execution: exec.id }, 'resuming job execution');
      this.launch(job, exec);
    }
  }

  /** The daemon is stopping: running tasks are killed and their executions left running in the
   *  store, for the next daemon to resume. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.runners.values()].map((r) => r.runner.stop()));
  }

  private launch(job: JobRecord, exec: ExecutionRecord): void {
    if (this.stopped) return; // recorded running: the next daemon resumes it
    const runner = new ExecutionRunner(job, exec, { driver: this.d.driver, records: this.d.records, clock: this.d.clock, log: this.d.log, killGraceMs: this.d.killGraceMs ?? DEFAULT_KILL_GRACE_MS });
    this.runners.set(exec.id, { job: job.name, runner });
    void runner.done.finally(() => this.runners.delete(exec.id));
  }

  private async job(name: string): Promise<JobRecord> {
    const job = await this.d.records.getJob(name);
    if (!job) throw new SkiffError('NOT_FOUND', `no job ${JSON.stringify(name)} (skiff job ls lists them)`);
    return job;
  }
}
