// triggers/backlog: the per-service backlog the scheduler scales on — broker figures of the triggers
// feeding a service added to its due invocations; a broker that fails or answers late is unknown for
// that round (its trigger shows no figure) and never holds the others back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BacklogMonitor, type BacklogSource } from '../../src/triggers/backlog.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';

test('backlog: broker backlogs and due invocations summed per service; a failing or silent broker is unknown', async () => {
  const clock = new FakeClock(1000);
  let ordersWaiting = 40;
  const sources: BacklogSource[] = [
    { trigger: 'orders', service: 'shop', backlog: async () => ordersWaiting },
    { trigger: 'refunds', service: 'shop', backlog: async () => 2 },
    { trigger: 'down', service: 'mail', backlog: () => Promise.reject(new Error('connection refused')) },
    { trigger: 'slow', service: 'mail', backlog: () => new Promise(() => {}) },
    { trigger: 'mqtt', service: 'sensors', backlog: async () => undefined },
  ];
  const dueAt: number[] = [];
  const m = new BacklogMonitor({
    sources: () => sources,
    dueByService: async (now) => (dueAt.push(now), new Map([['mail', 3], ['report', 1]])),
    clock,
    log: silentLogger,
    everyMs: 50, // the slow broker's answer is given up after this (real time)
  });
  assert.deepEqual(m.backlog(), new Map(), 'nothing measured yet');
  await m.poll();
  assert.deepEqual(m.backlog(), new Map([['shop', 42], ['mail', 3], ['report', 1]]));
  assert.deepEqual(dueAt, [1000], 'due as of the clock');
  assert.equal(m.brokerBacklog('orders'), 40);
  assert.equal(m.brokerBacklog('down'), undefined);
  assert.equal(m.brokerBacklog('slow'), undefined);
  assert.equal(m.brokerBacklog('mqtt'), undefined);

  // polled on the clock: the next round sees the queue drained
  ordersWaiting = 0;
  m.start();
  await clock.advance(60);
  await m.poll();
  m.stop();
  assert.equal(m.backlog().get('shop'), 2);
  assert.equal(m.brokerBacklog('orders'), 0);
});

test('backlog: rounds never overlap; a store failure counts no invocations but keeps the brokers', async () => {
  const clock = new FakeClock(0);
  let calls = 0;
  const m = new BacklogMonitor({
    sources: () => [{ trigger: 't', service: 's', backlog: async () => (calls++, 5) }],
    dueByService: () => Promise.reject(new Error('database is locked')),
    clock,
    log: silentLogger,
  });
  await Promise.all([m.poll(), m.poll(), m.poll()]);
  assert.equal(calls, 1);
  assert.deepEqual(m.backlog(), new Map([['s', 5]]));
});
