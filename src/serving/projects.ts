// serving/projects: projects as the operator manages them — create with quotas, list, describe (the
// quota against what is in use, and what the project holds), change quotas, remove. `default` always
// exists (data from before projects is its) and is never removed. A project is removed only when it
// holds nothing but tokens; its tokens go with it, so no token is left acting in a project that is gone.
import type { Clock } from '../core/clock.ts';
import { SkiffError } from '../core/errors.ts';
import { ALL_PROJECTS, checkProjectName, DEFAULT_PROJECT, type ProjectQuota, type ProjectRecord, type ProjectUsage } from '../core/projects.ts';
import { parseCpu, parseMemory } from '../core/quantity.ts';
import type { ProjectsRepository, TokenRepository } from '../core/repositories.ts';
import type { ProjectQuotaBody, ProjectView } from '../core/views.ts';

export interface ProjectServiceDeps {
  records: ProjectsRepository;
  tokens: Pick<TokenRepository, 'list' | 'revoke'>;
  /** what the project's instances hold now (the scheduler's accounting) */
  usage(project: string): ProjectUsage;
  /** told of every change, so in-memory copies (the registry's project names, the scheduler's quotas) follow at once */
  changed(project: string, record: ProjectRecord | undefined): void;
  clock: Clock;
}

/** A quota as the API states it (`memory: "8Gi"`, `cpu: 4` or `"500m"`); null or absent: unlimited. */
export function parseQuota(body: ProjectQuotaBody | undefined, base: ProjectQuota = {}): ProjectQuota {
  const q: ProjectQuota = { ...base };
  if (!body) return q;
  if (body.instances !== undefined) {
    if (body.instances === null) delete q.instances;
    else if (!Number.isSafeInteger(body.instances) || body.instances < 0) throw new SkiffError('BAD_REQUEST', `quota.instances (--quota-instances): a whole number of instances, 0 or more, got ${JSON.stringify(body.instances)}`);
    else q.instances = body.instances;
  }
  if (body.memory !== undefined) {
    if (body.memory === null) delete q.memoryBytes;
    else q.memoryBytes = parseMemory(body.memory, 'quota.memory (--quota-memory)');
  }
  if (body.cpu !== undefined) {
    if (body.cpu === null) delete q.cpuMillis;
    else q.cpuMillis = Math.round(parseCpu(body.cpu, 'quota.cpu (--quota-cpu)') * 1000);
  }
  return q;
}

export class ProjectService {
  constructor(private readonly d: ProjectServiceDeps) {}

  async create(name: string, quota?: ProjectQuotaBody): Promise<ProjectView> {
    if (name === ALL_PROJECTS) throw new SkiffError('BAD_REQUEST', 'name: * stands for every project; pick a project name');
    checkProjectName(name, 'name');
    const record: ProjectRecord = { name, quota: parseQuota(quota), createdAt: this.d.clock.now() };
    // repositories under NAME/ are default's until NAME is a project: making it would hand them over
    // (and fail default's next deploy of them), so the name is refused while any exist
    const { repositories } = await this.d.records.holdings(name);
    if (repositories && repositories > 0) throw new SkiffError('CONFLICT', `name: ${repositories} registry ${repositories === 1 ? 'repository' : 'repositories'} of the default project ${repositories === 1 ? 'is' : 'are'} named ${name}/…; a project ${name} would take them over: pick another name, or delete them first`);
    await this.d.records.createProject(record);
    this.d.changed(name, record);
    return this.view(record);
  }

  async list(): Promise<ProjectView[]> {
    return Promise.all((await this.d.records.listProjects()).map((p) => this.view(p)));
  }

  async get(name: string): Promise<ProjectView> {
    return this.view(await this.project(name));
  }

  /** `quota` is a merge patch: a field set replaces, null removes the limit, absent keeps it. */
  async setQuota(name: string, quota: ProjectQuotaBody): Promise<ProjectView> {
    const p = await this.project(name);
    const record = { ...p, quota: parseQuota(quota, p.quota) };
    if (!(await this.d.records.setQuota(name, record.quota))) throw notFound(name);
    this.d.changed(name, record);
    return this.view(record);
  }

  async remove(name: string): Promise<void> {
    if (name === DEFAULT_PROJECT) throw new SkiffError('CONFLICT', 'the default project is never removed: it holds what was made before projects, and what names no project');
    await this.project(name);
    const { tokens: _tokens, ...held } = await this.d.records.holdings(name);
    const left = Object.entries(held).filter(([, n]) => n > 0);
    if (left.length > 0) {
      throw new SkiffError('CONFLICT', `project ${name} still holds ${left.map(([kind, n]) => `${n} ${n === 1 ? kind.replace(/s$/, '') : kind}`).join(', ')}: remove them first (skiff ls, skiff trigger ls, skiff job ls, skiff secret ls, skiff volume ls, skiff domain ls, skiff images --project ${name})`);
    }
    for (const t of await this.d.tokens.list()) if (t.tenant === name) await this.d.tokens.revoke(t.id);
    await this.d.records.deleteProject(name);
    this.d.changed(name, undefined);
  }

  async exists(name: string): Promise<boolean> {
    return (await this.d.records.getProject(name)) !== undefined;
  }

  private async project(name: string): Promise<ProjectRecord> {
    const p = await this.d.records.getProject(name);
    if (!p) throw notFound(name);
    return p;
  }

  private async view(p: ProjectRecord): Promise<ProjectView> {
    const usage = this.d.usage(p.name);
    const holdings = await this.d.records.holdings(p.name);
    return {
      name: p.name,
      quota: {
        instances: p.quota.instances ?? null,
        memoryBytes: p.quota.memoryBytes ?? null,
        cpu: p.quota.cpuMillis === undefined ? null : p.quota.cpuMillis / 1000,
      },
      usage: { instances: usage.instances, memoryBytes: usage.memoryBytes, cpu: usage.cpuMillis / 1000 },
      holdings,
      createdAt: new Date(p.createdAt).toISOString(),
    };
  }
}

function notFound(name: string): SkiffError {
  return new SkiffError('NOT_FOUND', `no project named ${name} (skiff project ls lists them)`);
}
