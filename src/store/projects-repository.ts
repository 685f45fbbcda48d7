// store/projects-repository: projects and their quotas on either dialect (core/projects.ts). A quota
// field is NULL when unlimited. Removing a project is refused while anything still belongs to it, so
// no row is ever left owned by a project that does not exist.
import { SkiffError } from '../core/errors.ts';
import type { ProjectQuota, ProjectRecord } from '../core/projects.ts';
import type { ProjectsRepository } from '../core/repositories.ts';
import type { Db, ProjectsTable } from './database.ts';
import { isUniqueViolation } from './token-repository.ts';

function toProject(r: ProjectsTable): ProjectRecord {
  const quota: ProjectQuota = {};
  if (r.quota_instances !== null) quota.instances = Number(r.quota_instances);
  if (r.quota_memory_bytes !== null) quota.memoryBytes = Number(r.quota_memory_bytes);
  if (r.quota_cpu_millis !== null) quota.cpuMillis = Number(r.quota_cpu_millis);
  return { name: r.name, quota, createdAt: Number(r.created_at) };
}

const quotaColumns = (q: ProjectQuota) => ({
  quota_instances: q.instances ?? null,
  quota_memory_bytes: q.memoryBytes ?? null,
  quota_cpu_millis: q.cpuMillis ?? null,
});

/** the tables whose rows a project owns (column `tenant`) */
const OWNED = ['services', 'triggers', 'jobs', 'secrets', 'volumes', 'domains', 'tokens'] as const;

export class KyselyProjectsRepository implements ProjectsRepository {
  constructor(private readonly db: Db) {}

  async createProject(p: ProjectRecord): Promise<void> {
    try {
      await this.db.insertInto('projects').values({ name: p.name, ...quotaColumns(p.quota), created_at: p.createdAt }).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new SkiffError('CONFLICT', `a project named ${p.name} exists`);
      throw err;
    }
  }

  async getProject(name: string): Promise<ProjectRecord | undefined> {
    const r = await this.db.selectFrom('projects').selectAll().where('name', '=', name).executeTakeFirst();
    return r ? toProject(r) : undefined;
  }

  async listProjects(): Promise<ProjectRecord[]> {
    return (await this.db.selectFrom('projects').selectAll().orderBy('name').execute()).map(toProject);
  }

  async setQuota(name: string, quota: ProjectQuota): Promise<boolean> {
    const r = await this.db.updateTable('projects').set(quotaColumns(quota)).where('name', '=', name).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async holdings(name: string): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const table of OWNED) {
      const r = await this.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('tenant', '=', name).executeTakeFirst();
      out[table] = Number(r?.n ?? 0);
    }
    // registry repositories live under NAME/ (core/projects.ts repositoryProject)
    const repos = await this.db.selectFrom('repositories').select((eb) => eb.fn.countAll<number>().as('n')).where('name', 'like', `${name}/%`).executeTakeFirst();
    out.repositories = Number(repos?.n ?? 0);
    return out;
  }

  async deleteProject(name: string): Promise<boolean> {
    const r = await this.db.deleteFrom('projects').where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
