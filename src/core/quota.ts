// core/quota: what each project's running instances hold, against its quota (core/projects.ts), in
// memory. One ledger per daemon, shared by everything that starts an instance on a project's behalf
// (the scheduler for services, the job runner for tasks): an instance is reserved — checked and
// counted in one synchronous step — before its asynchronous start, and released once it is gone, so
// concurrent starts of several services of one project cannot together pass the quota. Quotas are a
// cache of the store's, loaded at start and replaced when one changes (setQuota). Declared in core
// because its consumers (scheduler, serving) may import only core; it does no I/O.
import { DEFAULT_PROJECT, quotaBreach, type ProjectQuota, type ProjectUsage } from './projects.ts';

/** What one instance with these limits holds. */
export function instanceUsage(limits: { memoryBytes: number; cpus: number }): ProjectUsage {
  return { instances: 1, memoryBytes: limits.memoryBytes, cpuMillis: Math.round(limits.cpus * 1000) };
}

export function timesUsage(u: ProjectUsage, n: number): ProjectUsage {
  return { instances: u.instances * n, memoryBytes: u.memoryBytes * n, cpuMillis: u.cpuMillis * n };
}

export function addUsage(a: ProjectUsage, b: ProjectUsage): ProjectUsage {
  return { instances: a.instances + b.instances, memoryBytes: a.memoryBytes + b.memoryBytes, cpuMillis: a.cpuMillis + b.cpuMillis };
}

export const NO_USAGE: ProjectUsage = Object.freeze({ instances: 0, memoryBytes: 0, cpuMillis: 0 });

/** The error message of a refusal: the project, then the quota it would break (quotaBreach). */
export function quotaRefusal(project: string, breach: string): string {
  return `project ${project} is at its quota: ${breach}`;
}

/** `budget`: refused by the project's spent budget (capInstances), not by its quota. */
export type Reservation = { ok: true } | { ok: false; message: string; budget?: true };

/** A spent budget's limit on a project's instances (metering/budget-service.ts): none started beyond
 *  `instances`; 0 (action stop) also means none of them runs. `message` is what a refusal says. */
export interface InstanceCap {
  instances: number;
  message: string;
}

export class QuotaLedger {
  private readonly quotas = new Map<string, ProjectQuota>();
  /** instance id → what it holds, and for which project */
  private readonly held = new Map<string, { project: string; usage: ProjectUsage }>();
  /** per project, the sum of `held` (kept in step, so usage() is O(1)) */
  private readonly totals = new Map<string, ProjectUsage>();
  /** per project, a spent budget's cap on its instances */
  private readonly caps = new Map<string, InstanceCap>();

  /** Replaces every cached quota (daemon start: the store's projects). */
  load(projects: Iterable<{ name: string; quota: ProjectQuota }>): void {
    this.quotas.clear();
    for (const p of projects) this.setQuota(p.name, p.quota);
  }

  /** A project's quota changed (or the project is new: set; removed: undefined). Instances already
   *  running are never stopped for a lowered quota; only new starts are refused until usage is below. */
  setQuota(project: string, quota: ProjectQuota | undefined): void {
    if (quota && (quota.instances !== undefined || quota.memoryBytes !== undefined || quota.cpuMillis !== undefined)) this.quotas.set(project, { ...quota });
    else this.quotas.delete(project);
  }

  /** A spent budget caps the project's instances (undefined: the cap is lifted). Running instances
   *  are not stopped here: a cap of 0 is read by the scheduler (stopped), which drains them. */
  capInstances(project: string, cap: InstanceCap | undefined): void {
    if (cap) this.caps.set(project, { ...cap });
    else this.caps.delete(project);
  }

  cap(project: string): InstanceCap | undefined {
    return this.caps.get(project);
  }

  /** The project's budget is spent with action stop: none of its instances may run. */
  stopped(project: string): boolean {
    return this.caps.get(project)?.instances === 0;
  }

  quota(project: string): ProjectQuota | undefined {
    return this.quotas.get(project);
  }

  /** What the project's instances hold now (reserved ones included). */
  usage(project: string = DEFAULT_PROJECT): ProjectUsage {
    return { ...(this.totals.get(project) ?? NO_USAGE) };
  }

  /** Checks that one more instance fits the project's quota and counts it, in one step; refused with
   *  the project and the quota it would break. An id already held is not counted twice. */
  reserve(id: string, project: string, usage: ProjectUsage): Reservation {
    if (this.held.has(id)) return { ok: true };
    const cap = this.caps.get(project);
    if (cap && usage.instances > 0 && this.usage(project).instances + usage.instances > cap.instances) return { ok: false, message: cap.message, budget: true };
    const quota = this.quotas.get(project);
    if (quota) {
      const breach = quotaBreach(quota, this.usage(project), usage);
      if (breach !== undefined) return { ok: false, message: quotaRefusal(project, breach) };
    }
    this.add(id, project, usage);
    return { ok: true };
  }

  /** Counts an instance that runs already, whatever the quota (re-adopted after a daemon restart). */
  hold(id: string, project: string, usage: ProjectUsage): void {
    if (!this.held.has(id)) this.add(id, project, usage);
  }

  /** The instance is gone (or was never started): what it held is free again. Idempotent. */
  release(id: string): void {
    const h = this.held.get(id);
    if (!h) return;
    this.held.delete(id);
    const t = this.totals.get(h.project)!;
    const left = addUsage(t, timesUsage(h.usage, -1));
    if (left.instances <= 0) this.totals.delete(h.project);
    else this.totals.set(h.project, left);
  }

  holds(id: string): boolean {
    return this.held.has(id);
  }

  private add(id: string, project: string, usage: ProjectUsage): void {
    this.held.set(id, { project, usage });
    this.totals.set(project, addUsage(this.totals.get(project) ?? NO_USAGE, usage));
  }
}
