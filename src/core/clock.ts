// core/clock: time is a parameter. Deciders take `now`; components that wait (the scheduler's tick,
// its drains, probes and retries) take a Clock and wait on it, never on setTimeout directly, so a
// test with a FakeClock steps through minutes of their life in milliseconds and nothing hangs.

export interface Clock {
  /** milliseconds since the epoch, on this clock */
  now(): number;
  /** resolves once `ms` of this clock's time have passed */
  sleep(ms: number): Promise<void>;
  /** calls `fn` once after `ms`; the returned function cancels it. Never keeps the process alive. */
  after(ms: number, fn: () => void): () => void;
  /** calls `fn` every `ms` until the returned function is called. Never keeps the process alive. */
  every(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref();
    return () => clearInterval(t);
  },
};

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  /** repeat period; absent for a one-shot timer */
  every?: number;
}

/** A clock that moves only when told. `advance` fires due timers in time order and lets the promise
 *  chains they start run between them, so awaited work behind a timer completes before the next. */
export class FakeClock implements Clock {
  private readonly timers = new Set<Timer>();
  private seq = 0;

  constructor(private t = 0) {}

  now(): number {
    return this.t;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.after(ms, resolve));
  }

  after(ms: number, fn: () => void): () => void {
    return this.add({ at: this.t + Math.max(0, ms), seq: this.seq++, fn });
  }

  every(ms: number, fn: () => void): () => void {
    if (!(ms > 0)) throw new RangeError('every: the period must be positive');
    return this.add({ at: this.t + ms, seq: this.seq++, fn, every: ms });
  }

  /** timers waiting to fire */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer due on the way (and those they add). */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (let next = this.next(end); next; next = this.next(end)) {
      this.t = next.at;
      if (next.every) next.at += next.every;
      else this.timers.delete(next);
      next.fn();
      await settle();
    }
    this.t = end;
    await settle();
  }

  private next(end: number): Timer | undefined {
    let best: Timer | undefined;
    for (const timer of this.timers) {
      if (timer.at > end) continue;
      if (!best || timer.at < best.at || (timer.at === best.at && timer.seq < best.seq)) best = timer;
    }
    return best;
  }

  private add(timer: Timer): () => void {
    this.timers.add(timer);
    return () => void this.timers.delete(timer);
  }
}

/** Lets pending promise callbacks and I/O callbacks of the current turn run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
