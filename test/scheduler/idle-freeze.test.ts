// CPU only during requests (scheduler/idle-freeze.ts): the pure decision, then the scheduler under a
// FakeClock with the fake driver — a min-1 instance idle for coldStart.idleFreezeMs is frozen (and
// still counts: nothing else starts), a request thaws it, a busy one is never frozen, and a cpuAlways
// service never is. The real-instance side (a background ticker stops while frozen) is in
// test/serving/cpu-always.test.ts.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { Scheduler } from '../../src/scheduler/scheduler.ts';
import type { RoutingPort } from '../../src/scheduler/ports.ts';
import { idleInstancesToFreeze, lastBusy } from '../../src/scheduler/idle-freeze.ts';
import { kpaScalers } from '../../src/daemon/serving-adapters.ts';
import { FakeDriver } from '../helpers/fake-driver.ts';
import { desiredState, startOnFakeClock, TICK } from './fake-clock.ts';

test('the decision: ready, nothing in flight, idle for the delay; never with cpuAlways, a busy revision or delay 0', () => {
  const base = { cpuAlways: false, delayMs: 3000, now: 10_000, revisionBusy: false };
  const inst = (id: string, idleSince: number, active = 0, phase = 'ready') => ({ id, phase, idleSince, active });
  const instances = [inst('a', 7000), inst('b', 7001), inst('c', 1000, 1), inst('d', 0, 0, 'starting')];
  assert.deepEqual(idleInstancesToFreeze({ ...base, instances }), ['a'], 'idle exactly the delay: frozen; a ms less, in flight or not ready: not');
  assert.deepEqual(idleInstancesToFreeze({ ...base, cpuAlways: true, instances }), []);
  assert.deepEqual(idleInstancesToFreeze({ ...base, revisionBusy: true, instances }), []);
  assert.deepEqual(idleInstancesToFreeze({ ...base, delayMs: 0, instances }), []);
  assert.equal(lastBusy(5, 1, false, 9), 9);
  assert.equal(lastBusy(5, 0, true, 9), 9);
  assert.equal(lastBusy(5, 0, false, 9), 5);
});

async function setup(t: TestContext) {
  const clock = new FakeClock(1_000_000);
  const driver = new FakeDriver();
  const { port: desired, deploy } = desiredState();
  const endpoints = new Map<string, string[]>();
  const active = new Map<string, number>();
  const samples = new Map<string, { concurrency: number; arrivals: number }>();
  const routing: RoutingPort = {
    setRevision: () => {},
    removeRevision: () => {},
    setEndpoints: (rev, eps) => void endpoints.set(rev, eps.map((e) => e.id)),
    setRoutes: () => {},
    sample: () => new Map(samples),
    activeOf: (_rev, id) => active.get(id) ?? 0,
    whenIdle: async () => {},
    capacityFailed: () => {},
    revisionFailed: () => {},
  };
  const scheduler = new Scheduler({
    instances: driver,
    probes: { check: async () => 'ready' },
    scrape: { scrape: async () => undefined },
    routing,
    desired,
    scalers: kpaScalers,
    clock,
    log: silentLogger,
    tickMs: TICK,
    coldStart: { poolPerRevision: 0, poolMax: 0, frozenMemoryBytes: 0, idleFreezeMs: 3000 },
  });
  const advance = await startOnFakeClock(t, scheduler, driver, clock);
  const phases = (rev: string) => scheduler.describe(rev).map((i) => i.phase);
  return { driver, scheduler, deploy, endpoints, active, samples, advance, phases };
}

test('a min-1 instance idle for idleFreezeMs is frozen and still counts; a request thaws it; busy or cpuAlways, never', async (t) => {
  const s = await setup(t);
  const rev = s.deploy({ name: 'bg', scaling: { min: 1, max: 3 } });
  const always = s.deploy({ name: 'ticker', scaling: { min: 1, max: 3 }, cpuAlways: true });
  await s.scheduler.refresh();
  await s.advance(2 * TICK);
  assert.deepEqual(s.phases(rev.name), ['ready']);
  assert.deepEqual(s.phases(always.name), ['ready']);
  await s.advance(3 * TICK);
  assert.deepEqual(s.phases(rev.name), ['frozen'], 'frozen after 3 s without a request');
  assert.deepEqual(s.endpoints.get(rev.name), [], 'unpublished: a request goes through the activator');
  const [id] = s.scheduler.describe(rev.name).map((i) => i.id);
  assert.equal((await s.driver.inspect(id!))?.status, 'paused');
  await s.advance(10 * TICK);
  assert.equal(s.driver.started, 2, 'the frozen min instance still counts: nothing else was started');
  assert.deepEqual(s.phases(always.name), ['ready'], 'cpuAlways: never frozen');

  // a request waits: the activator asks, the frozen instance is thawed and published again
  s.scheduler.requestCapacity(rev.name);
  await s.advance(TICK);
  assert.deepEqual(s.phases(rev.name), ['ready']);
  assert.equal((await s.driver.inspect(id!))?.status, 'running');
  assert.deepEqual(s.endpoints.get(rev.name), [id]);
  // a long request in flight: not frozen, however long
  s.active.set(id!, 1);
  await s.advance(10 * TICK);
  assert.deepEqual(s.phases(rev.name), ['ready'], 'a request in flight keeps the CPU');
  s.active.set(id!, 0);
  await s.advance(2 * TICK);
  assert.deepEqual(s.phases(rev.name), ['ready'], 'the delay counts from the end of the last request');
  await s.advance(2 * TICK);
  assert.deepEqual(s.phases(rev.name), ['frozen']);
  assert.equal(s.driver.started, 2);
});

test('min 2, both frozen: one request thaws one; more requests in flight than running instances thaw the other', async (t) => {
  const s = await setup(t);
  const rev = s.deploy({ name: 'pair', scaling: { min: 2, max: 4 } });
  await s.scheduler.refresh();
  await s.advance(6 * TICK);
  assert.deepEqual(s.phases(rev.name), ['frozen', 'frozen']);
  s.scheduler.requestCapacity(rev.name);
  s.samples.set(rev.name, { concurrency: 1, arrivals: 1 });
  await s.advance(TICK);
  assert.deepEqual(s.phases(rev.name).sort(), ['frozen', 'ready'], 'one request: one thawed');
  s.samples.set(rev.name, { concurrency: 2, arrivals: 2 });
  await s.advance(TICK);
  assert.deepEqual(s.phases(rev.name), ['ready', 'ready'], 'two in flight: the other thawed too');
  assert.equal(s.driver.started, 2, 'nothing new started');
  s.samples.delete(rev.name);
  await s.advance(5 * TICK);
  assert.deepEqual(s.phases(rev.name), ['frozen', 'frozen']);
});
