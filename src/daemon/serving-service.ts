// daemon/serving-service: the API's ServingPort: deploys (resolve image → pin digest → unpack ahead
// → record revision → scheduler), traffic, rollback, scaling, pre-warm, describe, logs. It joins the store,
// the scheduler and the image side; every rule about what is allowed lives here or in the store.
import type { Clock } from '../core/clock.ts';
import { SkiffError } from '../core/errors.ts';
import type { ServiceRecord, TrafficTarget } from '../core/service.ts';
import type { ServingStore } from '../store/serving-store.ts';
import type { Scheduler } from '../scheduler/scheduler.ts';
import type { ServiceView, ServingPort } from '../api/ports.ts';
import { normaliseDeployDocument, type DeployDocument } from '../api/service-spec.ts';
import { assertTraffic } from '../api/services-routes.ts';
import { serviceHost } from './serving-adapters.ts';

export interface ServingServiceDeps {
  store: ServingStore;
  scheduler: Scheduler;
  clock: Clock;
  /** resolves a user's image reference to `repo@sha256:…` in Skiff's registry */
  resolveImage(ref: string): Promise<string>;
  /** unpacks an image's layers ahead of the first request */
  prepareImage(pinned: string): Promise<{ total: number; unpacked: number }>;
  /** captured log lines of one instance, oldest first */
  instanceLogs(instanceId: string, tail?: number): Promise<string[]>;
  gateway: { domain: string; publicHost: string; port: number };
}

const FOLLOW_POLL_MS = 500;
/** a pre-warm keeps instances at most this long (a cron trigger renews it for each run) */
const MAX_PREWARM_MS = 24 * 3600_000;

export class ServingService implements ServingPort {
  constructor(private readonly d: ServingServiceDeps) {}

  async deploy(doc: DeployDocument, tenant: string) {
    const spec = normaliseDeployDocument(doc);
    const existing = this.d.store.getService(spec.name);
    if (existing && existing.tenant !== tenant) throw new SkiffError('CONFLICT', `service ${spec.name} belongs to another tenant`);
    const pinned = await this.d.resolveImage(spec.image);
    const layers = await this.d.prepareImage(pinned);
    const { revision } = this.d.store.deploy(tenant, spec, { ref: spec.image, digest: pinned }, this.d.clock.now());
    this.d.store.addEvent(spec.name, revision.name, 'deploy', `revision ${revision.name} of ${spec.image} (${pinned})`, this.d.clock.now());
    this.d.scheduler.refresh();
    return { service: this.get(spec.name), revision: revision.name, imageDigest: pinned, layers };
  }

  list(): ServiceView[] {
    return this.d.store.listServices().map((s) => this.view(s));
  }

  get(name: string): ServiceView {
    return this.view(this.service(name));
  }

  async remove(name: string): Promise<void> {
    this.service(name);
    this.d.store.deleteService(name);
    this.d.scheduler.refresh();
  }

  setTraffic(name: string, traffic: TrafficTarget[]): ServiceView {
    this.service(name);
    assertTraffic(traffic);
    for (const t of traffic) {
      const rev = this.d.store.getRevision(t.revision);
      if (!rev || rev.service !== name) throw new SkiffError('NOT_FOUND', `revision ${t.revision} does not belong to ${name}`);
    }
    this.d.store.setTraffic(name, traffic, this.d.clock.now());
    this.d.store.addEvent(name, null, 'traffic', traffic.map((t) => `${t.revision}=${t.percent}%`).join(' '), this.d.clock.now());
    this.d.scheduler.refresh();
    return this.get(name);
  }

  /** Sends all traffic to the newest revision older than the newest one taking traffic now. */
  rollback(name: string): ServiceView {
    const svc = this.service(name);
    const revisions = this.d.store.revisionsOf(name);
    const serving = new Set(svc.traffic.filter((t) => t.percent > 0).map((t) => t.revision));
    const newestServing = revisions.find((r) => serving.has(r.name));
    const target = newestServing && revisions.find((r) => r.generation < newestServing.generation);
    if (!target) throw new SkiffError('CONFLICT', `${name} has no revision older than ${newestServing?.name ?? 'the current one'} to roll back to`);
    return this.setTraffic(name, [{ revision: target.name, percent: 100 }]);
  }

  scale(name: string, bounds: { min?: number; max?: number }): ServiceView {
    const svc = this.service(name);
    const min = bounds.min ?? svc.spec.scaling.minScale;
    const max = bounds.max ?? svc.spec.scaling.maxScale;
    if (min > max) throw new SkiffError('BAD_REQUEST', `min (${min}) is greater than max (${max})`);
    // Scaling bounds apply to every revision of the service, including running ones.
    const spec = { ...svc.spec, scaling: { ...svc.spec.scaling, minScale: min, maxScale: max } };
    this.d.store.updateSpec(name, spec, this.d.clock.now());
    this.d.store.addEvent(name, null, 'scale-bounds', `min ${min}, max ${max}`, this.d.clock.now());
    this.d.scheduler.setBounds(name);
    return this.get(name);
  }

  async prewarm(name: string, opts: { instances: number; forMs: number }) {
    this.service(name);
    if (opts.forMs > MAX_PREWARM_MS) throw new SkiffError('BAD_REQUEST', `for: at most 24h, got ${opts.forMs / 1000}s`);
    const untilMs = this.d.clock.now() + opts.forMs;
    const until = new Date(untilMs).toISOString();
    this.d.store.addEvent(name, null, 'prewarm', `${opts.instances} instance(s) per revision until ${until}`, this.d.clock.now());
    const revisions = await this.d.scheduler.prewarm(name, { instances: opts.instances, untilMs });
    return { service: name, until, revisions };
  }

  async *logs(name: string, opts: { revision?: string; tail?: number; follow: boolean; signal: AbortSignal }): AsyncIterable<string> {
    const svc = this.service(name);
    const seen = new Map<string, number>();
    const revisions = opts.revision ? [opts.revision] : this.d.store.revisionsOf(svc.name).map((r) => r.name);
    let first = true;
    do {
      for (const rev of revisions) {
        for (const inst of this.d.scheduler.describe(rev)) {
          const lines = await this.d.instanceLogs(inst.id, first ? opts.tail : undefined).catch(() => []);
          const from = seen.get(inst.id) ?? 0;
          for (const line of lines.slice(first ? 0 : from)) yield `${inst.id} ${line}`;
          seen.set(inst.id, Math.max(from, lines.length));
        }
      }
      first = false;
      if (opts.follow) await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
    } while (opts.follow && !opts.signal.aborted);
  }

  private service(name: string): ServiceRecord {
    const svc = this.d.store.getService(name);
    if (!svc) throw new SkiffError('NOT_FOUND', `no service named ${name}`);
    return svc;
  }

  private view(s: ServiceRecord): ServiceView {
    this.d.scheduler.flush(); // its instance records and events are written behind; the view shows them all
    const g = this.d.gateway;
    const iso = (ms: number) => new Date(ms).toISOString();
    return {
      name: s.name,
      url: `http://${serviceHost(s.name, g.domain)}:${g.port}/`,
      pathUrl: `http://${g.publicHost}:${g.port}/s/${s.name}/`,
      image: s.spec.image,
      latestRevision: s.latestRevision,
      traffic: s.traffic,
      scaling: { min: s.spec.scaling.minScale, max: s.spec.scaling.maxScale, concurrency: s.spec.scaling.containerConcurrency, metric: s.spec.scaling.metric },
      keepAlive: this.d.scheduler.keepAlive(s.name) ?? {
        kind: 'fixed',
        keepAliveMs: s.spec.scaling.idleWindowMs + s.spec.scaling.scaleToZeroGraceMs,
        reason: s.spec.scaling.keepAlive === 'fixed' ? 'scaling.keepAlive is fixed' : 'no request since the daemon started',
      },
      revisions: this.d.store.revisionsOf(s.name).map((r) => ({
        name: r.name,
        image: r.imageRef,
        digest: r.imageDigest,
        createdAt: iso(r.createdAt),
        instances: this.d.scheduler.describe(r.name),
      })),
      events: this.d.store.events(s.name, 20).map((e) => ({ at: iso(e.at), revision: e.revision, kind: e.kind, message: e.message })),
      createdAt: iso(s.createdAt),
      updatedAt: iso(s.updatedAt),
    };
  }
}
