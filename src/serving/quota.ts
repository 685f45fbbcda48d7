// serving/quota: a deploy's or a scale's min instances against its project's quota. The min instances
// of every service of the project (each × its latest revision's memory and CPU limits) must fit the
// quota together, and one instance of the new revision must fit at all; otherwise the change is
// refused with QUOTA_EXCEEDED naming the flag and the quota, before anything is stored. Checks of one
// project run one at a time in this process (check → store, under a lock keyed by project), so two
// concurrent deploys cannot both pass on the same room. Several daemons sharing one PostgreSQL store
// do not share this lock: each one's checks are serialized, theirs against each other's are not (the
// runtime check, per daemon, still never starts past the quota on its own node).
// Running instances are the scheduler's business (scheduler/quota-gate.ts): this check is about what
// a deploy asks to keep running, not about what runs now.
import { SkiffError } from '../core/errors.ts';
import { quotaBreach, type ProjectQuota, type ProjectUsage } from '../core/projects.ts';
import { addUsage, instanceUsage, NO_USAGE, timesUsage, type QuotaLedger } from '../core/quota.ts';
import type { InstanceSpec } from '../core/instance.ts';
import type { JobDriverPort, ServingRecords } from './ports.ts';

/** A project's quota, as stored (the store's projects, read at each check). */
export interface ProjectQuotaPort {
  quota(project: string): Promise<ProjectQuota | undefined>;
}

/** What a deploy or scale wants kept running: `min` instances of these limits. */
export interface MinWanted {
  service: string;
  min: number;
  memoryBytes: number;
  cpus: number;
  /** the flag that set it, for the message */
  flag: string;
}

export class ProjectQuotaGuard {
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly quotas: ProjectQuotaPort,
    private readonly records: Pick<ServingRecords, 'listServices' | 'getRevision'>,
  ) {}

  /** Checks `wanted` against the project's quota, then runs `store` — both under the project's lock.
   *  QUOTA_EXCEEDED (nothing stored) when it does not fit. */
  async admit<T>(project: string, wanted: MinWanted, store: () => Promise<T>): Promise<T> {
    return this.serialized(project, async () => {
      const quota = await this.quotas.quota(project);
      if (quota) {
        const one = instanceUsage(wanted);
        const alone = quotaBreach(quota, NO_USAGE, one);
        if (alone !== undefined) throw new SkiffError('QUOTA_EXCEEDED', `--memory/--cpu: one instance of ${wanted.service} cannot fit project ${project}'s quota at all: ${alone}`);
        if (wanted.min > 0) {
          const others = await this.othersMin(project, wanted.service);
          const breach = quotaBreach(quota, others, timesUsage(one, wanted.min), 'held by the min instances of its other services');
          if (breach !== undefined) throw new SkiffError('QUOTA_EXCEEDED', `${wanted.flag} ${wanted.min}: project ${project}'s quota would be exceeded: ${breach}`);
        }
      }
      return store();
    });
  }

  /** The min instances of the project's other services, with their latest revisions' limits. */
  private async othersMin(project: string, except: string): Promise<ProjectUsage> {
    let sum = NO_USAGE;
    for (const svc of await this.records.listServices()) {
      if (svc.tenant !== project || svc.name === except || svc.scale.min <= 0) continue;
      const rev = await this.records.getRevision(svc.latestRevision);
      if (rev) sum = addUsage(sum, timesUsage(instanceUsage(rev.spec), svc.scale.min));
    }
    return sum;
  }

  private async serialized<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.locks.get(key) ?? Promise.resolve();
    const mine = before.then(work, work);
    const tail = mine.catch(() => undefined);
    this.locks.set(key, tail);
    try {
      return await mine;
    } finally {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    }
  }
}

/**
 * A job's task containers count against their project's quota as a service's instances do: each is
 * reserved at create (InstanceSpec.namespace names the project; a spec without one — a one-off run —
 * is not counted) and released once deleted. A task refused by the quota fails that attempt with
 * QUOTA_EXCEEDED's message (its retries, if any, try again later).
 */
export function withTaskQuota(driver: JobDriverPort, ledger: Pick<QuotaLedger, 'reserve' | 'release'>): JobDriverPort {
  return {
    create: async (id: string, spec: InstanceSpec) => {
      if (spec.namespace !== undefined) {
        const r = ledger.reserve(id, spec.namespace, instanceUsage(spec.limits));
        if (!r.ok) throw new SkiffError('QUOTA_EXCEEDED', r.message);
      }
      try {
        return await driver.create(id, spec);
      } catch (err) {
        ledger.release(id);
        throw err;
      }
    },
    delete: async (id: string) => {
      try {
        return await driver.delete(id);
      } finally {
        ledger.release(id);
      }
    },
    start: (id) => driver.start(id),
    watch: (id) => driver.watch(id),
    stop: (id, graceMs) => driver.stop(id, graceMs),
    logs: (id, opts) => driver.logs(id, opts),
    forgetLogs: (group) => driver.forgetLogs(group),
  };
}
