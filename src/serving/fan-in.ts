// serving/fan-in: several async streams read as one, in arrival order, with backpressure: each source
// is pumped only while fewer than `high` items wait, so a slow reader (an HTTP client following logs)
// holds memory to a bound instead of buffering every source's output.
export class FanIn<T> {
  private readonly queue: T[] = [];
  private wake: (() => void) | undefined;
  private space: Array<() => void> = [];
  private closed = false;

  constructor(private readonly high = 256) {}

  /** Pumps `source` until it ends, it throws (its error ends only it), or the fan-in is closed. */
  add(source: AsyncIterable<T>): void {
    void (async () => {
      try {
        for await (const item of source) {
          if (this.closed) return;
          while (this.queue.length >= this.high && !this.closed) await new Promise<void>((r) => this.space.push(r));
          this.queue.push(item);
          this.wake?.();
        }
      } catch {
        // a source that fails (an instance deleted mid-read) ends; the others go on
      }
    })();
  }

  /** Items as they arrive, until `signal` aborts. */
  async *read(signal: AbortSignal): AsyncGenerator<T> {
    const aborted = () => this.wake?.();
    signal.addEventListener('abort', aborted, { once: true });
    try {
      while (!signal.aborted) {
        const item = this.queue.shift();
        if (item !== undefined) {
          this.space.shift()?.();
          yield item;
          continue;
        }
        await new Promise<void>((r) => (this.wake = r));
        this.wake = undefined;
      }
    } finally {
      signal.removeEventListener('abort', aborted);
      this.closed = true;
      for (const r of this.space.splice(0)) r();
    }
  }
}
