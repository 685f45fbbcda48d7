// scheduler/scheduler: converges running instances to the desired state, once a second and at once
// when the activator asks for capacity.
//
//   tick: sync revisions from the store → feed samples to each revision's autoscaler → decide →
//         start or drain instances → liveness checks → publish ready endpoints to the gateway.
//   start: a frozen instance is resumed (ready at once); else a pre-created one is started; else one is
//          created and started → readiness probes → ready → published (launcher.ts).
//   pool:  revisions with traffic and minScale 0 keep pre-created instances (pool.ts); removed when
//          traffic goes away.
//   drain: unpublish → wait until the gateway has no request in flight on it (bounded by the grace)
//          → stop signal, grace, SIGKILL → forget.
//   freeze: a freezeIdle revision scaling to zero pauses its instances instead (freezer.ts).
//   quota: each start is first reserved against its project's quota, and released at delete (quota-gate.ts).
// Scale-from-zero is coalesced: while an instance of a revision is starting, further capacity
// requests for it start nothing more. Every wait (tick, drain, probe back-off, retry pauses) is on
// the injected Clock, so a fake clock steps the scheduler through minutes in milliseconds.
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { instanceId } from '../core/names.ts';
import type { ScalingSpec, ServiceRecord } from '../core/service.ts';
import { exitText, type ExitReason } from '../core/instance.ts';
import type { BacklogPort, DesiredStatePort, InstancePort, KeepAliveFactory, KeepAlivePolicy, MetricScrapePort, ProbePort, QuotaPort, RoutingPort, ScalerFactory } from './ports.ts';
import { QuotaGate } from './quota-gate.ts';
import { RevisionState, type Phase, type TrackedInstance } from './revision-state.ts';
import { effectiveTraffic } from './rollout.ts';
import type { ColdStartStats } from './cold-start-stats.ts';
import { WriteBehind } from './write-behind.ts';
import { NO_COLD_START_OPTIMISATIONS, type ColdStartOptions, type InstanceHost } from './lifecycle.ts';
import { PreCreatedPool } from './pool.ts';
import { Freezer } from './freezer.ts';
import { Launcher } from './launcher.ts';
import { metricOf } from './metrics.ts';
import { KeepAlivePolicies } from './keep-alive-policies.ts';
import { desiredScale } from './desired.ts';
import { idleInstancesToFreeze, lastBusy } from './idle-freeze.ts';

/** crash-loop back-off: the first wait, doubled per consecutive failure up to the cap */
const CRASH_BACKOFF_BASE_MS = 1000;
const CRASH_BACKOFF_MAX_MS = 300_000;
/** an instance ready this long ends a crash loop (Kubernetes resets its back-off after 10 min; an
 *  app that crashes later than a minute after becoming ready is not looping on start) */
const CRASH_RESET_MS = 60_000;
/** a revision being verified is warmed up until it has been ready once, or failed this many times in a row */
const VERIFY_ATTEMPTS = 3;
/** lines of a crashed instance's output its failure quotes */
const CRASH_OUTPUT_LINES = 5;

/** `; last output: "…" "…"`: the instance's last lines, or nothing when it printed none. */
async function lastOutput(instances: InstancePort, id: string): Promise<string> {
  const lines: string[] = [];
  try {
    for await (const l of instances.logs(id, { tail: CRASH_OUTPUT_LINES })) lines.push(l.line.length > 200 ? `${l.line.slice(0, 200)}…` : l.line);
  } catch {
    // gone already: no output to quote
  }
  return lines.length ? `; last output: ${lines.map((l) => JSON.stringify(l)).join(' ')}` : '';
}

export type { ColdStartOptions } from './lifecycle.ts';

export interface SchedulerDeps {
  instances: InstancePort;
  probes: ProbePort;
  scrape: MetricScrapePort;
  routing: RoutingPort;
  desired: DesiredStatePort;
  scalers: ScalerFactory;
  /** per-service keep-alive policies; without it every service keeps the autoscaler's fixed idle window */
  keepAlive?: KeepAliveFactory;
  clock: Clock;
  log: Logger;
  tickMs?: number;
  /** how long a new instance may take to become ready before it is replaced */
  readinessDeadlineMs?: number;
  coldStart?: ColdStartOptions;
  /** receives the breakdown of every cold start a request waited for */
  coldStarts?: ColdStartStats;
  /** events waiting per service (set later with setBacklog when the event side starts after this) */
  backlog?: BacklogPort;
  /** the projects' quotas (quota-gate.ts); without it nothing is limited */
  quotas?: QuotaPort;
}

/** orphans removed at once after a restart: parallel enough to be quick, bounded so runc and the
 *  kernel's netns teardown do not starve the instances being re-adopted */
const ORPHAN_REMOVALS_AT_ONCE = 4;
/** how often the driver's instances are compared with what the scheduler tracks: an instance of a
 *  revision no one tracks on two sweeps in a row is removed (one a killed daemon's half-finished create
 *  left behind, finished after the next daemon's start-up sweep; a driver's create that failed half way) */
const ORPHAN_SWEEP_MS = 30_000;
/** pauses before each new attempt at a failed instance delete */
const DELETE_RETRIES_MS = [250, 1000, 2000, 4000, 8000];

/** The revisions that take a share of their service's traffic, or answer at a tag's address. */
function takingTraffic(services: readonly ServiceRecord[]): string[] {
  return services.flatMap((s) => s.traffic.filter((t) => t.percent > 0 || t.tag !== undefined).map((t) => t.revision));
}

/** The revisions that take a share of their service's traffic (a tag is an address, not a share). */
function sharing(services: readonly ServiceRecord[]): Set<string> {
  return new Set(services.flatMap((s) => s.traffic.filter((t) => t.percent > 0).map((t) => t.revision)));
}

/** A revision's part of the events waiting for its service: its share of the traffic (events reach
 *  the service through the gateway, which splits them as it splits requests). */
function backlogShare(services: readonly ServiceRecord[], state: RevisionState, waiting: number): number {
  if (waiting <= 0) return 0;
  const percent = services.find((s) => s.name === state.record.service)?.traffic.filter((t) => t.revision === state.name).reduce((sum, t) => sum + t.percent, 0) ?? 0;
  return Math.ceil((waiting * percent) / 100);
}

/** Events one instance takes on at once: its hard concurrency, else the autoscaler's per-instance
 *  target (KEDA's queueLength per replica, taken from what the service already says about itself). */
function backlogPerInstance(s: ScalingSpec): number {
  return s.concurrency > 0 ? s.concurrency : Math.max(1, Math.round(s.target));
}

export class Scheduler {
  private readonly revisions = new Map<string, RevisionState>();
  /** instances being stopped and deleted (no longer in their revision's state) → their revision */
  private readonly removing = new Map<string, string>();
  private stopTicking: (() => void) | undefined;
  private stopSweeping: (() => void) | undefined;
  /** untracked instances seen by the last sweep: removed if the next one sees them still */
  private suspects = new Set<string>();
  private sweeping = false;
  private ticking = false;
  private tickAgain = false;
  /** desired services as last read from the store (see refresh) */
  private services: ServiceRecord[] = [];
  /** the effective routes last pushed to the gateway, so unchanged routes are not rebuilt every tick */
  private routesSignature = '';
  private stopped = false;
  private routesLoaded = false;
  /** revisions a deploy asked to verify: warmed up to one instance until one has been ready */
  /** revisions a deploy asked to verify → their service */
  private readonly verifying = new Map<string, { service: string; call: number }>();
  /** counts verify() calls: a read of desired state that began before one must not forget it */
  private verifyCalls = 0;
  /** revisions that were ready once and have been forgotten since (a --no-traffic deploy's, once
   *  verified): their status still says they started */
  private readonly startedAndGone = new Map<string, string>();
  /** the reload in progress (reloads run one after another) */
  private reloading: Promise<void> = Promise.resolve();
  /** revisions the gateway asked capacity for before start() finished; undefined once it has */
  private capacityAskedBeforeStart: Set<string> | undefined = new Set();
  private readonly pending = new Set<Promise<unknown>>();
  /** store writes, applied a moment later so none blocks a cold start's request */
  private readonly writes: WriteBehind;
  private readonly pool: PreCreatedPool;
  private readonly freezer: Freezer;
  private readonly launcher: Launcher;
  private readonly keepAlives: KeepAlivePolicies;
  private readonly quota: QuotaGate;
  /** revisions the gateway routes requests to, as of the last route push */
  private routed = new Set<string>();
  /** of those, the revisions that take a share of a service's own address now (not only a tag's) */
  private sharing = new Set<string>();
  /** told when a revision's ready instances change (pre-warm waits on it) */
  private readonly publishWaiters = new Set<() => void>();

  constructor(private readonly d: SchedulerDeps) {
    this.writes = new WriteBehind(d.desired, d.clock, d.log);
    this.quota = new QuotaGate(d.quotas, { routing: d.routing, writes: this.writes, clock: d.clock });
    const host: InstanceHost = {
      clock: d.clock,
      log: d.log,
      instances: d.instances,
      routing: d.routing,
      coldStarts: d.coldStarts,
      probes: d.probes,
      readinessDeadlineMs: d.readinessDeadlineMs ?? 60_000,
      writes: this.writes,
      options: d.coldStart ?? NO_COLD_START_OPTIMISATIONS,
      stopped: () => this.stopped,
      revisions: () => this.revisions.values(),
      newInstance: (state, phase) => this.newInstance(state, phase),
      watchExit: (state, inst) => this.watchExit(state, inst),
      remove: (state, inst, graceMs) => this.remove(state, inst, graceMs),
      drain: (state, inst, why) => this.drain(state, inst, why),
      waitIdle: (state, inst, until) => this.waitIdle(state, inst, until),
      publish: (state) => this.publish(state),
      startInstance: (state, why, askedAt) => this.startInstance(state, why, askedAt),
      failed: (state, cause) => this.failed(state, cause),
      track: (p) => this.track(p),
    };
    this.pool = new PreCreatedPool(host);
    this.freezer = new Freezer(host);
    this.launcher = new Launcher(host, this.pool);
    this.keepAlives = new KeepAlivePolicies(d.keepAlive, this.writes);
  }

  /** Reads desired state and pushes routes to the gateway, before it accepts connections. */
  async loadRoutes(): Promise<void> {
    await this.reload();
    this.pushRoutes();
    this.routesLoaded = true;
  }

  /** Re-adopts instances that survived a daemon restart, starts ticking, then removes orphans in the
   *  background. */
  async start(): Promise<void> {
    if (!this.routesLoaded) await this.loadRoutes();
    this.keepAlives.restore(await this.d.desired.keepAlives());
    const orphans: string[] = [];
    const known = new Map((await this.d.desired.knownInstances()).map((i) => [i.id, i]));
    for (const inst of await this.d.instances.list()) {
      const state = this.revisions.get(inst.revision);
      const recorded = known.get(inst.id)?.state;
      // running → probed again; pre-created and frozen ones come back as they were recorded
      const phase =
        inst.status === 'running' && recorded !== undefined ? 'starting'
        : inst.status === 'created' && recorded === 'pre-created' ? 'pre-created'
        : inst.status === 'paused' && recorded === 'frozen' ? 'frozen'
        : undefined;
      if (!state || !phase) {
        this.d.log.info({ instance: inst.id, revision: inst.revision, status: inst.status }, 'removing orphan instance');
        orphans.push(inst.id);
        continue;
      }
      const address = phase === 'pre-created' ? undefined : inst.address; // a pre-created one has none until started
      const tracked: TrackedInstance = { id: inst.id, phase, address, startedAt: this.d.clock.now(), livenessFailures: 0, nextLivenessAt: 0 };
      state.instances.set(inst.id, tracked);
      known.delete(inst.id);
      this.watchExit(state, tracked);
      if (phase !== 'pre-created') this.quota.hold(state, inst.id); // running: counted against its project's quota
      if (phase === 'starting') this.track(this.launcher.awaitReady(state, tracked, 'adopted'));
      if (phase === 'pre-created') tracked.created = Promise.resolve(true);
      if (phase === 'frozen') await this.freezer.adopt(tracked);
    }
    for (const gone of known.keys()) this.writes.forgetInstance(gone);
    this.stopTicking = this.d.clock.every(this.d.tickMs ?? 1000, () => void this.tick());
    this.stopSweeping = this.d.clock.every(ORPHAN_SWEEP_MS, () => void this.sweepOrphans());
    const asked = this.capacityAskedBeforeStart!;
    this.capacityAskedBeforeStart = undefined;
    void this.tick().then(() => {
      for (const rev of asked) this.requestCapacity(rev);
    });
    // Orphans go after serving resumed, a few at a time: one by one before it (~2 s each) made a
    // restart with 17 of them a 37 s outage.
    this.track(this.removeOrphans(orphans));
  }

  /** Instances of a revision the scheduler does not track, seen on two sweeps in a row, are removed.
   *  One-off runs and job tasks (no revision) are their owners' business, and an instance being
   *  created is tracked before its create starts, so nothing in use is taken. */
  private async sweepOrphans(): Promise<void> {
    if (this.stopped || this.sweeping) return;
    this.sweeping = true;
    try {
      const tracked = new Set<string>();
      for (const s of this.revisions.values()) for (const id of s.instances.keys()) tracked.add(id);
      const untracked = new Set((await this.d.instances.list()).filter((i) => i.revision && !tracked.has(i.id) && !this.removing.has(i.id)).map((i) => i.id));
      const orphans = [...untracked].filter((id) => this.suspects.has(id));
      this.suspects = new Set([...untracked].filter((id) => !orphans.includes(id)));
      if (this.stopped || orphans.length === 0) return;
      this.d.log.warn({ instances: orphans }, 'removing instances no revision tracks');
      await this.removeOrphans(orphans);
    } catch (err) {
      this.d.log.warn({ err }, 'the orphan sweep could not list instances');
    } finally {
      this.sweeping = false;
    }
  }

  private async removeOrphans(ids: string[]): Promise<void> {
    const queue = [...ids];
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        await this.d.instances.delete(id).catch((err: unknown) => this.d.log.error({ err, instance: id }, 'failed to remove orphan instance'));
        this.writes.forgetInstance(id);
      }
    };
    await Promise.all(Array.from({ length: Math.min(ORPHAN_REMOVALS_AT_ONCE, queue.length) }, worker));
  }

  /**
   * `skiff down`: starts nothing more, lets every serving instance finish its requests (unpublished
   * first, then stopped with its drain grace) and removes every other one (starting, pre-created,
   * frozen); then stops as stop() does. Desired state is untouched: the next daemon starts min
   * instances again. Resolves with how many instances there were.
   */
  async drainAll(): Promise<number> {
    this.stopped = true;
    this.stopTicking?.();
    this.stopSweeping?.();
    await Promise.allSettled([...this.pending]);
    const work: Array<Promise<void>> = [];
    for (const state of this.revisions.values()) {
      for (const inst of [...state.instances.values()]) work.push(inst.phase === 'ready' ? this.drain(state, inst, 'skiff down') : this.remove(state, inst));
    }
    await Promise.allSettled(work);
    await this.stop();
    return work.length;
  }

  /** Stops ticking; instances keep running so the next daemon can re-adopt them. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopTicking?.();
    this.stopSweeping?.();
    for (const tell of this.publishWaiters) tell();
    await Promise.allSettled([...this.pending]);
    await this.writes.flush();
  }

  /** Activator hook: a request waits for this revision and no instance can take it. */
  requestCapacity(revision: string): void {
    // Before start() has re-adopted this node's instances, a request would start one beside an
    // instance about to be adopted: asked again once start() is done.
    if (this.capacityAskedBeforeStart) return void this.capacityAskedBeforeStart.add(revision);
    const state = this.revisions.get(revision);
    // The gateway knows only revisions loaded here; should one not be (yet), read desired state again:
    // the next tick sees the held requests in its sample and scales the revision up.
    if (!state) return void this.refresh();
    // A revision that lost its traffic starts nothing: its held requests are refused when it goes.
    if (!this.routed.has(revision)) return;
    state.scaler.poke(this.d.clock.now());
    state.lastRequestAt = this.d.clock.now();
    this.keepAlives.request(state.record.service, this.d.clock.now());
    // an instance frozen between requests is thawed first: it is this revision's capacity
    const idle = state.idleFrozen()[0];
    if (idle) return this.track(this.freezer.thaw(state, idle, 'request waiting (frozen while idle)', performance.now()));
    if (state.count('starting') > 0) return;
    if (state.count('starting', 'ready') >= state.scale.max) return;
    this.startInstance(state, 'request waiting (scale from zero)', performance.now());
  }

  /** Applies the store writes still queued (WriteBehind), for a reader that wants them now. */
  flush(): Promise<void> {
    return this.writes.flush();
  }

  /** The event side starts after serving (it delivers through the gateway): it plugs its backlog in then. */
  setBacklog(port: BacklogPort): void {
    this.d.backlog = port;
  }

  /** What a metrics scrape reads, per revision: its service, the instances the autoscaler wants and
   *  those ready, whether it is in panic mode, and its instances per phase. */
  metrics(): Array<{ service: string; revision: string; desired: number; ready: number; panic: boolean; failures: number; failuresTotal: number; phases: Record<Phase, number> }> {
    return [...this.revisions.values()].map((s) => {
      const phases: Record<Phase, number> = { 'pre-created': 0, starting: 0, ready: 0, draining: 0, frozen: 0 };
      for (const i of s.instances.values()) phases[i.phase]++;
      return { service: s.record.service, revision: s.name, desired: s.lastDesired ?? 0, ready: phases.ready, panic: s.panic, failures: s.failures, failuresTotal: s.failuresTotal, phases };
    });
  }

  /** Every instance with a process, for the metering's once-a-second reading (daemon/metering-wiring.ts):
   *  its revision, service, tenant, phase, limits and billing mode. Pre-created instances have not run
   *  anything yet and are left out. */
  meteredInstances(): Array<{ id: string; revision: string; service: string; tenant: string; phase: Exclude<Phase, 'pre-created'>; startedAt: number; cpus: number; memoryBytes: number; billing: 'request' | 'instance' }> {
    const out: ReturnType<Scheduler['meteredInstances']> = [];
    for (const s of this.revisions.values()) {
      const spec = s.record.spec;
      for (const i of s.instances.values()) {
        if (i.phase === 'pre-created') continue;
        out.push({ id: i.id, revision: s.name, service: s.record.service, tenant: s.tenant ?? 'default', phase: i.phase, startedAt: i.startedAt, cpus: spec.cpus, memoryBytes: spec.memoryBytes, billing: spec.billing ?? 'request' });
      }
    }
    return out;
  }

  /** Current view for `skiff describe`. */
  /** The ids of a revision's instances whose output the driver may still hold: the tracked ones and
   *  those being removed (no longer tracked, their output not yet in the driver's archive until the
   *  delete returns), so `skiff logs` read while one scales down misses none of its lines. */
  instanceIds(revision: string): string[] {
    const s = this.revisions.get(revision);
    const removing = [...this.removing].filter(([, rev]) => rev === revision).map(([id]) => id);
    return [...(s ? s.instances.keys() : []), ...removing];
  }

  describe(revision: string): Array<{ id: string; phase: string; address?: string; node?: string; startedAt: string }> {
    const s = this.revisions.get(revision);
    if (!s) return [];
    return [...s.instances.values()].map((i) => ({ id: i.id, phase: i.phase, ...(i.address ? { address: `${i.address.host}:${i.address.port}` } : {}), ...(i.address?.node ? { node: i.address.node } : {}), startedAt: new Date(i.startedAt).toISOString() }));
  }

  /** Pre-warm hook (`skiff prewarm`, and a cron trigger a little before its schedule): makes
   *  `instances` instances of each revision the service's traffic names started and ready now, and
   *  keeps at least that many until `untilMs` (clock ms) — neither the autoscaler nor the keep-alive
   *  policy scales them away before. Bounded by maxScale; a later call replaces an earlier one.
   *  Resolves once they are ready, or with what is ready at the readiness deadline. */
  async prewarm(service: string, opts: { instances: number; untilMs: number }): Promise<Array<{ revision: string; instances: number; ready: number }>> {
    await this.reload();
    const svc = this.services.find((s) => s.name === service);
    const names = new Set((svc?.traffic ?? []).filter((t) => t.percent > 0).map((t) => t.revision));
    const states = [...names].flatMap((name) => this.revisions.get(name) ?? []);
    const target = (st: RevisionState) => Math.min(opts.instances, st.scale.max);
    for (const st of states) {
      st.prewarm = { instances: opts.instances, untilMs: opts.untilMs };
      // instances frozen between requests are thawed first: they are the revision's own
      for (const inst of st.idleFrozen().slice(0, Math.max(0, target(st) - st.count('starting', 'ready')))) this.track(this.freezer.thaw(st, inst, 'pre-warm', undefined));
      for (let i = st.count('starting', 'ready'); i < target(st); i++) this.startInstance(st, 'pre-warm');
    }
    const deadline = this.d.clock.now() + (this.d.readinessDeadlineMs ?? 60_000);
    while (!this.stopped && this.d.clock.now() < deadline && states.some((st) => st.count('ready') < target(st))) await this.nextPublish(deadline);
    return states.map((st) => ({ revision: st.name, instances: target(st), ready: st.count('ready') }));
  }

  /** Resolves at the next change of any revision's ready instances, or at `deadline` (clock ms). */
  private nextPublish(deadline: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.d.clock.after(deadline - this.d.clock.now(), () => done());
      const done = () => {
        cancel();
        this.publishWaiters.delete(done);
        resolve();
      };
      this.publishWaiters.add(done);
    });
  }

  /** The service's keep-alive policy, undefined before its first request (since the daemon started). */
  keepAlive(service: string): KeepAlivePolicy | undefined {
    return this.keepAlives.policy(service);
  }

  /** Re-reads desired state now (after a deploy, a traffic change, new scale bounds or a delete) and
   *  ticks. Ticks use the copy read here: desired state changes only through the API, which calls
   *  this, so an idle node does no store reads per tick. */
  async refresh(): Promise<void> {
    await this.reload();
    void this.tick();
  }

  async tick(): Promise<void> {
    if (this.stopped) return;
    // A refresh during a tick (which read the services before it) runs one more tick right after.
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    this.ticking = true;
    try {
      const services = this.services;
      const now = this.d.clock.now();
      const samples = this.d.routing.sample();
      const routed = this.pushRoutes();
      const declared = new Set(takingTraffic(services));
      const declaredShares = sharing(services);
      const requested = new Set<string>();
      for (const [rev, s] of samples) {
        const service = this.revisions.get(rev)?.record.service;
        if (service && s.concurrency + s.arrivals > 0) requested.add(service);
      }
      // events waiting for a service are demand like requests: its idle time restarts
      const backlog = this.d.backlog?.backlog() ?? new Map<string, number>();
      for (const [service, waiting] of backlog) if (waiting > 0) requested.add(service);
      for (const service of requested) this.keepAlives.request(service, now);
      for (const state of this.revisions.values()) {
        const sample = samples.get(state.name) ?? { concurrency: 0, arrivals: 0 };
        const metric = await metricOf(state, sample, now, { instances: this.d.instances, scrape: this.d.scrape, tickMs: this.d.tickMs ?? 1000 });
        state.scaler.record(now, metric, sample.concurrency + sample.arrivals);
        if (sample.concurrency + sample.arrivals > 0) state.lastRequestAt = now;
        const waiting = backlogShare(services, state, backlog.get(state.record.service) ?? 0);
        if (waiting > 0) {
          state.scaler.poke(now);
          state.lastRequestAt = now;
        }
        // A declared revision whose share still goes to its predecessor is warmed up to one instance, and
        // so is one a deploy asked to verify (a first deploy with min 0 too) until it has been ready: the
        // deploy finds out whether the app starts. A few failures in a row end the verification.
        if (state.proven || state.failures >= VERIFY_ATTEMPTS) this.verifying.delete(state.name);
        // (a verification of a revision whose service is gone starts nothing: the service was deleted)
        const verify = this.verifying.get(state.name);
        const warmUp = (declaredShares.has(state.name) && !this.sharing.has(state.name)) || (verify !== undefined && this.services.some((s) => s.name === verify.service));
        this.scale(state, routed.has(state.name) || warmUp, warmUp, now, waiting);
        // a project whose budget is spent with action stop runs nothing (quota-gate.ts stopped); new
        // starts are refused by the ledger, so its requests are answered 402 once these are gone
        if (this.quota.stopped(state)) {
          for (const inst of [...state.instances.values()]) {
            if (inst.phase === 'ready' && !inst.idleFrozen) this.track(this.drain(state, inst, 'budget spent'));
            else if (inst.phase !== 'draining' && inst.phase !== 'pre-created') this.track(this.remove(state, inst));
          }
        }
        this.checkLiveness(state, now);
        if (routed.has(state.name)) this.freezeIdle(state, now, sample);
        if (state.failures > 0 && state.ready().some((i) => i.readyAt !== undefined && now - i.readyAt >= CRASH_RESET_MS)) {
          state.failures = 0;
          state.lastFailure = undefined;
        }
        if (declared.has(state.name)) this.pool.replenish(state);
        else for (const inst of [...state.inPhase('pre-created'), ...state.inPhase('frozen')]) this.track(this.remove(state, inst));
      }
      // What is in use now, not at the start of this tick: a reload during it may have added revisions.
      const verified = [...this.verifying].flatMap(([rev, v]) => (this.services.some((s) => s.name === v.service) ? [rev] : []));
      this.dropFinishedRevisions(new Set([...this.routed, ...takingTraffic(this.services), ...this.services.flatMap((s) => s.previousServing ?? []), ...verified]));
    } catch (err) {
      this.d.log.error({ err }, 'scheduler tick failed');
    } finally {
      this.ticking = false;
      if (this.tickAgain) {
        this.tickAgain = false;
        void this.tick();
      }
    }
  }

  private scale(state: RevisionState, hasTraffic: boolean, warmUp: boolean, now: number, waiting: number): void {
    // instances frozen between requests (cpuAlways off) still serve: thawed by the next request
    const idleFrozen = state.idleFrozen();
    const ready = state.count('ready') + idleFrozen.length;
    const live = state.count('starting', 'ready') + idleFrozen.length;
    let desired = 0;
    let why = 'autoscaler';
    if (hasTraffic) {
      const kpa = state.scaler.decide(now, ready);
      state.panic = kpa.valid && kpa.panic === true;
      const d = desiredScale({
        kpa,
        warmUp,
        keepAlive: warmUp || state.scale.min > 0 ? undefined : this.keepAlives.decide(state.record.service, now),
        wasAtZero: state.lastDesired === 0,
        prewarm: state.prewarm,
        ...(waiting > 0 ? { backlog: { waiting, perInstance: backlogPerInstance(state.record.spec.scaling) } } : {}),
        maxScale: state.scale.max,
        now,
      });
      if (!d) return;
      ({ desired, why } = d);
      if (desired !== state.lastDesired) {
        this.writes.event(state.record.service, state.name, 'scale', `desired ${desired} (was ${state.lastDesired ?? 'unset'}): ${d.reason}`);
      }
    }
    state.lastDesired = desired;
    if (desired > live) {
      for (let i = live; i < desired; i++) this.startInstance(state, why);
    } else if (desired < live) {
      const freeze = hasTraffic && desired === 0 && state.record.spec.scaling.freezeIdle && this.freezer.enabled;
      for (const victim of [...idleFrozen, ...state.victims(live - desired)].slice(0, live - desired)) {
        if (victim.idleFrozen) {
          if (freeze) this.freezer.keepFrozen(victim); // already paused: now a frozen instance of a revision at zero
          else this.track((async () => (await victim.paused, this.drain(state, victim, hasTraffic ? 'scale down' : 'no traffic')))());
        } else if (freeze && victim.phase === 'ready') this.freezer.freeze(state, victim);
        else this.track(this.drain(state, victim, hasTraffic ? 'scale down' : 'no traffic'));
      }
    }
  }

  /** CPU only during requests (idle-freeze.ts): freezes the ready instances idle for
   *  coldStart.idleFreezeMs unless the service has cpuAlways; while more requests are in flight than
   *  instances run and the revision wants more, instances frozen between requests are thawed first. */
  private freezeIdle(state: RevisionState, now: number, sample: { concurrency: number; arrivals: number }): void {
    const delayMs = this.d.coldStart?.idleFreezeMs ?? 0;
    if (delayMs <= 0 || this.stopped) return;
    const revisionBusy = sample.concurrency + sample.arrivals > 0;
    const activeOf = (id: string) => this.d.routing.activeOf?.(state.name, id) ?? (revisionBusy ? 1 : 0);
    const candidates = state.ready().map((inst) => {
      const active = activeOf(inst.id);
      inst.lastBusyAt = lastBusy(inst.lastBusyAt ?? inst.readyAt ?? inst.startedAt, active, revisionBusy, now);
      return { id: inst.id, phase: inst.phase, idleSince: inst.lastBusyAt, active };
    });
    const running = state.count('starting', 'ready');
    const short = Math.min((state.lastDesired ?? 0) - running, Math.ceil(sample.concurrency) - running);
    for (const inst of state.idleFrozen().slice(0, Math.max(0, short))) this.track(this.freezer.thaw(state, inst, 'demand', undefined));
    for (const id of idleInstancesToFreeze({ cpuAlways: state.record.spec.cpuAlways === true, delayMs, now, revisionBusy, instances: candidates })) {
      const inst = state.instances.get(id);
      if (inst?.phase === 'ready') this.freezer.freeze(state, inst, true);
    }
  }

  private newInstance(state: RevisionState, phase: 'starting' | 'pre-created', id = instanceId(state.name)): TrackedInstance {
    const inst: TrackedInstance = { id, phase, startedAt: this.d.clock.now(), livenessFailures: 0, nextLivenessAt: 0 };
    state.instances.set(id, inst);
    this.writes.recordInstance(id, state.name, state.record.service, phase, undefined);
    return inst;
  }

  /** One more serving instance: thaw a frozen one, else start a pre-created one, else create one.
   *  `askedAt` (performance.now()) is set when a request waits for it: its breakdown is recorded. */
  private startInstance(state: RevisionState, why: string, askedAt?: number): void {
    const waitMs = state.backoffUntil - this.d.clock.now();
    if (waitMs > 0) {
      // backing off after failures: past a fluke, the held requests learn why now (else they ask again at its end)
      if (state.refusing()) this.d.routing.revisionFailed(state.name, state.lastFailure?.cause ?? 'its instances fail', waitMs);
      return;
    }
    // (a frozen instance holds its share of the project's quota already)
    const frozen = state.inPhase('frozen').find((i) => !i.idleFrozen);
    if (frozen) return this.track(this.freezer.thaw(state, frozen, why, askedAt));
    // reserved against the project's quota before anything is started (quota-gate.ts)
    const id = state.inPhase('pre-created')[0]?.id ?? instanceId(state.name);
    if (!this.quota.admit(state, id)) return;
    const pooled = this.pool.take(state);
    if (pooled) return this.track(this.launcher.launch(state, pooled, 'pool', why, askedAt));
    this.track(this.launcher.launch(state, this.newInstance(state, 'starting', id), 'created', why, askedAt));
  }

  private watchExit(state: RevisionState, inst: TrackedInstance): void {
    void this.d.instances.watch(inst.id).then(
      (exit) => this.onExited(state, inst, exit),
      (err: unknown) => this.d.log.warn({ err, instance: inst.id }, 'watching an instance failed'),
    );
  }

  /** An instance's process ended though nobody stopped it: a crash, before or after it was ready. */
  private onExited(state: RevisionState, inst: TrackedInstance, exit: ExitReason | undefined): void {
    if (inst.phase === 'draining' || !state.instances.has(inst.id) || this.stopped) return;
    this.track(
      (async () => {
        // its last lines first: removing the instance deletes its logs
        const cause = `${inst.id} ${exitText(exit, state.record.spec.memoryBytes)}${await lastOutput(this.d.instances, inst.id)}`;
        // a node that went down took it: replaced at once, never a crash loop's back-off (a node with
        // several instances would otherwise make their revision refuse requests)
        if (exit?.nodeLost !== undefined) this.writes.event(state.record.service, state.name, 'node-lost', cause);
        else {
          this.writes.event(state.record.service, state.name, 'exited', cause);
          this.failed(state, cause);
        }
        await this.remove(state, inst);
        await this.tick();
      })(),
    );
  }

  /**
   * A start failed or an instance crashed. Starts back off exponentially, as Kubernetes' CrashLoopBackOff
   * does (1 s, 2 s, 4 s … 5 min), so a broken app does not restart in a tight loop. One failure may be a
   * fluke: held requests wait for the next start. From the second in a row the revision cannot start,
   * and the gateway answers its held and new requests with the cause until the next start, instead of
   * holding them until their timeout. An instance that stays ready CRASH_RESET_MS ends the loop (tick).
   */
  private failed(state: RevisionState, cause: string): void {
    const now = this.d.clock.now();
    state.failures++;
    state.failuresTotal++;
    const backoffMs = Math.min(CRASH_BACKOFF_BASE_MS * 2 ** (state.failures - 1), CRASH_BACKOFF_MAX_MS);
    state.backoffUntil = now + backoffMs;
    state.lastFailure = { cause, at: now };
    this.writes.event(state.record.service, state.name, 'back-off', `failure ${state.failures}: next start in ${backoffMs / 1000}s`);
    if (state.refusing()) {
      this.pushRoutes(); // its share goes back to the revision that served before, if there is one
      this.d.routing.revisionFailed(state.name, cause, backoffMs);
    } else {
      this.d.clock.after(backoffMs, () => this.d.routing.capacityFailed(state.name)); // held requests ask again then
    }
    this.d.clock.after(backoffMs, () => void this.tick());
  }

  /** Warms `revision` up to one instance until one has been ready (or it failed VERIFY_ATTEMPTS times
   *  in a row), whatever its traffic and scale: a deploy that waits sees the app start, or why not. */
  verify(service: string, revision: string): void {
    this.verifying.set(revision, { service, call: ++this.verifyCalls });
  }

  /** Where a revision stands: its crash loop, if any (describe, and `skiff deploy` waiting on it). */
  revisionStatus(revision: string): { started: boolean; failures: number; lastFailure?: string; nextStartAt?: number } {
    const state = this.revisions.get(revision);
    if (!state) return { started: this.startedAndGone.has(revision), failures: 0 };
    return { started: state.proven, failures: state.failures, ...(state.lastFailure ? { lastFailure: state.lastFailure.cause } : {}), ...(state.backoffUntil > this.d.clock.now() ? { nextStartAt: state.backoffUntil } : {}) };
  }

  private checkLiveness(state: RevisionState, now: number): void {
    const probe = state.record.spec.liveness;
    if (!probe) return;
    for (const inst of state.ready()) {
      if (now < inst.nextLivenessAt) continue;
      inst.nextLivenessAt = now + probe.periodMs;
      this.track(
        this.d.probes.check(inst.address!, probe.path, probe.timeoutMs).then((outcome) => {
          inst.livenessFailures = outcome === 'ready' ? 0 : inst.livenessFailures + 1;
          if (inst.livenessFailures >= probe.failureThreshold && inst.phase === 'ready') {
            this.writes.event(state.record.service, state.name, 'liveness', `${inst.id} failed ${inst.livenessFailures} liveness probes; restarting`);
            return this.drain(state, inst, 'liveness');
          }
        }),
      );
    }
  }

  private async drain(state: RevisionState, inst: TrackedInstance, why: string): Promise<void> {
    if (inst.phase === 'draining') return;
    const wasStarting = inst.phase === 'starting';
    inst.phase = 'draining';
    this.writes.recordInstance(inst.id, state.name, state.record.service, 'draining', inst.address);
    this.publish(state);
    // Requests held for capacity may have been waiting for it: they ask again now, not after its stop.
    if (wasStarting) this.d.routing.capacityFailed(state.name);
    const grace = state.record.spec.drainGraceMs;
    await this.waitIdle(state, inst, this.d.clock.now() + Math.max(grace, state.record.spec.timeoutMs));
    this.d.log.debug({ instance: inst.id, why }, 'stopping drained instance');
    await this.remove(state, inst, grace);
  }

  private waitIdle(state: RevisionState, inst: TrackedInstance, until: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.d.clock.after(until - this.d.clock.now(), resolve);
      void this.d.routing.whenIdle(state.name, inst.id).then(() => {
        cancel();
        resolve();
      });
    });
  }

  private async remove(state: RevisionState, inst: TrackedInstance, graceMs = 0): Promise<void> {
    this.d.log.debug({ instance: inst.id, phase: inst.phase }, 'removing instance');
    state.instances.delete(inst.id);
    state.cpuSeen.delete(inst.id);
    this.publish(state);
    this.removing.set(inst.id, state.name);
    try {
      await this.deleteInstance(inst, graceMs);
    } finally {
      this.removing.delete(inst.id);
    }
  }

  /** remove()'s stop and delete, once the instance is no longer tracked or routed */
  private async deleteInstance(inst: TrackedInstance, graceMs: number): Promise<void> {
    // Stopping while a create still runs would race it (the create would leave a mount behind).
    await inst.created;
    try {
      if (graceMs > 0) await this.d.instances.stop(inst.id, graceMs);
    } catch (err) {
      this.d.log.warn({ err, instance: inst.id }, 'failed to stop instance; deleting it');
    }
    // A delete can fail for a moment (a cgroup whose last process is still exiting, a mount still
    // held): tried again with back-off, or the instance would run on untracked until a restart's sweep.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.d.instances.delete(inst.id);
        break;
      } catch (err) {
        if (attempt >= DELETE_RETRIES_MS.length || this.stopped) {
          this.d.log.error({ err, instance: inst.id }, 'failed to delete instance; the next start removes it');
          break;
        }
        this.d.log.warn({ err, instance: inst.id, attempt: attempt + 1 }, 'failed to delete instance; trying again');
        await this.d.clock.sleep(DELETE_RETRIES_MS[attempt]!);
      }
    }
    this.quota.release(inst.id); // only now: until deleted it holds its memory
    this.writes.forgetInstance(inst.id);
  }

  private publish(state: RevisionState): void {
    this.d.routing.setEndpoints(
      state.name,
      state.ready().map((i) => ({ id: i.id, host: i.address!.host, port: i.address!.port })),
    );
    // Which revision takes a share depends on which have ready instances (rollout.ts): a revision's
    // first ready instance moves its share to it now, not at the next tick — once the API reports it
    // ready, the gateway already routes to it.
    this.pushRoutes();
    for (const tell of this.publishWaiters) tell();
  }

  /** Pushes each service's effective traffic to the gateway when it changed; returns the revisions
   *  that take a share. */
  private pushRoutes(): Set<string> {
    const readyCount = (rev: string) => this.revisions.get(rev)?.count('ready') ?? 0;
    const failing = (rev: string) => this.revisions.get(rev)?.refusing() ?? false;
    const routedServices = this.services.map((s) => ({ ...s, traffic: effectiveTraffic(s, readyCount, failing) }));
    this.routed = new Set(takingTraffic(routedServices));
    this.sharing = sharing(routedServices);
    const signature = routedServices.map((s) => `${s.name}@${s.tenant}/${s.spec.ingress ?? ''}/${s.spec.protocol ?? ''}:${s.traffic.map((t) => `${t.revision}=${t.percent}${t.tag !== undefined ? `#${t.tag}` : ''}`).join(',')}`).join(';');
    if (signature !== this.routesSignature) {
      this.routesSignature = signature;
      this.d.routing.setRoutes(routedServices);
    }
    return this.routed;
  }

  private reload(): Promise<void> {
    // One at a time, in call order: two overlapping reloads could finish out of order, and the one
    // that read first would leave desired state as it was before the other — a deleted service kept
    // alive in memory with its pre-created instance (seen as a leak after 20 concurrent deploys + rm).
    const next = this.reloading.then(() => this.readDesired());
    this.reloading = next.catch(() => undefined);
    return next;
  }

  /** Reads the desired services and loads the revisions their traffic names, and each service's
   *  previous serving revision (the rollout's fallback); new bounds of a service go to its revisions'
   *  autoscalers, which keep what they observed. */
  private async readDesired(): Promise<void> {
    const verifyCallsBefore = this.verifyCalls;
    const services = await this.d.desired.services();
    for (const svc of services) {
      // the revision that served before is loaded too: a new revision in a crash loop sends it its share
      // and so is one a deploy verifies, which may take no traffic (--no-traffic)
      const verified = [...this.verifying].flatMap(([revision, v]) => (v.service === svc.name ? [revision] : []));
      for (const name of [...svc.traffic.map((t) => t.revision), ...(svc.previousServing ? [svc.previousServing] : []), ...verified]) {
        const state = this.revisions.get(name) ?? (await this.load(name, svc));
        if (state && (state.scale.min !== svc.scale.min || state.scale.max !== svc.scale.max)) {
          state.scale = svc.scale;
          state.scaler.update(svc.scale);
        }
      }
    }
    this.services = services;
    this.keepAlives.configure(services);
    // a deleted service's revisions are forgotten: a new service of that name starts at generation 1
    // (a verification asked for while this read was under way stays: its service may be newer than
    // what the read saw; the next read decides)
    const live = new Set(services.map((s) => s.name));
    for (const [revision, v] of this.verifying) if (!live.has(v.service) && v.call <= verifyCallsBefore) this.verifying.delete(revision);
    for (const [revision, service] of this.startedAndGone) if (!live.has(service)) this.startedAndGone.delete(revision);
  }

  private async load(name: string, svc: ServiceRecord): Promise<RevisionState | undefined> {
    const record = await this.d.desired.revision(name);
    if (!record || this.revisions.has(name)) return this.revisions.get(name);
    const state = new RevisionState(record, svc.scale, this.d.scalers(record, svc.scale), svc.tenant);
    this.revisions.set(name, state);
    this.d.routing.setRevision(record);
    return state;
  }

  /** Revisions without traffic whose instances are all gone are forgotten (and leave the gateway). */
  private dropFinishedRevisions(inUse: Set<string>): void {
    for (const [name, state] of this.revisions) {
      if (inUse.has(name) || state.instances.size > 0) continue;
      this.revisions.delete(name);
      if (state.proven) this.startedAndGone.set(name, state.record.service);
      this.d.coldStarts?.forget(name);
      this.d.routing.removeRevision(name);
    }
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }
}
