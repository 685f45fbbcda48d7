// serving/merge-sorted: sorted streams merged in order, ties to the earlier stream, and a reader that
// stops early closes every source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeSorted } from '../../src/serving/merge-sorted.ts';

async function* stream<T>(items: T[], closed?: { count: number }): AsyncGenerator<T> {
  try {
    for (const i of items) yield i;
  } finally {
    if (closed) closed.count++;
  }
}

test('interleaves sorted streams in order; an equal item of an earlier stream comes first', async () => {
  const out: string[] = [];
  const sources = [stream(['1a', '3a', '5a']), stream([]), stream(['2b', '3b', '9b']), stream(['0c'])];
  for await (const x of mergeSorted(sources, (a, b) => a[0]! < b[0]!)) out.push(x);
  assert.deepEqual(out, ['0c', '1a', '2b', '3a', '3b', '5a', '9b']);
});

test('a reader that stops early closes every source', async () => {
  const closed = { count: 0 };
  for await (const x of mergeSorted([stream([1, 4], closed), stream([2, 3], closed)], (a, b) => a < b)) if (x === 2) break;
  assert.equal(closed.count, 2);
});
