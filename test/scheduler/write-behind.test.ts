// WriteBehind: the scheduler's store writes are applied later, in order, and at once on flush(); a
// failing write is logged and the rest still apply. The delay is on the injected clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteBehind } from '../../src/scheduler/write-behind.ts';
import { FakeClock } from '../../src/core/clock.ts';
import type { Logger } from '../../src/core/logger.ts';

function recorder(fail?: string) {
  const applied: string[] = [];
  const write = async (what: string) => {
    await new Promise((r) => setImmediate(r)); // an async store: each write takes a turn
    if (what === fail) throw new Error(`cannot ${what}`);
    applied.push(what);
  };
  const store = {
    recordInstance: (id: string, _rev: string, _svc: string, state: string) => write(`record ${id} ${state}`),
    forgetInstance: (id: string) => write(`forget ${id}`),
    event: (_svc: string, _rev: string | null, kind: string) => write(`event ${kind}`),
    saveKeepAlive: (svc: string) => write(`keep-alive ${svc}`),
  };
  return { applied, store };
}

function logger(errors: unknown[]): Logger {
  const log = { error: (o: unknown) => void errors.push(o), warn() {}, info() {}, debug() {}, child: () => log } as unknown as Logger;
  return log;
}

test('writes are queued, applied in order after the delay, and at once by flush()', async () => {
  const { applied, store } = recorder();
  const clock = new FakeClock();
  const w = new WriteBehind(store, clock, logger([]), 100);
  w.recordInstance('a', 'r', 's', 'starting', undefined);
  w.event('s', 'r', 'ready', 'a ready');
  w.forgetInstance('a');
  w.saveKeepAlive('s', '{}');
  await clock.advance(99);
  assert.deepEqual(applied, [], 'nothing is written before the delay');
  await clock.advance(1);
  await w.flush();
  assert.deepEqual(applied, ['record a starting', 'event ready', 'forget a', 'keep-alive s']);
  w.event('s', null, 'deleted', 'x');
  await w.flush();
  assert.equal(applied.at(-1), 'event deleted');
  await w.flush();
  assert.equal(applied.length, 5, 'a flush applies each write once');
  assert.equal(clock.pending, 0, 'no timer left after a flush');
});

test('a flush started while another is writing waits for it: order holds across flushes', async () => {
  const { applied, store } = recorder();
  const w = new WriteBehind(store, new FakeClock(), logger([]), 100);
  w.event('s', null, 'one', '');
  const first = w.flush();
  w.event('s', null, 'two', '');
  await w.flush();
  await first;
  assert.deepEqual(applied, ['event one', 'event two']);
});

test('a failing write is logged and the writes after it are still applied', async () => {
  const { applied, store } = recorder('event broken');
  const errors: unknown[] = [];
  const w = new WriteBehind(store, new FakeClock(), logger(errors), 100);
  w.event('s', null, 'broken', '');
  w.forgetInstance('b');
  await w.flush();
  assert.deepEqual(applied, ['forget b']);
  assert.equal(errors.length, 1);
});
