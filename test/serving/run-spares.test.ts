// serving/run-spares with a fake clock and fake create/delete: one spare per key, taken once (its
// create awaited), the least recently used key evicted past the bound, expiry, a failed create, stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { RunSpares } from '../../src/serving/run-spares.ts';

function setup(maxKeys = 2) {
  const clock = new FakeClock();
  const deleted: string[] = [];
  let n = 0;
  const spares = new RunSpares({ delete: async (id) => void deleted.push(id), newId: () => `run-${++n}`, clock, log: silentLogger, maxKeys, idleMs: 60_000 });
  const creates: string[] = [];
  const create = async (id: string) => void creates.push(id);
  return { clock, deleted, spares, creates, create };
}

test('a spare is created once per key, taken once, and its creation is awaited by the taker', async () => {
  const { spares, creates, create } = setup();
  assert.equal(await spares.take('a'), undefined);
  let release!: () => void;
  spares.replenish('a', (id) => new Promise<void>((r) => (release = () => (creates.push(id), r()))));
  spares.replenish('a', create); // one is under way: nothing more
  const taken = spares.take('a');
  release();
  assert.equal(await taken, 'run-1');
  assert.deepEqual(creates, ['run-1']);
  assert.equal(await spares.take('a'), undefined, 'taken once');
});

test('past maxKeys the least recently used key loses its spare; an idle spare expires', async () => {
  const { clock, deleted, spares, create } = setup(2);
  spares.replenish('a', create);
  spares.replenish('b', create);
  spares.replenish('a', create); // a used again: b is now the oldest
  spares.replenish('c', create);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(deleted, ['run-2']);
  assert.equal(await spares.take('b'), undefined);
  await clock.advance(60_000);
  assert.deepEqual(deleted.sort(), ['run-1', 'run-2', 'run-3']);
  assert.equal(await spares.take('a'), undefined);
});

test('a failed create leaves no spare and deletes nothing; stop deletes the rest and refuses new ones', async () => {
  const { deleted, spares, create } = setup();
  spares.replenish('bad', async () => {
    throw new Error('no space');
  });
  assert.equal(await spares.take('bad'), undefined);
  spares.replenish('a', create);
  await spares.stop();
  assert.deepEqual(deleted, ['run-2']);
  spares.replenish('b', create);
  assert.equal(await spares.take('b'), undefined);
});
