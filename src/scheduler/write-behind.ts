// scheduler/write-behind: the scheduler's store writes (instance records, events, keep-alive state),
// queued and applied in order 100 ms later. On SQLite each write blocks the event loop for an fsync
// (1–5 ms here), on PostgreSQL it is a round trip; a cold start used to make four of them between "the
// instance is ready" and its waiting request's first byte. Restart safety does not need them sooner:
// an instance missing from the record is an orphan and is removed, a record without an instance is
// forgotten. A write that fails is logged and the rest still apply.
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { DesiredStatePort } from './ports.ts';

type Writes = Pick<DesiredStatePort, 'recordInstance' | 'forgetInstance' | 'event' | 'saveKeepAlive'>;
type Queued = { [K in keyof Writes]: Parameters<Writes[K]> };

export class WriteBehind {
  private readonly queue: Array<() => Promise<void>> = [];
  private cancelTimer: (() => void) | undefined;
  /** the flush applying writes now; the next one waits for it so order holds */
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Writes,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly delayMs = 100,
  ) {}

  recordInstance(...a: Queued['recordInstance']): void {
    this.push(() => this.store.recordInstance(...a));
  }

  forgetInstance(...a: Queued['forgetInstance']): void {
    this.push(() => this.store.forgetInstance(...a));
  }

  event(...a: Queued['event']): void {
    this.push(() => this.store.event(...a));
  }

  saveKeepAlive(...a: Queued['saveKeepAlive']): void {
    this.push(() => this.store.saveKeepAlive(...a));
  }

  /** Applies every write queued so far; resolves once they (and any earlier flush) are stored. */
  flush(): Promise<void> {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const writes = this.queue.splice(0);
    this.flushing = this.flushing.then(async () => {
      for (const write of writes) await write().catch((err: unknown) => this.log.error({ err }, 'a scheduler store write failed'));
    });
    return this.flushing;
  }

  private push(write: () => Promise<void>): void {
    this.queue.push(write);
    this.cancelTimer ??= this.clock.after(this.delayMs, () => void this.flush());
  }
}
