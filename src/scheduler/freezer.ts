// scheduler/freezer: frozen idle instances. A freezeIdle revision going to zero has its idle ready
// instances unpublished, their last requests finished, and paused (cgroup freezer) instead of stopped;
// a request resumes one, published at once (it was ready when frozen). Frozen instances of the whole
// node share a memory budget (`frozenMemoryBytes`, 0 = freezing off), counted as each one's working
// set (usage minus reclaimable file cache: the kernel can take the cache back, not the rest); past it
// the oldest frozen instance is stopped. Which instance to freeze and when is the scheduler's decision.
import type { InstanceHost } from './lifecycle.ts';
import type { RevisionState, TrackedInstance } from './revision-state.ts';

export class Freezer {
  constructor(private readonly h: InstanceHost) {}

  get enabled(): boolean {
    return this.h.options.frozenMemoryBytes > 0;
  }

  /** A frozen instance found after a daemon restart: its memory is read again for the budget. */
  async adopt(inst: TrackedInstance): Promise<void> {
    inst.paused = Promise.resolve(true);
    inst.frozenAt = this.h.clock.now();
    inst.frozenBytes = (await this.h.instances.stats(inst.id))?.workingSetBytes ?? 0;
  }

  /** Unpublishes an idle instance, lets its last requests finish, and pauses it. `idle`: frozen between
   *  requests (idle-freeze.ts), still serving: no event (it happens after every quiet spell), outside the budget. */
  freeze(state: RevisionState, inst: TrackedInstance, idle = false): void {
    const h = this.h;
    inst.phase = 'frozen';
    inst.idleFrozen = idle;
    inst.frozenAt = h.clock.now();
    h.writes.recordInstance(inst.id, state.name, state.record.service, 'frozen', inst.address);
    h.publish(state);
    inst.paused = (async () => {
      await h.waitIdle(state, inst, h.clock.now() + state.record.spec.timeoutMs);
      try {
        await h.instances.pause(inst.id);
      } catch (err) {
        h.writes.event(state.record.service, state.name, 'freeze-failed', `${inst.id}: ${(err as Error).message}`);
        if (inst.phase === 'frozen') await h.remove(state, inst);
        return false;
      }
      const bytes = (await h.instances.stats(inst.id))?.workingSetBytes ?? 0;
      if (inst.phase === 'frozen') inst.frozenBytes = bytes;
      if (idle) h.log.debug({ instance: inst.id, bytes }, 'idle instance frozen until its next request');
      else h.writes.event(state.record.service, state.name, 'frozen', `${inst.id} frozen holding ${bytes} bytes`);
      this.evictOverBudget();
      return true;
    })();
    h.track(inst.paused);
  }

  /** An instance frozen between requests whose revision now goes to zero (freezeIdle): it stays frozen,
   *  as a frozen instance of that revision, under the node's budget. */
  keepFrozen(inst: TrackedInstance): void {
    inst.idleFrozen = false;
    inst.frozenAt = this.h.clock.now();
    void inst.paused?.then(() => this.evictOverBudget());
  }

  /** Resumes a frozen instance and publishes it once the resume succeeded; it was ready when frozen.
   *  If it cannot be resumed it is removed and another instance is started instead. */
  async thaw(state: RevisionState, inst: TrackedInstance, why: string, askedAt: number | undefined): Promise<void> {
    const h = this.h;
    inst.phase = 'starting';
    const began = performance.now();
    try {
      if (!(await inst.paused)) throw new Error('it was never paused');
      await h.instances.resume(inst.id);
    } catch (err) {
      h.writes.event(state.record.service, state.name, 'thaw-failed', `${inst.id}: ${(err as Error).message}`);
      await h.remove(state, inst);
      if (!h.stopped()) h.startInstance(state, why, askedAt);
      return;
    }
    const resumed = performance.now();
    if (inst.phase !== 'starting') return; // drained while resuming
    const idle = inst.idleFrozen === true;
    Object.assign(inst, { phase: 'ready', paused: undefined, frozenAt: undefined, frozenBytes: undefined, idleFrozen: undefined, startedAt: h.clock.now(), lastBusyAt: h.clock.now() });
    inst.nextLivenessAt = h.clock.now() + (state.record.spec.liveness?.periodMs ?? 0);
    h.writes.recordInstance(inst.id, state.name, state.record.service, 'ready', inst.address);
    h.publish(state);
    if (idle) h.log.debug({ instance: inst.id, ms: resumed - began }, 'idle-frozen instance thawed');
    else h.writes.event(state.record.service, state.name, 'thawed', `${inst.id} resumed in ${(resumed - began).toFixed(1)} ms (${why})`);
    if (askedAt !== undefined) h.coldStarts?.stages(state.name, { instance: inst.id, source: 'thawed', queuedMs: began - askedAt, createdMs: 0, startedMs: resumed - began, readyMs: 0, probes: 0 });
  }

  /** Removes the oldest frozen instances on this node until the rest fit in the memory budget. */
  private evictOverBudget(): void {
    const h = this.h;
    const owner = new Map<TrackedInstance, RevisionState>();
    // (instances frozen between requests are serving capacity, not a cache: never evicted)
    for (const s of h.revisions()) for (const i of s.inPhase('frozen')) if (i.frozenBytes !== undefined && !i.idleFrozen) owner.set(i, s);
    for (const victim of overBudget([...owner.keys()], h.options.frozenMemoryBytes)) {
      const s = owner.get(victim)!;
      h.writes.event(s.record.service, s.name, 'frozen-evicted', `${victim.id} (${victim.frozenBytes} bytes) evicted: frozen instances exceed ${h.options.frozenMemoryBytes} bytes`);
      h.track(h.remove(s, victim));
    }
  }
}

/** Frozen instances to evict, oldest first, until the rest fit in `budgetBytes`. */
export function overBudget(frozen: TrackedInstance[], budgetBytes: number): TrackedInstance[] {
  let total = frozen.reduce((a, i) => a + (i.frozenBytes ?? 0), 0);
  const out: TrackedInstance[] = [];
  for (const inst of [...frozen].sort((a, b) => (a.frozenAt ?? 0) - (b.frozenAt ?? 0))) {
    if (total <= budgetBytes) break;
    out.push(inst);
    total -= inst.frozenBytes ?? 0;
  }
  return out;
}
