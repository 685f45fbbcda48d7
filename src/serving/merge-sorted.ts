// serving/merge-sorted: several async streams, each already in order, read as one stream in order (a
// k-way merge). Holds one item per stream, so `skiff logs` interleaves every instance's lines by time
// with memory that does not grow with the logs. Of equal items, the earlier stream's comes first.
export async function* mergeSorted<T>(sources: Array<AsyncIterable<T>>, before: (a: T, b: T) => boolean): AsyncGenerator<T> {
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  try {
    const heads: Array<IteratorResult<T>> = await Promise.all(iterators.map((it) => it.next()));
    for (;;) {
      let best = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i]!;
        if (!h.done && (best < 0 || before(h.value, (heads[best] as IteratorYieldResult<T>).value))) best = i;
      }
      if (best < 0) return;
      yield (heads[best] as IteratorYieldResult<T>).value;
      heads[best] = await iterators[best]!.next();
    }
  } finally {
    // a reader that stops early (a closed HTTP response) closes every source (files, watchers)
    await Promise.allSettled(iterators.map((it) => it.return?.()));
  }
}
