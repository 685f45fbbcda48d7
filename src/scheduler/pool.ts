// scheduler/pool: pre-created instances (image, rootfs, network, bundle and `runc create` done; only
// `runc start` left). Revisions with traffic and minScale 0 keep `poolPerRevision` of them, at most
// `poolMax` on the node; the pool is refilled in the background after one is taken, and a failed
// pre-create (a broken image) pauses refilling for a while. Emptying the pool of a revision that lost
// its traffic is the scheduler's (it removes frozen instances at the same time).
import type { InstanceHost } from './lifecycle.ts';
import type { RevisionState, TrackedInstance } from './revision-state.ts';

/** a failed pre-create (broken image) is not retried for this long */
const POOL_RETRY_PAUSE_MS = 10_000;

export class PreCreatedPool {
  constructor(private readonly h: InstanceHost) {}

  /** Takes a pre-created instance for starting (phase `starting`), or undefined when there is none. */
  take(state: RevisionState): TrackedInstance | undefined {
    const pooled = state.inPhase('pre-created')[0];
    if (!pooled) return undefined;
    pooled.phase = 'starting';
    pooled.startedAt = this.h.clock.now();
    this.h.writes.recordInstance(pooled.id, state.name, state.record.service, 'starting', undefined);
    return pooled;
  }

  /** Keeps the revision's pool full (within the node-wide bound). */
  replenish(state: RevisionState): void {
    const h = this.h;
    if (h.stopped() || state.record.spec.scaling.minScale > 0 || h.clock.now() < state.poolPausedUntil) return;
    let total = 0;
    for (const s of h.revisions()) total += s.count('pre-created');
    for (let n = state.count('pre-created'); n < h.options.poolPerRevision && total < h.options.poolMax; n++, total++) {
      const inst = h.newInstance(state, 'pre-created');
      inst.created = h.instances.create(state.record, inst.id).then(
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
}
