// scheduler/pool: pre-created instances (image, rootfs, network, bundle and `runc create` done; only
// `runc start` left). Revisions with traffic and minScale 0 keep `poolPerRevision` of them, at most
// `poolMax` on the node; the pool is refilled in the background after one is taken, and a failed
// pre-create (a broken image) pauses refilling for a while. When the node-wide bound is reached, a
// revision with recent requests takes the slot of the revision whose requests are oldest, if those
// are older than POOL_STEAL_IDLE_MS: with 500 services and 32 slots the pool follows the services in
// use instead of the first 32 deployed, and the idle bound keeps busy services from trading slots
// every tick. Emptying the pool of a revision that lost its traffic is the scheduler's (it removes
// frozen instances at the same time).
import type { InstanceHost } from './lifecycle.ts';
import type { RevisionState, TrackedInstance } from './revision-state.ts';

/** a failed pre-create (broken image) is not retried for this long */
const POOL_RETRY_PAUSE_MS = 10_000;
/** a pre-created instance may go to another revision once its own saw no request for this long */
const POOL_STEAL_IDLE_MS = 60_000;

export class PreCreatedPool {
  constructor(private readonly h: InstanceHost) {}

  /** Takes a pre-created instance for starting (phase `starting`), or undefined when there is none. */
  take(state: RevisionState): TrackedInstance | undefined {
    const pooled = state.inPhase('pre-created')[0];
    if (!pooled) return undefined;
    this.h.log.debug({ instance: pooled.id }, 'taking a pre-created instance');
    pooled.phase = 'starting';
    pooled.startedAt = this.h.clock.now();
    this.h.writes.recordInstance(pooled.id, state.name, state.record.service, 'starting', undefined);
    return pooled;
  }

  /** Keeps the revision's pool full (within the node-wide bound). */
  replenish(state: RevisionState): void {
    const h = this.h;
    if (h.stopped() || state.scale.min > 0 || h.clock.now() < state.poolPausedUntil) return;
    let total = 0;
    for (const s of h.revisions()) total += s.count('pre-created');
    for (let n = state.count('pre-created'); n < h.options.poolPerRevision; n++, total++) {
      if (total >= h.options.poolMax && !this.freeSlotFor(state)) return;
      const inst = h.newInstance(state, 'pre-created');
      h.log.debug({ instance: inst.id }, 'pre-creating an instance');
      inst.created = h.instances.create(inst.id, state.instanceSpec()).then(
        () => {
          h.watchExit(state, inst);
          return true;
        },
        (err: unknown) => {
          h.log.warn({ err, instance: inst.id }, 'pre-creating an instance failed');
          h.writes.event(state.record.service, state.name, 'pre-create-failed', `${inst.id}: ${(err as Error).message}`);
          state.poolPausedUntil = h.clock.now() + POOL_RETRY_PAUSE_MS;
          if (inst.phase === 'pre-created') h.track(h.remove(state, inst));
          return false;
        },
      );
      h.track(inst.created);
    }
  }

  /** Removes the pre-created instance of the revision requested longest ago (idle past
   *  POOL_STEAL_IDLE_MS) for a revision requested within it; false when there is none to take. */
  private freeSlotFor(state: RevisionState): boolean {
    const now = this.h.clock.now();
    if (state.lastRequestAt === undefined || now - state.lastRequestAt >= POOL_STEAL_IDLE_MS) return false;
    let victim: { state: RevisionState; inst: TrackedInstance } | undefined;
    for (const other of this.h.revisions()) {
      const last = other.lastRequestAt ?? -Infinity;
      if (other === state || now - last < POOL_STEAL_IDLE_MS) continue;
      const inst = other.inPhase('pre-created')[0];
      if (inst && (!victim || last < (victim.state.lastRequestAt ?? -Infinity))) victim = { state: other, inst };
    }
    if (!victim) return false;
    this.h.writes.event(victim.state.record.service, victim.state.name, 'pool-yielded', `${victim.inst.id} removed: its pool slot went to ${state.record.service}, requested more recently`);
    this.h.track(this.h.remove(victim.state, victim.inst));
    return true;
  }
}
