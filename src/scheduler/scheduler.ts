// scheduler/scheduler: converges running instances to the desired state, once a second and at once
// when the activator asks for capacity.
//
//   tick: sync revisions from the store → feed samples to each revision's autoscaler → decide →
//         start or drain instances → liveness checks → publish ready endpoints to the gateway.
//   start: InstancePort.start → readiness probe in a tight loop (µs-scale backoff, no 100 ms sleeps)
//          → ready → endpoints published; a failure is an event, and the activator may ask again.
//   drain: unpublish → wait until the gateway has no request in flight on it (bounded by the grace)
//          → stop signal, grace, SIGKILL → forget.
// Scale-from-zero is coalesced: while an instance of a revision is starting, further capacity
// requests for it start nothing more.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { RevisionRecord, ServiceRecord } from '../core/service.ts';
import type { DesiredStatePort, InstancePort, MetricScrapePort, ProbePort, RoutingPort, ScalerFactory } from './ports.ts';
import { RevisionState, type TrackedInstance } from './revision-state.ts';
import { effectiveTraffic } from './rollout.ts';

const START_RETRY_PAUSE_MS = 1000;

export interface SchedulerDeps {
  instances: InstancePort;
  probes: ProbePort;
  scrape: MetricScrapePort;
  routing: RoutingPort;
  desired: DesiredStatePort;
  scalers: ScalerFactory;
  clock: Clock;
  log: Logger;
  tickMs?: number;
  /** how long a new instance may take to become ready before it is replaced */
  readinessDeadlineMs?: number;
}

export class Scheduler {
  private readonly revisions = new Map<string, RevisionState>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private stopped = false;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly d: SchedulerDeps) {}

  /** Re-adopts instances that survived a daemon restart, removes orphans, then starts ticking. */
  async start(): Promise<void> {
    this.sync();
    const known = new Map(this.d.desired.knownInstances().map((i) => [i.id, i]));
    for (const inst of await this.d.instances.list()) {
      const state = this.revisions.get(inst.revision);
      if (!state || !inst.running || !known.has(inst.id)) {
        this.d.log.info({ instance: inst.id, revision: inst.revision }, 'removing orphan instance');
        await this.d.instances.stop(inst.id, 0);
        this.d.desired.forgetInstance(inst.id);
        continue;
      }
      const tracked: TrackedInstance = { id: inst.id, phase: 'starting', address: inst.address, startedAt: this.d.clock.now(), livenessFailures: 0, nextLivenessAt: 0 };
      state.instances.set(inst.id, tracked);
      this.track(this.awaitReady(state, tracked, 'adopted'));
      known.delete(inst.id);
    }
    for (const gone of known.keys()) this.d.desired.forgetInstance(gone);
    this.timer = setInterval(() => void this.tick(), this.d.tickMs ?? 1000);
    this.timer.unref();
  }

  /** Stops ticking; instances keep running so the next daemon can re-adopt them. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.pending]);
  }

  /** Activator hook: a request waits for this revision and no instance can take it. */
  requestCapacity(revision: string): void {
    const state = this.revisions.get(revision) ?? this.syncOne(revision);
    if (!state) return this.d.routing.capacityFailed(revision);
    state.scaler.poke(this.d.clock.now());
    if (state.count('starting') > 0) return;
    if (state.count('starting', 'ready') >= state.record.spec.scaling.maxScale) return;
    this.startInstance(state, 'request waiting (scale from zero)');
  }

  /** Current view for `skiff describe`. */
  describe(revision: string): Array<{ id: string; phase: string; address?: string }> {
    const s = this.revisions.get(revision);
    if (!s) return [];
    return [...s.instances.values()].map((i) => ({ id: i.id, phase: i.phase, ...(i.address ? { address: `${i.address.host}:${i.address.port}` } : {}) }));
  }

  /** Applies new scaling bounds of a service to its running revisions (their autoscalers restart). */
  setBounds(service: string): void {
    for (const state of this.revisions.values()) {
      if (state.record.service !== service) continue;
      const record = this.d.desired.revision(state.name);
      if (!record) continue;
      state.record = record;
      state.scaler = this.d.scalers(record);
      state.lastDesired = undefined;
    }
    void this.tick();
  }

  /** Re-reads desired state now (after a deploy, traffic change or delete) instead of at the next tick. */
  refresh(): void {
    this.sync();
    void this.tick();
  }

  async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      const services = this.sync();
      const now = this.d.clock.now();
      const samples = this.d.routing.sample();
      const readyCount = (rev: string) => this.revisions.get(rev)?.count('ready') ?? 0;
      const routedServices = services.map((s) => ({ ...s, traffic: effectiveTraffic(s, readyCount) }));
      const routed = new Set(routedServices.flatMap((s) => s.traffic.filter((t) => t.percent > 0).map((t) => t.revision)));
      const declared = new Set(services.flatMap((s) => s.traffic.filter((t) => t.percent > 0).map((t) => t.revision)));
      for (const state of this.revisions.values()) {
        const sample = samples.get(state.name) ?? { concurrency: 0, arrivals: 0 };
        const metric = await this.metricOf(state, sample, now);
        state.scaler.record(now, metric, sample.concurrency + sample.arrivals);
        // A declared revision whose share still goes to its predecessor is warmed up to one instance.
        const warmUp = declared.has(state.name) && !routed.has(state.name);
        this.scale(state, routed.has(state.name) || warmUp, warmUp, now);
        this.checkLiveness(state, now);
      }
      this.d.routing.setRoutes(routedServices);
      this.dropFinishedRevisions(new Set([...routed, ...declared]));
    } catch (err) {
      this.d.log.error({ err }, 'scheduler tick failed');
    } finally {
      this.ticking = false;
    }
  }

  private scale(state: RevisionState, hasTraffic: boolean, warmUp: boolean, now: number): void {
    const ready = state.count('ready');
    const live = state.count('starting', 'ready');
    let desired: number;
    if (!hasTraffic) {
      desired = 0;
    } else {
      const decision = state.scaler.decide(now, ready);
      if (!decision.valid) return;
      desired = warmUp ? Math.max(1, decision.desired) : decision.desired;
      if (desired !== state.lastDesired) {
        this.d.desired.event(state.record.service, state.name, 'scale', `desired ${desired} (was ${state.lastDesired ?? 'unset'}): ${decision.reason}`);
      }
    }
    state.lastDesired = desired;
    if (desired > live) {
      for (let i = live; i < desired; i++) this.startInstance(state, 'autoscaler');
    } else if (desired < live) {
      for (const victim of state.victims(live - desired)) this.track(this.drain(state, victim, hasTraffic ? 'scale down' : 'no traffic'));
    }
  }

  private startInstance(state: RevisionState, why: string): void {
    const id = `${state.name}-${randomBytes(3).toString('hex')}`;
    const tracked: TrackedInstance = { id, phase: 'starting', startedAt: this.d.clock.now(), livenessFailures: 0, nextLivenessAt: 0 };
    state.instances.set(id, tracked);
    this.d.desired.recordInstance(id, state.name, state.record.service, 'starting', undefined);
    this.track(
      (async () => {
        try {
          tracked.address = await this.d.instances.start(state.record, id);
        } catch (err) {
          this.d.log.warn({ err, instance: id }, 'instance failed to start');
          this.d.desired.event(state.record.service, state.name, 'start-failed', `${id}: ${(err as Error).message}`);
          await this.remove(state, tracked);
          // Held requests may ask again, after a pause so a broken image cannot spin the start loop.
          setTimeout(() => this.d.routing.capacityFailed(state.name), START_RETRY_PAUSE_MS).unref();
          return;
        }
        this.d.desired.recordInstance(id, state.name, state.record.service, 'starting', tracked.address);
        await this.awaitReady(state, tracked, why);
      })(),
    );
  }

  private async awaitReady(state: RevisionState, inst: TrackedInstance, why: string): Promise<void> {
    const probe = state.record.spec.readiness;
    const deadline = this.d.clock.now() + (this.d.readinessDeadlineMs ?? 60_000);
    let delayMs = 0.05;
    void this.d.instances.exited(inst.id).then(() => this.onExited(state, inst));
    while (inst.phase === 'starting' && !this.stopped) {
      if ((await this.d.probes.check(inst.address!, probe.path, probe.timeoutMs)) === 'ready') {
        if (inst.phase !== 'starting') return;
        inst.phase = 'ready';
        inst.nextLivenessAt = this.d.clock.now() + (state.record.spec.liveness?.periodMs ?? 0);
        this.d.desired.recordInstance(inst.id, state.name, state.record.service, 'ready', inst.address);
        this.publish(state);
        this.d.desired.event(state.record.service, state.name, 'ready', `${inst.id} ready in ${this.d.clock.now() - inst.startedAt} ms (${why})`);
        return;
      }
      if (this.d.clock.now() > deadline) {
        this.d.desired.event(state.record.service, state.name, 'not-ready', `${inst.id} not ready after ${this.d.readinessDeadlineMs ?? 60_000} ms; replacing`);
        await this.drain(state, inst, 'readiness deadline');
        this.d.routing.capacityFailed(state.name);
        return;
      }
      // Tight at first (a fast app is ready within a millisecond or two), backing off to the probe period.
      await new Promise((r) => setTimeout(r, delayMs));
      delayMs = Math.min(delayMs * 2, probe.periodMs);
    }
  }

  private onExited(state: RevisionState, inst: TrackedInstance): void {
    if (inst.phase === 'draining' || !state.instances.has(inst.id) || this.stopped) return;
    this.d.desired.event(state.record.service, state.name, 'exited', `${inst.id} exited unexpectedly; replacing`);
    this.track(this.remove(state, inst).then(() => this.tick()));
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
            this.d.desired.event(state.record.service, state.name, 'liveness', `${inst.id} failed ${inst.livenessFailures} liveness probes; restarting`);
            return this.drain(state, inst, 'liveness');
          }
        }),
      );
    }
  }

  private async drain(state: RevisionState, inst: TrackedInstance, why: string): Promise<void> {
    if (inst.phase === 'draining') return;
    inst.phase = 'draining';
    this.d.desired.recordInstance(inst.id, state.name, state.record.service, 'draining', inst.address);
    this.publish(state);
    const grace = state.record.spec.drainGraceMs;
    const until = this.d.clock.now() + Math.max(grace, state.record.spec.timeoutMs);
    while (!this.d.routing.idle(state.name, inst.id) && this.d.clock.now() < until) await new Promise((r) => setTimeout(r, 20));
    this.d.log.debug({ instance: inst.id, why }, 'stopping drained instance');
    await this.remove(state, inst, grace);
  }

  private async remove(state: RevisionState, inst: TrackedInstance, graceMs = 0): Promise<void> {
    state.instances.delete(inst.id);
    state.cpuSeen.delete(inst.id);
    this.publish(state);
    try {
      await this.d.instances.stop(inst.id, graceMs);
    } catch (err) {
      this.d.log.error({ err, instance: inst.id }, 'failed to stop instance');
    }
    this.d.desired.forgetInstance(inst.id);
  }

  private publish(state: RevisionState): void {
    this.d.routing.setEndpoints(
      state.name,
      state.ready().map((i) => ({ id: i.id, host: i.address!.host, port: i.address!.port })),
    );
  }

  private async metricOf(state: RevisionState, sample: { concurrency: number; arrivals: number }, now: number): Promise<number> {
    const s = state.record.spec.scaling;
    switch (s.metric) {
      case 'concurrency':
        return sample.concurrency;
      case 'rps':
        return sample.arrivals / ((this.d.tickMs ?? 1000) / 1000);
      case 'custom': {
        const values = await Promise.all(state.ready().map((i) => this.d.scrape.scrape(i.address!, s.customMetric!.path, s.customMetric!.name)));
        return values.reduce<number>((a, v) => a + (v ?? 0), 0);
      }
      case 'cpu':
      case 'memory': {
        let total = 0;
        for (const inst of state.ready()) {
          const st = await this.d.instances.stats(inst.id);
          if (!st) continue;
          if (s.metric === 'memory') {
            total += (st.memoryBytes / state.record.spec.memoryBytes) * 100;
            continue;
          }
          const prev = state.cpuSeen.get(inst.id);
          state.cpuSeen.set(inst.id, { at: now, nanos: st.cpuNanos });
          if (prev && now > prev.at) total += ((st.cpuNanos - prev.nanos) / 1e6 / (now - prev.at) / state.record.spec.cpus) * 100;
        }
        return total;
      }
    }
  }

  /** Loads the revisions that traffic names into memory. (A previous revision matters for rollout only
   *  while it has ready instances, and then it is already here.) */
  private sync(): ServiceRecord[] {
    const services = this.d.desired.services();
    for (const svc of services) for (const t of svc.traffic) this.syncOne(t.revision);
    return services;
  }

  private syncOne(name: string): RevisionState | undefined {
    const existing = this.revisions.get(name);
    if (existing) return existing;
    const record: RevisionRecord | undefined = this.d.desired.revision(name);
    if (!record) return undefined;
    const state = new RevisionState(record, this.d.scalers(record));
    this.revisions.set(name, state);
    this.d.routing.setRevision(record);
    return state;
  }

  /** Revisions without traffic whose instances are all gone are forgotten (and leave the gateway). */
  private dropFinishedRevisions(inUse: Set<string>): void {
    for (const [name, state] of this.revisions) {
      if (inUse.has(name) || state.instances.size > 0) continue;
      this.revisions.delete(name);
      this.d.routing.removeRevision(name);
    }
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }
}
