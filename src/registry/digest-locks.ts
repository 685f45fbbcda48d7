// registry/digest-locks: one FIFO lock per digest, in process. Committing content (bytes, then the
// metadata row) and GC's "no row, so delete the bytes" both run under the digest's lock, so a commit
// is never undone by a stale check.
export class DigestLocks {
  private readonly held = new Map<string, Promise<void>>();

  /** Runs `fn` after every earlier holder of `digest`'s lock has finished. */
  async with<T>(digest: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.held.get(digest);
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    this.held.set(digest, current);
    try {
      await previous;
      return await fn();
    } finally {
      release();
      if (this.held.get(digest) === current) this.held.delete(digest);
    }
  }
}
