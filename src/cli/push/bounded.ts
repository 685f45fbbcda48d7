// cli/push/bounded: a tiny bounded-parallelism loop (layer compression and uploads share it).

/** Runs fn over items with at most `limit` in flight; after the first failure no new item starts. */
export async function runBounded<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      await fn(item).catch((err: unknown) => {
        failed = true;
        throw err;
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
