// scheduler/write-behind: the scheduler's store writes (instance records, events, keep-alive state), queued and applied in
// order 100 ms later. The store is better-sqlite3 with synchronous=FULL: each write blocks the event
// loop for an fsync (1–5 ms here), and a cold start used to make four of them between "the instance is
// ready" and its waiting request's first byte. Restart safety does not need them sooner: an instance
// missing from the record is an orphan and is removed, a record without an instance is forgotten.
import type { DesiredStatePort } from './ports.ts';

type Writes = Pick<DesiredStatePort, 'recordInstance' | 'forgetInstance' | 'event' | 'saveKeepAlive'>;

export class WriteBehind implements Writes {
  private readonly queue: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Writes,
    private readonly delayMs = 100,
  ) {}

  recordInstance(...a: Parameters<Writes['recordInstance']>): void {
    this.push(() => this.store.recordInstance(...a));
  }

  forgetInstance(...a: Parameters<Writes['forgetInstance']>): void {
    this.push(() => this.store.forgetInstance(...a));
  }

  event(...a: Parameters<Writes['event']>): void {
    this.push(() => this.store.event(...a));
  }

  saveKeepAlive(...a: Parameters<Writes['saveKeepAlive']>): void {
    this.push(() => this.store.saveKeepAlive(...a));
  }

  /** Applies every queued write now (on stop). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const write of this.queue.splice(0)) write();
  }

  private push(write: () => void): void {
    this.queue.push(write);
    this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }
}
