// store/jobs-repository: jobs, their executions and the tasks' attempts on either dialect
// (core/jobs.ts). A job's spec and a task's attempts are JSON text; times are epoch ms. A task row is
// written when the task first starts, so an execution's pending tasks have none.
import { SkiffError } from '../core/errors.ts';
import type { ExecutionRecord, ExecutionStatus, JobRecord, TaskRecord } from '../core/jobs.ts';
import type { JobsRepository } from '../core/repositories.ts';
import type { Db, JobExecutionsTable, JobsTable, JobTasksTable } from './database.ts';
import { isUniqueViolation } from './token-repository.ts';
import type { Transactor } from './transaction.ts';

/** ids per `IN (…)`: well below SQLite's and PostgreSQL's bound on parameters */
const IN_CHUNK = 500;

function toJob(r: JobsTable): JobRecord {
  return {
    name: r.name,
    tenant: r.tenant,
    spec: JSON.parse(r.spec) as JobRecord['spec'],
    image: { repository: r.image_repository, digest: r.image_digest },
    createdAt: Number(r.created_at),
  };
}

function toTask(r: JobTasksTable): TaskRecord {
  return { index: Number(r.task_index), status: r.status as TaskRecord['status'], attempts: JSON.parse(r.attempts) as TaskRecord['attempts'] };
}

function toExecution(r: JobExecutionsTable, tasks: TaskRecord[]): ExecutionRecord {
  return {
    id: r.id,
    job: r.job,
    status: r.status as ExecutionStatus,
    message: r.message,
    taskCount: Number(r.task_count),
    createdAt: Number(r.created_at),
    endedAt: r.ended_at === null ? null : Number(r.ended_at),
    tasks,
  };
}

export class KyselyJobsRepository implements JobsRepository {
  constructor(
    private readonly db: Db,
    private readonly tx: Transactor,
  ) {}

  async createJob(job: JobRecord): Promise<void> {
    try {
      await this.db
        .insertInto('jobs')
        .values({ name: job.name, tenant: job.tenant, spec: JSON.stringify(job.spec), image_repository: job.image.repository, image_digest: job.image.digest, created_at: job.createdAt })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new SkiffError('CONFLICT', `a job named ${job.name} exists: remove it first (skiff job rm ${job.name})`);
      throw err;
    }
  }

  async getJob(name: string): Promise<JobRecord | undefined> {
    const r = await this.db.selectFrom('jobs').selectAll().where('name', '=', name).executeTakeFirst();
    return r ? toJob(r) : undefined;
  }

  async listJobs(): Promise<JobRecord[]> {
    return (await this.db.selectFrom('jobs').selectAll().orderBy('name').execute()).map(toJob);
  }

  async deleteJob(name: string): Promise<boolean> {
    return this.tx.write(async (tx) => {
      const executions = tx.selectFrom('job_executions').select('id').where('job', '=', name);
      await tx.deleteFrom('job_tasks').where('execution', 'in', executions).execute();
      await tx.deleteFrom('job_executions').where('job', '=', name).execute();
      const r = await tx.deleteFrom('jobs').where('name', '=', name).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }

  async createExecution(e: { id: string; job: string; taskCount: number; createdAt: number }): Promise<void> {
    await this.db.insertInto('job_executions').values({ id: e.id, job: e.job, status: 'running', message: null, task_count: e.taskCount, created_at: e.createdAt, ended_at: null }).execute();
  }

  async getExecution(id: string): Promise<ExecutionRecord | undefined> {
    return (await this.withTasks(await this.db.selectFrom('job_executions').selectAll().where('id', '=', id).execute()))[0];
  }

  async executionsOf(job: string, limit: number): Promise<ExecutionRecord[]> {
    const rows = await this.db.selectFrom('job_executions').selectAll().where('job', '=', job).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return this.withTasks(rows);
  }

  async runningExecutions(): Promise<ExecutionRecord[]> {
    const rows = await this.db.selectFrom('job_executions').selectAll().where('status', '=', 'running').orderBy('created_at').orderBy('id').execute();
    return this.withTasks(rows);
  }

  async putTask(execution: string, task: TaskRecord, now: number): Promise<void> {
    const row = { execution, task_index: task.index, status: task.status, attempts: JSON.stringify(task.attempts), updated_at: now };
    await this.db
      .insertInto('job_tasks')
      .values(row)
      .onConflict((oc) => oc.columns(['execution', 'task_index']).doUpdateSet({ status: row.status, attempts: row.attempts, updated_at: row.updated_at }))
      .execute();
  }

  async finishExecution(id: string, status: Exclude<ExecutionStatus, 'running'>, message: string | null, endedAt: number): Promise<void> {
    await this.db.updateTable('job_executions').set({ status, message, ended_at: endedAt }).where('id', '=', id).execute();
  }

  async pruneExecutions(job: string, keep: number): Promise<string[]> {
    return this.tx.write(async (tx) => {
      const newest = await tx.selectFrom('job_executions').select('id').where('job', '=', job).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(keep).execute();
      const kept = newest.map((r) => r.id);
      let q = tx.selectFrom('job_executions').select('id').where('job', '=', job).where('status', '!=', 'running');
      if (kept.length) q = q.where('id', 'not in', kept);
      const old = (await q.execute()).map((r) => r.id);
      for (let i = 0; i < old.length; i += IN_CHUNK) {
        const part = old.slice(i, i + IN_CHUNK);
        await tx.deleteFrom('job_tasks').where('execution', 'in', part).execute();
        await tx.deleteFrom('job_executions').where('id', 'in', part).execute();
      }
      return old;
    });
  }

  /** the rows with their started tasks, by index */
  private async withTasks(rows: JobExecutionsTable[]): Promise<ExecutionRecord[]> {
    const byExecution = new Map<string, TaskRecord[]>(rows.map((r) => [r.id, []]));
    const ids = [...byExecution.keys()];
    for (let i = 0; i < ids.length; i += IN_CHUNK) {
      const tasks = await this.db.selectFrom('job_tasks').selectAll().where('execution', 'in', ids.slice(i, i + IN_CHUNK)).orderBy('execution').orderBy('task_index').execute();
      for (const t of tasks) byExecution.get(t.execution)!.push(toTask(t));
    }
    return rows.map((r) => toExecution(r, byExecution.get(r.id)!));
  }
}
