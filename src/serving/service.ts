// serving/service: the serving control plane — deploys (resolve the image → pin its digest → prepare
// it ahead of the first request → record the revision → scheduler), traffic, rollback, scale bounds,
// pre-warm, describe and logs. Every rule about what is allowed lives here; the store keeps records,
// the scheduler converges instances.
import type { Clock } from '../core/clock.ts';
import { SkiffError } from '../core/errors.ts';
import type { DeployDocument, DeployPatch } from '../core/documents.ts';
import type { DeployResult, PrewarmResult, ServiceView } from '../core/views.ts';
import type { RevisionRecord, ScaleBounds, ServiceEvent, ServiceRecord, TrafficTarget } from '../core/service.ts';
import { pinnedReference } from '../core/names.ts';
import type { ImagePort, InstanceLogPort, InstanceUsagePort, SchedulerPort, SecretPinPort, ServingRecords, TriggerRefsPort, DomainRefsPort, VolumeRulesPort, DeviceRulesPort } from './ports.ts';
import { assertNoTriggers } from './trigger-refs.ts';
import { assertScale, normaliseDeployDocument } from './spec.ts';
import { assertTraffic, keepingTags, trafficAfterDeploy, type DeployRouting } from './traffic.ts';
import { serviceView, VIEW_EVENTS, type GatewayAddress } from './view.ts';
import { FanIn } from './fan-in.ts';
import { mergeSorted } from './merge-sorted.ts';
import { currentDocument, updatedDocument } from './update.ts';
import type { LogLine } from '../core/instance.ts';
import type { ProjectQuotaGuard } from './quota.ts';

export interface ServingServiceDeps {
  records: ServingRecords;
  scheduler: SchedulerPort;
  images: ImagePort;
  instanceLogs: InstanceLogPort;
  clock: Clock;
  gateway: GatewayAddress;
  /** refuses to remove a service a trigger still feeds */
  triggers?: TriggerRefsPort;
  domains?: DomainRefsPort;
  /** the volume rules (serving/volumes.ts; none: a document naming volumes is refused) */
  volumes?: VolumeRulesPort;
  /** pins the secrets a document names (none: a document naming secrets is refused) */
  secrets?: SecretPinPort;
  /** the node's device rules (none: a document naming devices or GPUs is refused) */
  devices?: DeviceRulesPort;
  /** project quotas on min instances (serving/quota.ts; none: unlimited) */
  quotas?: ProjectQuotaGuard;
  /** each instance's recent CPU and memory use, when something measures it (the metering) */
  instanceUsage?: InstanceUsagePort;
}

/** the traffic target naming whatever revision is latest */
const LATEST = '@latest';

/** `skiff logs -f` looks for new instances this often */
const FOLLOW_POLL_MS = 500;
/** a pre-warm keeps instances at most this long (a cron trigger renews it for each run) */
const MAX_PREWARM_MS = 24 * 3600_000;

export class ServingService {
  constructor(private readonly d: ServingServiceDeps) {}

  /** `verify`: start one instance of the new revision even with min 0 (and no traffic yet), so the
   *  caller can wait for it to be ready or learn why it is not (revision status). `noTraffic` and
   *  `tag`: how the new revision is routed (serving/traffic.ts). */
  async deploy(doc: DeployDocument, tenant: string, opts: { verify?: boolean } & DeployRouting = {}): Promise<DeployResult> {
    const { spec, scale } = normaliseDeployDocument(doc);
    const existing = await this.d.records.getService(spec.name);
    // service names are host names, one namespace across projects: taken says no more than that
    if (existing && existing.tenant !== tenant) throw new SkiffError('CONFLICT', `name: the service name ${spec.name} is taken (service names are host names, one namespace for every project): pick another`);
    const routing: DeployRouting = { ...(opts.noTraffic ? { noTraffic: true } : {}), ...(opts.tag !== undefined ? { tag: opts.tag } : {}) };
    trafficAfterDeploy(spec.name, existing?.traffic, 'check', routing); // a bad tag or --no-traffic is said before any work
    if (spec.volumes?.length) {
      if (!this.d.volumes) throw new SkiffError('BAD_REQUEST', 'volumes: this daemon has no volumes');
      await this.d.volumes.assertVolumes(tenant, spec, scale); // an unknown volume leaves no trace
    }
    if (spec.devices?.length || spec.gpus) {
      if (!this.d.devices) throw new SkiffError('BAD_REQUEST', 'devices: this daemon passes no devices into instances');
      await this.d.devices.assertDevices(spec); // DEVICE_REFUSED naming the flag and the device
    }
    // secrets pinned to versions before anything is stored: an unknown secret or key leaves no trace
    if (doc.secrets) {
      if (!this.d.secrets) throw new SkiffError('BAD_REQUEST', 'secrets: this daemon has no secret store');
      const pinned = await this.d.secrets.pin(tenant, doc.secrets, spec.env);
      if (pinned) spec.secrets = pinned;
    }
    const image = await this.d.images.resolve(spec.image, tenant);
    const layers = await this.d.images.prepare(image);
    const store = () => this.d.records.deploy(tenant, spec, scale, image, this.d.clock.now(), doc, (old, rev) => trafficAfterDeploy(spec.name, old, rev, routing));
    // its min instances must fit the project's quota beside its other services' (checked and stored under the project's lock)
    const { revision, service } = this.d.quotas ? await this.d.quotas.admit(tenant, { service: spec.name, min: scale.min, memoryBytes: spec.memoryBytes, cpus: spec.cpus, flag: '--min' }, store) : await store();
    const pinned = pinnedReference(image);
    const routed = routing.noTraffic ? ', no traffic' : '';
    const tagged = routing.tag !== undefined ? `, tag ${routing.tag}` : '';
    await this.d.records.addEvent(spec.name, revision.name, 'deploy', `revision ${revision.name} of ${spec.image} (${pinned})${routed}${tagged}`, this.d.clock.now());
    if (routing.noTraffic || routing.tag !== undefined) await this.d.records.addEvent(spec.name, null, 'traffic', trafficText(service.traffic), this.d.clock.now());
    if (opts.verify) this.d.scheduler.verify(spec.name, revision.name);
    await this.d.scheduler.refresh();
    return { service: await this.get(spec.name), revision: revision.name, imageDigest: pinned, layers };
  }

  /** A new revision from the latest one's document with `patch` applied (serving/update.ts): what the
   *  patch does not state carries over, null resets to the default. */
  async update(name: string, patch: DeployPatch, tenant: string, opts: { verify?: boolean } & DeployRouting = {}): Promise<DeployResult> {
    const svc = await this.service(name);
    if (svc.tenant !== tenant) throw new SkiffError('NOT_FOUND', `no service named ${name}`);
    const latest = await this.d.records.getRevision(svc.latestRevision);
    if (!latest) throw new SkiffError('INTERNAL', `${name}'s latest revision ${svc.latestRevision} is missing`);
    return this.deploy(updatedDocument(latest, svc.scale, patch), tenant, opts);
  }

  async list(): Promise<ServiceView[]> {
    await this.d.scheduler.flush(); // its instance records and events are written behind; the views show them all
    const [services, revisions, events] = await Promise.all([this.d.records.listServices(), this.d.records.allRevisions(), this.d.records.recentEvents(VIEW_EVENTS)]);
    const byService = new Map<string, RevisionRecord[]>();
    for (const r of revisions) {
      const list = byService.get(r.service);
      if (list) list.push(r);
      else byService.set(r.service, [r]);
    }
    return services.map((s) => this.view(s, byService.get(s.name) ?? [], events.get(s.name) ?? []));
  }

  /** What `deploy` would take to make the latest revision again: its document as stated, the image
   *  pinned to the digest it runs, the service's bounds (`skiff export`). */
  async document(name: string): Promise<DeployDocument> {
    const svc = await this.service(name);
    const latest = await this.d.records.getRevision(svc.latestRevision);
    if (!latest) throw new SkiffError('INTERNAL', `${name}'s latest revision ${svc.latestRevision} is missing`);
    return currentDocument(latest, svc.scale);
  }

  async get(name: string): Promise<ServiceView> {
    const svc = await this.service(name);
    await this.d.scheduler.flush();
    const [revisions, events] = await Promise.all([this.d.records.revisionsOf(name), this.d.records.events(name, VIEW_EVENTS)]);
    return this.view(svc, revisions, events);
  }

  async remove(name: string): Promise<void> {
    await this.service(name);
    await assertNoTriggers(this.d.triggers, { service: name });
    const domains = (await this.d.domains?.domainsOf(name)) ?? [];
    if (domains.length) {
      const many = domains.length > 1;
      throw new SkiffError('CONFLICT', `service ${name}: domain${many ? 's' : ''} ${domains.join(', ')} route${many ? '' : 's'} to it: remove ${many ? 'them' : 'it'} first (skiff domain rm ${domains[0]})`);
    }
    await this.d.records.deleteService(name);
    await this.d.scheduler.refresh();
    // the kept logs of its deleted instances go with it (a new service of that name starts clean)
    await this.d.instanceLogs.forgetLogs(name);
  }

  /** `@latest` names the latest revision (resolved now: a later deploy moves traffic by itself). The
   *  split is the whole list: tags it leaves out are removed. */
  async setTraffic(name: string, split: TrafficTarget[]): Promise<ServiceView> {
    const svc = await this.service(name);
    const traffic = split.map((t) => (t.revision === LATEST ? { ...t, revision: svc.latestRevision } : t));
    assertTraffic(name, traffic);
    for (const t of traffic) {
      const rev = await this.d.records.getRevision(t.revision);
      if (!rev || rev.service !== name) throw new SkiffError('NOT_FOUND', `revision ${t.revision} does not belong to ${name}`);
    }
    await this.d.records.setTraffic(name, traffic, this.d.clock.now());
    await this.d.records.addEvent(name, null, 'traffic', trafficText(traffic), this.d.clock.now());
    await this.d.scheduler.refresh();
    return this.get(name);
  }

  /** Sends all traffic to `to`, or else to the newest revision older than the newest one taking traffic now. */
  async rollback(name: string, to?: string): Promise<ServiceView> {
    const svc = await this.service(name);
    const revisions = await this.d.records.revisionsOf(name);
    if (to !== undefined) {
      if (!revisions.some((r) => r.name === to)) throw new SkiffError('NOT_FOUND', `to: ${name} has no revision ${JSON.stringify(to)} (it has ${revisions.map((r) => r.name).join(', ')})`);
      return this.setTraffic(name, keepingTags(svc.traffic, [{ revision: to, percent: 100 }]));
    }
    const serving = new Set(svc.traffic.filter((t) => t.percent > 0).map((t) => t.revision));
    const newestServing = revisions.find((r) => serving.has(r.name));
    const target = newestServing && revisions.find((r) => r.generation < newestServing.generation);
    if (!target) throw new SkiffError('CONFLICT', `${name} has no revision older than ${newestServing?.name ?? 'the current one'} to roll back to`);
    return this.setTraffic(name, keepingTags(svc.traffic, [{ revision: target.name, percent: 100 }]));
  }

  /** Changes the service's bounds without a new revision; they apply to every revision, running ones included. */
  async scale(name: string, bounds: Partial<ScaleBounds>): Promise<ServiceView> {
    const svc = await this.service(name);
    const scale = assertScale({ min: bounds.min ?? svc.scale.min, max: bounds.max ?? svc.scale.max }, 'scale');
    // new bounds apply to every revision: each that mounts volumes must still keep the rules
    if (this.d.volumes && scale.max > svc.scale.max) {
      for (const rev of await this.d.records.revisionsOf(name)) {
        if (rev.spec.volumes?.length) await this.d.volumes.assertVolumes(svc.tenant, rev.spec, scale);
      }
    }
    const store = () => this.d.records.setScale(name, scale, this.d.clock.now());
    // more min instances must fit the project's quota (with the latest revision's limits)
    const latest = this.d.quotas && scale.min > svc.scale.min ? await this.d.records.getRevision(svc.latestRevision) : undefined;
    if (latest) await this.d.quotas!.admit(svc.tenant, { service: name, min: scale.min, memoryBytes: latest.spec.memoryBytes, cpus: latest.spec.cpus, flag: '--min' }, store);
    else await store();
    await this.d.records.addEvent(name, null, 'scale-bounds', `min ${scale.min}, max ${scale.max}`, this.d.clock.now());
    await this.d.scheduler.refresh();
    return this.get(name);
  }

  async prewarm(name: string, opts: { instances: number; forMs: number }): Promise<PrewarmResult> {
    const svc = await this.service(name);
    // said, not silently capped: the caller asked for instances the service may never have
    if (opts.instances > svc.scale.max) {
      throw new SkiffError('BAD_REQUEST', `instances: ${opts.instances} is more than ${name}'s max scale (${svc.scale.max}); raise it first (skiff scale ${name} --max ${opts.instances})`);
    }
    if (opts.forMs > MAX_PREWARM_MS) throw new SkiffError('BAD_REQUEST', `for: at most 24h, got ${opts.forMs / 1000}s`);
    const untilMs = this.d.clock.now() + opts.forMs;
    const until = new Date(untilMs).toISOString();
    await this.d.records.addEvent(name, null, 'prewarm', `${opts.instances} instance(s) per revision until ${until}`, this.d.clock.now());
    const revisions = await this.d.scheduler.prewarm(name, { instances: opts.instances, untilMs });
    return { service: name, until, revisions };
  }

  /**
   * Log lines of the service's instances as `<instance id> <ISO time> <stdout|stderr> <line>`, every
   * instance's interleaved by time (with `tail`, each instance's last `tail` lines): the deleted
   * instances whose output the driver kept (scaled to zero, crashed, replaced) and the live ones; with
   * `follow`, the kept ones first, then the live ones' as they arrive. `instance`
   * and `revision` narrow it, `sinceMs` drops older lines. `follow` keeps streaming new lines — of
   * instances that start later too — until the signal aborts. NOT_FOUND before the first line for an
   * unknown service, revision or instance. Streamed from the driver: memory does not grow with the logs.
   */
  async *logs(name: string, opts: { revision?: string; instance?: string; sinceMs?: number; tail?: number; follow: boolean; signal: AbortSignal }): AsyncIterable<string> {
    await this.service(name);
    const all = (await this.d.records.revisionsOf(name)).map((r) => r.name);
    if (opts.revision !== undefined && !all.includes(opts.revision)) {
      throw new SkiffError('NOT_FOUND', `revision: ${name} has no revision ${JSON.stringify(opts.revision)} (it has ${all.join(', ')})`);
    }
    const revisions = opts.revision ? [opts.revision] : all;
    const wanted = (id: string) => opts.instance === undefined || id === opts.instance;
    const liveIds = () => revisions.flatMap((rev) => this.d.scheduler.instanceIds(rev)).filter(wanted);
    // the live ones first: one deleted after this is read from the driver's archive all the same; read
    // the other way round, one deleted in between would be in neither list and its lines missing
    const live = new Set(liveIds());
    const past = (await this.d.instanceLogs.pastInstances(name)).filter((p) => revisions.includes(p.revision) && wanted(p.id) && !live.has(p.id));
    if (opts.instance !== undefined && past.length === 0 && liveIds().length === 0) {
      throw new SkiffError('NOT_FOUND', `instance: ${name} has no instance ${JSON.stringify(opts.instance)}, running or with kept logs (skiff logs ${name} lists every instance's lines)`);
    }
    const since = opts.sinceMs === undefined ? undefined : new Date(opts.sinceMs).toISOString();
    const tail = opts.tail !== undefined ? { tail: opts.tail } : undefined;
    const lines = async function* (id: string, source: AsyncIterable<LogLine>, live: boolean): AsyncGenerator<TimedLine> {
      try {
        // ISO times of one format compare as strings
        for await (const l of source) if (since === undefined || l.time >= since) yield { time: l.time, text: `${id} ${l.time} ${l.stream} ${l.line}` };
      } catch (err) {
        if (!live) throw err; // a live instance deleted while being read: what was read stands
      }
    };
    // every instance's lines interleaved by time: the kept ones, and without follow the live ones too
    const sources = past.map((p) => lines(p.id, this.d.instanceLogs.logs(p.id, tail), false));
    if (!opts.follow) sources.push(...[...live].map((id) => lines(id, this.d.instanceLogs.logs(id, tail), true)));
    for await (const l of mergeSorted(sources, (a, b) => a.time < b.time)) yield l.text;
    if (!opts.follow) return;
    const fanIn = new FanIn<string>();
    const followed = new Set<string>(past.map((p) => p.id));
    const follow = (first: boolean) => {
      for (const id of liveIds()) {
        if (followed.has(id)) continue;
        followed.add(id);
        // a tail applies to the instances there now; one that starts later is followed from its start
        const source = this.d.instanceLogs.followLogs(id, opts.signal, first ? tail : undefined);
        fanIn.add((async function* () {
          for await (const l of lines(id, source, true)) yield l.text;
        })());
      }
    };
    follow(true);
    const watch = (async () => {
      while (!opts.signal.aborted) {
        await this.d.clock.sleep(FOLLOW_POLL_MS);
        follow(false);
      }
    })();
    yield* fanIn.read(opts.signal);
    await watch;
  }

  private async service(name: string): Promise<ServiceRecord> {
    const svc = await this.d.records.getService(name);
    if (!svc) throw new SkiffError('NOT_FOUND', `no service named ${name}`);
    return svc;
  }

  private view(service: ServiceRecord, revisions: RevisionRecord[], events: ServiceEvent[]): ServiceView {
    return serviceView({
      service,
      revisions,
      events,
      instances: (rev) => {
        const usage = this.d.instanceUsage;
        const list = this.d.scheduler.describe(rev);
        return usage ? list.map((i) => ({ ...i, ...usage.of(i.id) })) : list;
      },
      status: (rev) => this.d.scheduler.revisionStatus(rev),
      keepAlive: this.d.scheduler.keepAlive(service.name),
      gateway: this.d.gateway,
    });
  }
}

function trafficText(traffic: TrafficTarget[]): string {
  return traffic.map((t) => `${t.revision}=${t.percent}%${t.tag !== undefined ? ` (tag ${t.tag})` : ''}`).join(' ');
}

interface TimedLine {
  time: string;
  text: string;
}
