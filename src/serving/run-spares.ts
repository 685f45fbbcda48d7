// serving/run-spares: created-but-not-started run containers, one per recently run request, so the
// next identical `skiff run` skips `runc create` (the overlay mount, netns, veth, cgroup and runc's own
// create: ~300 ms of a ~450 ms run on the reference machine, docs/benchmarks.md) and only starts one —
// what the scheduler's pool does for services. A container's process, env and limits are fixed at
// create, so a spare serves only a request with the same key: image digest, command, env, limits,
// read-only root and capabilities. Nothing has run in a spare; whoever takes it stated exactly the
// container it is. Bounded: at most `maxKeys` kept (least recently used go first), each deleted after
// `idleMs` without a taker, all deleted at stop.
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';

export interface RunSparesDeps {
  delete(id: string): Promise<void>;
  newId(): string;
  clock: Clock;
  log: Logger;
  /** keys with a spare at once (default 4) */
  maxKeys?: number;
  /** a spare no run took within this long is deleted (default 5 min) */
  idleMs?: number;
}

interface Spare {
  id: string;
  /** settles true once created, false when the create failed */
  created: Promise<boolean>;
  cancelExpiry: () => void;
}

export class RunSpares {
  /** in least-recently-used order (a Map keeps insertion order; a use re-inserts) */
  private readonly spares = new Map<string, Spare>();
  private stopped = false;
  private readonly removals = new Set<Promise<void>>();

  constructor(private readonly d: RunSparesDeps) {}

  /** A created container for `key`, taken out of the pool (its creation awaited if still under way);
   *  undefined when there is none or its creation failed. */
  async take(key: string): Promise<string | undefined> {
    const spare = this.spares.get(key);
    if (!spare) return undefined;
    this.spares.delete(key);
    spare.cancelExpiry();
    return (await spare.created) ? spare.id : undefined;
  }

  /** Makes sure a spare for `key` exists or is being created (by `create`, the container of `key`'s
   *  request under the given id); the least recently used key beyond maxKeys loses its spare.
   *  Returns at once: the create runs in the background. */
  replenish(key: string, create: (id: string) => Promise<void>): void {
    if (this.stopped) return;
    const existing = this.spares.get(key);
    if (existing) {
      this.spares.delete(key); // re-inserted last: most recently used
      this.spares.set(key, existing);
      return;
    }
    const id = this.d.newId();
    const created = create(id).then(
      () => true,
      (err: unknown) => (this.d.log.warn({ err, run: id }, 'creating a spare run container failed'), false),
    );
    const spare: Spare = { id, created, cancelExpiry: this.d.clock.after(this.d.idleMs ?? 5 * 60_000, () => this.drop(key, spare)) };
    this.spares.set(key, spare);
    while (this.spares.size > (this.d.maxKeys ?? 4)) {
      const [oldest, s] = this.spares.entries().next().value as [string, Spare];
      this.drop(oldest, s);
    }
  }

  /** Deletes every spare (and waits for deletions under way); later replenish() calls do nothing. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const [key, s] of [...this.spares]) this.drop(key, s);
    await Promise.allSettled([...this.removals]);
  }

  private drop(key: string, spare: Spare): void {
    if (this.spares.get(key) !== spare) return;
    this.spares.delete(key);
    spare.cancelExpiry();
    const removal = spare.created
      .then((ok) => (ok ? this.d.delete(spare.id) : undefined))
      .catch((err: unknown) => this.d.log.warn({ err, run: spare.id }, 'deleting a spare run container failed'));
    this.removals.add(removal);
    void removal.finally(() => this.removals.delete(removal));
  }
}
