// WriteBehind: the scheduler's store writes are applied later, in order, and at once on flush().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteBehind } from '../../src/scheduler/write-behind.ts';

test('writes are queued, applied in order after the delay, and at once by flush()', async () => {
  const applied: string[] = [];
  const store = {
    recordInstance: (id: string, _rev: string, _svc: string, state: string) => void applied.push(`record ${id} ${state}`),
    forgetInstance: (id: string) => void applied.push(`forget ${id}`),
    event: (_svc: string, _rev: string | null, kind: string) => void applied.push(`event ${kind}`),
    saveKeepAlive: (svc: string) => void applied.push(`keep-alive ${svc}`),
  };
  const w = new WriteBehind(store, 30);
  w.recordInstance('a', 'r', 's', 'starting', undefined);
  w.event('s', 'r', 'ready', 'a ready');
  w.forgetInstance('a');
  w.saveKeepAlive('s', '{}');
  assert.deepEqual(applied, [], 'nothing is written synchronously');
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(applied, ['record a starting', 'event ready', 'forget a', 'keep-alive s']);
  w.event('s', null, 'deleted', 'x');
  w.flush();
  assert.equal(applied.at(-1), 'event deleted');
  w.flush();
  assert.equal(applied.length, 5, 'a flush applies each write once');
});
