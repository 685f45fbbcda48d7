// scheduler/launcher: brings one instance to ready — creates it (or waits for its pre-creation to
// finish), `runc start`, then readiness probes in a tight loop (back to back for the first
// milliseconds, since a small app listens within a few, then backing off to the probe period) →
// ready → published to the gateway. A failed start, or no readiness by the deadline, is a failure:
// the scheduler backs off and the gateway answers held requests with the cause (scheduler.failed).
// A cold start a request waited for has its breakdown recorded (cold-start-stats.ts).
import type { InstanceAddress, ListeningSocket } from '../core/instance.ts';
import type { ColdStartSource } from './cold-start-stats.ts';
import type { InstanceHost } from './lifecycle.ts';
import type { PreCreatedPool } from './pool.ts';
import type { RevisionState, TrackedInstance } from './revision-state.ts';

/** readiness probes go back to back this long after start (a small app listens within a few ms) */
const PROBE_SPIN_MS = 10;
/** an app not ready this long after start has its listening sockets looked at (every second): some
 *  apps open another port first, so only a second look that still misses the port is a verdict */
const LISTEN_CHECK_AFTER_MS = 5000;
const LISTEN_CHECK_EVERY_MS = 1000;

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/** Why `socks` cannot be what serves `address`, or undefined when they can (or nothing listens yet). */
export function listeningProblem(socks: ListeningSocket[], address: InstanceAddress): string | undefined {
  if (socks.length === 0) return undefined;
  const onPort = socks.filter((s) => s.port === address.port);
  const where = (list: ListeningSocket[]) => [...new Set(list.map((s) => `${s.address}:${s.port}`))].join(', ');
  if (onPort.length === 0) {
    const ports = [...new Set(socks.map((s) => s.port))].sort((a, b) => a - b);
    return `it listens on ${where(socks)}, not on port ${address.port} (the service's port): deploy it with --port ${ports[0]}, or make it listen on $PORT`;
  }
  const reachable = onPort.some((s) => s.address === '0.0.0.0' || s.address === '::' || s.address === address.host || !LOOPBACK.test(s.address));
  if (!reachable) return `it listens on ${where(onPort)} only, which the gateway cannot reach: make it listen on 0.0.0.0 (all interfaces)`;
  return undefined;
}

export class Launcher {
  constructor(
    private readonly h: InstanceHost,
    private readonly pool: PreCreatedPool,
  ) {}

  async launch(state: RevisionState, inst: TrackedInstance, source: ColdStartSource, why: string, askedAt: number | undefined): Promise<void> {
    const began = performance.now();
    let created: number;
    try {
      if (source === 'pool') {
        // Its creation may still be running; if it failed, create afresh.
        if (!(await inst.created)) {
          await this.h.remove(state, inst);
          if (!this.h.stopped()) this.h.startInstance(state, why, askedAt);
          return;
        }
      } else {
        await this.h.instances.create(inst.id, state.instanceSpec());
        this.h.watchExit(state, inst);
      }
      created = performance.now();
      inst.address = await this.h.instances.start(inst.id);
    } catch (err) {
      this.h.log.warn({ err, instance: inst.id }, 'instance failed to start');
      const cause = `${inst.id} failed to start: ${(err as Error).message}`;
      this.h.writes.event(state.record.service, state.name, 'start-failed', cause);
      await this.h.remove(state, inst);
      // backs off, so a broken image cannot spin the start loop, and held requests get the cause
      this.h.failed(state, cause);
      return;
    }
    const started = performance.now();
    if (source === 'pool') {
      this.h.writes.event(state.record.service, state.name, 'pool-hit', `${inst.id} started from the pool (${why})`);
      this.pool.replenish(state);
    }
    this.h.writes.recordInstance(inst.id, state.name, state.record.service, 'starting', inst.address);
    const probes = await this.awaitReady(state, inst, why);
    if (probes === undefined || askedAt === undefined) return;
    // For a pool instance `created` is only the wait for its creation to finish (0 when it had).
    this.h.coldStarts?.stages(state.name, { instance: inst.id, source, queuedMs: began - askedAt, createdMs: created - began, startedMs: started - created, readyMs: performance.now() - started, probes });
  }

  /** Probes until ready; resolves with the number of probes, or undefined if it never became ready. */
  async awaitReady(state: RevisionState, inst: TrackedInstance, why: string): Promise<number | undefined> {
    const probe = state.record.spec.readiness;
    const deadline = this.h.clock.now() + this.h.readinessDeadlineMs;
    const spinUntil = performance.now() + PROBE_SPIN_MS;
    let delayMs = 1;
    let probes = 0;
    let nextListenCheck = this.h.clock.now() + LISTEN_CHECK_AFTER_MS;
    let suspect: string | undefined;
    // (an instance removed meanwhile, e.g. it exited, is no longer probed)
    while (inst.phase === 'starting' && state.instances.get(inst.id) === inst && !this.h.stopped()) {
      probes++;
      if ((await this.h.probes.check(inst.address!, probe.path, probe.timeoutMs)) === 'ready') {
        if (inst.phase !== 'starting') return undefined;
        inst.phase = 'ready';
        inst.readyAt = this.h.clock.now();
        state.proven = true;
        inst.nextLivenessAt = this.h.clock.now() + (state.record.spec.liveness?.periodMs ?? 0);
        this.h.writes.recordInstance(inst.id, state.name, state.record.service, 'ready', inst.address);
        this.h.publish(state);
        this.h.writes.event(state.record.service, state.name, 'ready', `${inst.id} ready in ${this.h.clock.now() - inst.startedAt} ms (${why})`);
        return probes;
      }
      // Listening, but not where it can be reached: a verdict in seconds, not at the deadline.
      if (this.h.clock.now() >= nextListenCheck) {
        nextListenCheck = this.h.clock.now() + LISTEN_CHECK_EVERY_MS;
        const socks = await this.h.instances.listening(inst.id);
        // the app's own view: the service's port inside it (a swarm instance's address has the node's published port)
        const problem = socks && listeningProblem(socks, { host: inst.address!.host, port: state.record.spec.port });
        if (problem && problem === suspect && inst.phase === 'starting') {
          const cause = `${inst.id} is not reachable: ${problem}`;
          this.h.writes.event(state.record.service, state.name, 'not-ready', cause);
          this.h.failed(state, cause);
          await this.h.drain(state, inst, 'listens elsewhere');
          return undefined;
        }
        suspect = problem;
      }
      if (this.h.clock.now() > deadline) {
        const socks = await this.h.instances.listening(inst.id);
        const what = probe.path
          ? `its readiness check GET ${probe.path} on port ${state.record.spec.port} never answered 2xx or 3xx`
          : `nothing accepted connections on port ${state.record.spec.port} (the service's port)${socks && socks.length === 0 ? '; it listens on no TCP port at all' : ''}`;
        const cause = `${inst.id} not ready after ${this.h.readinessDeadlineMs / 1000}s: ${what}`;
        this.h.writes.event(state.record.service, state.name, 'not-ready', cause);
        this.h.failed(state, cause);
        await this.h.drain(state, inst, 'readiness deadline');
        return undefined;
      }
      // Back to back at first: a refused connect costs ~0.1 ms, and setTimeout cannot wait less than
      // 1 ms. Then backing off to the probe period.
      if (performance.now() < spinUntil) {
        await new Promise((r) => setImmediate(r));
        continue;
      }
      await this.h.clock.sleep(delayMs);
      delayMs = Math.min(delayMs * 2, probe.periodMs);
    }
    return undefined;
  }
}
