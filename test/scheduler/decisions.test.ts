// The scheduler's decisions under a FakeClock: every wait it makes (tick, drain bound, readiness
// deadline and probe back-off, retry pauses, pre-warm) is on the injected clock, so minutes of its
// life pass in milliseconds and each boundary is checked to the tick. Instances are the fake driver's;
// probes, routing and desired state are hand-written fakes of a few lines; the autoscaler is the real
// KPA behind the daemon's adapter.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { Scheduler, type SchedulerDeps } from '../../src/scheduler/scheduler.ts';
import type { ProbeOutcome, RoutingPort } from '../../src/scheduler/ports.ts';
import { kpaScalers } from '../../src/daemon/serving-adapters.ts';
import { FakeDriver } from '../helpers/fake-driver.ts';
import { desiredState, startOnFakeClock, TICK } from './fake-clock.ts';

/** The gateway as the scheduler sees it: the test sets the samples and says when an instance is idle. */
function routing() {
  const endpoints = new Map<string, string[]>();
  const busy = new Map<string, () => void>();
  const samples = new Map<string, { concurrency: number; arrivals: number }>();
  let capacityFailures = 0;
  const refusals: Array<{ revision: string; cause: string; retryInMs: number }> = [];
  const routes = new Map<string, Array<{ revision: string; percent: number }>>();
  const port: RoutingPort = {
    setRevision: () => {},
    removeRevision: (rev) => void endpoints.delete(rev),
    setEndpoints: (rev, eps) => void endpoints.set(rev, eps.map((e) => e.id)),
    setRoutes: (services) => {
      routes.clear();
      for (const s of services) routes.set(s.name, s.traffic);
    },
    sample: () => new Map(samples),
    whenIdle: (_rev, id) => (busy.has(id) ? new Promise<void>((resolve) => busy.set(id, resolve)) : Promise.resolve()),
    capacityFailed: () => void capacityFailures++,
    revisionFailed: (revision, cause, retryInMs) => void refusals.push({ revision, cause, retryInMs }),
  };
  return {
    port,
    endpoints,
    routes,
    samples,
    /** the instance has a request in flight until `idle(id)` */
    hold: (id: string) => busy.set(id, () => {}),
    idle: (id: string) => {
      const tell = busy.get(id);
      busy.delete(id);
      tell?.();
    },
    capacityFailures: () => capacityFailures,
    /** the revisionFailed calls: requests answered with a cause instead of held */
    refusals,
  };
}

async function setup(t: TestContext, opts: Partial<SchedulerDeps> & { probe?: (id: string) => ProbeOutcome } = {}) {
  const clock = new FakeClock(1_000_000);
  const driver = new FakeDriver();
  const desired = desiredState();
  const route = routing();
  const addressOwner = new Map<number, string>();
  const scheduler = new Scheduler({
    instances: {
      create: (id, spec) => driver.create(id, spec),
      start: async (id) => {
        const address = await driver.start(id);
        addressOwner.set(address.port, id);
        return address;
      },
      pause: (id) => driver.pause(id),
      resume: (id) => driver.resume(id),
      stop: (id, grace) => driver.stop(id, grace),
      delete: (id) => driver.delete(id),
      list: () => driver.list(),
      watch: (id) => driver.watch(id),
      stats: (id) => driver.stats(id),
      logs: (id, o) => driver.logs(id, o),
      listening: (id) => driver.listening(id),
    },
    probes: { check: async (address) => opts.probe?.(addressOwner.get(address.port) ?? '') ?? 'ready' },
    scrape: { scrape: async () => undefined },
    routing: route.port,
    desired: desired.port,
    scalers: kpaScalers,
    clock,
    log: silentLogger,
    tickMs: TICK,
    ...opts,
  });
  const advance = await startOnFakeClock(t, scheduler, driver, clock);
  const live = (rev: string) => driver.countOf(rev);
  return { clock, driver, desired, route, scheduler, advance, live };
}

const QUICK = { window: '10s', idle: '10s', scaleToZeroGrace: '5s', keepAlive: 'fixed' as const };

test('a held request starts one instance; it goes away once idle window + grace have passed, not a tick before', async (t) => {
  const s = await setup(t);
  const rev = s.desired.deploy({ name: 'hello', scaling: QUICK });
  await s.scheduler.refresh();
  await s.advance(TICK); // the tick that routes it
  s.scheduler.requestCapacity(rev.name);
  s.scheduler.requestCapacity(rev.name); // coalesced: one start for the burst
  await s.advance(TICK);
  assert.equal(s.driver.started, 1);
  assert.deepEqual(s.route.endpoints.get(rev.name)?.length, 1, 'published when ready');
  await s.advance(13 * TICK);
  assert.equal(s.live(rev.name), 1, 'kept through idle window + grace (15 s)');
  await s.advance(3 * TICK);
  assert.equal(s.live(rev.name), 0, 'gone right after');
  assert.ok(s.desired.events.some((e) => e.kind === 'scale' && /desired 0/.test(e.message)));
});

test('a drain waits for the request in flight, bounded by the service timeout', async (t) => {
  const s = await setup(t);
  const rev = s.desired.deploy({ name: 'slow', scaling: { ...QUICK, idle: '2s', scaleToZeroGrace: '1s' }, timeout: '30s', drainGrace: '1s' });
  await s.scheduler.refresh();
  await s.advance(TICK);
  s.scheduler.requestCapacity(rev.name);
  await s.advance(TICK);
  const [id] = s.route.endpoints.get(rev.name)!;
  s.route.hold(id!); // a long request keeps it busy
  await s.advance(5 * TICK);
  assert.deepEqual(s.route.endpoints.get(rev.name), [], 'unpublished for the drain');
  assert.equal(s.live(rev.name), 1, 'still running: its request has not finished');
  await s.advance(20 * TICK);
  assert.equal(s.live(rev.name), 1, 'still inside the 30 s bound');
  await s.advance(10 * TICK);
  assert.equal(s.live(rev.name), 0, 'stopped at the bound though never idle');
});

test('a drained instance stops as soon as its last request finishes', async (t) => {
  const s = await setup(t);
  const rev = s.desired.deploy({ name: 'quick', scaling: { ...QUICK, idle: '2s', scaleToZeroGrace: '1s' }, timeout: '300s' });
  await s.scheduler.refresh();
  await s.advance(TICK);
  s.scheduler.requestCapacity(rev.name);
  await s.advance(TICK);
  const [id] = s.route.endpoints.get(rev.name)!;
  s.route.hold(id!);
  await s.advance(5 * TICK);
  assert.equal(s.live(rev.name), 1);
  s.route.idle(id!);
  await s.advance(TICK);
  assert.equal(s.live(rev.name), 0, 'stopped right after the request ended, not at the 300 s bound');
});

test('an instance never ready is replaced at the readiness deadline of clock time', async (t) => {
  let first: string | undefined;
  const s = await setup(t, { readinessDeadlineMs: 20_000, probe: (id) => ((first ??= id) === id ? 'not-ready' : 'ready') });
  // (an idle window longer than the deadline: the autoscaler must not drain it first)
  const rev = s.desired.deploy({ name: 'stuck', scaling: { ...QUICK, idle: '60s' }, readiness: { period: '1s' } });
  await s.scheduler.refresh();
  await s.advance(TICK);
  s.scheduler.requestCapacity(rev.name);
  await s.advance(18 * TICK);
  assert.equal(s.driver.started, 1, 'no replacement before the deadline');
  assert.ok(!s.desired.events.some((e) => e.kind === 'not-ready'));
  await s.advance(4 * TICK);
  assert.ok(s.desired.events.some((e) => e.kind === 'not-ready'), 'replaced at the deadline');
  await s.advance(2 * TICK);
  assert.equal(s.driver.started, 2);
  assert.equal(s.route.endpoints.get(rev.name)?.length, 1, 'the replacement serves');
});

test('a failed start: held requests ask again after a 1 s back-off; from the second failure in a row they get the cause, and starts back off 2 s, 4 s …', async (t) => {
  const s = await setup(t);
  const rev = s.desired.deploy({ name: 'broken', scaling: QUICK });
  await s.scheduler.refresh();
  await s.advance(TICK);
  s.driver.failStarts = true;
  const before = s.route.capacityFailures();
  s.scheduler.requestCapacity(rev.name);
  await s.clock.advance(150); // the create fails at once; its event is written behind (100 ms)
  assert.ok(s.desired.events.some((e) => e.kind === 'start-failed'));
  assert.equal(s.route.refusals.length, 0, 'one failure may be a fluke: requests stay held');
  await s.clock.advance(800);
  assert.equal(s.route.capacityFailures(), before, 'not within the back-off');
  await s.clock.advance(100);
  assert.equal(s.route.capacityFailures(), before + 1, 'at the end of the 1 s back-off');

  s.scheduler.requestCapacity(rev.name); // the held request asks again: the second start fails too
  await s.clock.advance(10);
  assert.ok(s.route.refusals.length >= 1, 'the second failure in a row refuses requests with the cause');
  const [first] = s.route.refusals;
  assert.equal(first!.revision, rev.name);
  assert.match(first!.cause, /failed to start: /);
  assert.equal(first!.retryInMs, 2000, 'the back-off doubled');
  const started = s.driver.started;
  const refused = s.route.refusals.length;
  s.scheduler.requestCapacity(rev.name); // within the back-off: refused again at once, nothing started
  await s.clock.advance(10);
  assert.equal(s.route.refusals.length, refused + 1);
  assert.ok(s.route.refusals.at(-1)!.retryInMs < 2000);
  assert.equal(s.driver.started, started, 'nothing starts during the back-off');
  assert.equal(s.scheduler.revisionStatus(rev.name).failures, 2);
});

test('pre-warm: instances ready without a request, kept until the deadline, then scaled away', async (t) => {
  const s = await setup(t);
  const rev = s.desired.deploy({ name: 'early', scaling: { ...QUICK, max: 3 } });
  await s.scheduler.refresh();
  const until = s.clock.now() + 60_000;
  const warming = s.scheduler.prewarm('early', { instances: 5, untilMs: until });
  await s.advance(TICK);
  assert.deepEqual(await warming, [{ revision: rev.name, instances: 3, ready: 3 }], 'bounded by max');
  await s.advance(58 * TICK);
  assert.equal(s.live(rev.name), 3, 'kept until the deadline, though no request came');
  await s.advance(3 * TICK);
  assert.equal(s.live(rev.name), 0, 'scaled away once it passed (no request ever: nothing to keep)');
});

test('new scale bounds reach the running revision and keep what its autoscaler observed', async (t) => {
  const s = await setup(t);
  const rev = s.desired.deploy({ name: 'busy', scaling: { ...QUICK, window: '60s', idle: '60s', concurrency: 10, target: 10, utilization: 100, max: 10 } });
  await s.scheduler.refresh();
  await s.advance(TICK);
  s.route.samples.set(rev.name, { concurrency: 40, arrivals: 40 });
  s.scheduler.requestCapacity(rev.name);
  await s.advance(10 * TICK);
  assert.equal(s.live(rev.name), 4, '40 in flight at 10 per instance');
  s.desired.setScale('busy', { min: 0, max: 2 });
  await s.scheduler.refresh();
  await s.advance(2 * TICK);
  assert.equal(s.live(rev.name), 2, 'the new max applies to the running revision');
  s.desired.setScale('busy', { min: 0, max: 10 });
  await s.scheduler.refresh();
  await s.advance(TICK);
  // a rebuilt autoscaler would have no samples (and decide nothing for a while); this one still knows 40
  assert.equal(s.live(rev.name), 4, 'back to 4 at the next tick');
  s.desired.setScale('busy', { min: 6, max: 10 });
  await s.scheduler.refresh();
  await s.advance(2 * TICK);
  assert.equal(s.live(rev.name), 6, 'a new min reaches the autoscaler of the running revision');
});

test("a new revision takes its share when its first instance is ready, not a tick later", async (t) => {
  let v2Ready = false;
  const s = await setup(t, { probe: (id) => (id.includes('-00002-') && !v2Ready ? 'not-ready' : 'ready') });
  const v1 = s.desired.deploy({ name: 'roll', scaling: { ...QUICK, min: 1 } });
  await s.scheduler.refresh();
  await s.advance(2 * TICK);
  assert.deepEqual(s.route.routes.get('roll'), [{ revision: v1.name, percent: 100 }]);
  const v2 = s.desired.deploy({ name: 'roll', scaling: { ...QUICK, min: 1 }, readiness: { period: '1s' } });
  await s.scheduler.refresh();
  await s.advance(3 * TICK);
  assert.deepEqual(s.route.routes.get('roll'), [{ revision: v1.name, percent: 100 }], 'v1 serves while v2 is not ready');
  v2Ready = true;
  // Small steps, so the probe that passes and the next tick fall in different ones.
  for (let i = 0; i < 300 && !s.route.endpoints.get(v2.name)?.length; i++) await s.clock.advance(10);
  assert.equal(s.route.endpoints.get(v2.name)?.length, 1, 'v2 became ready');
  assert.deepEqual(s.route.routes.get('roll'), [{ revision: v2.name, percent: 100 }], 'routed to v2 at once');
});

test('overlapping refreshes apply desired state in call order: a service removed by the later one stays removed', async (t) => {
  const s = await setup(t);
  s.desired.deploy({ name: 'gone', scaling: QUICK });
  await s.scheduler.refresh();
  await s.advance(TICK);
  assert.ok(s.route.routes.has('gone'));
  // The first refresh reads desired state (the service still there) but answers late; the second,
  // after the service was removed, answers at once.
  const read = s.desired.port.services;
  let release!: () => void;
  const late = new Promise<void>((r) => (release = r));
  s.desired.port.services = () => {
    s.desired.port.services = read; // only this call is late
    const snapshot = read();
    return late.then(() => snapshot);
  };
  const first = s.scheduler.refresh();
  s.desired.remove('gone');
  const second = s.scheduler.refresh();
  await new Promise((r) => setImmediate(r)); // (the second refresh, were it not queued, is done by now)
  release();
  await Promise.all([first, second]);
  await s.advance(TICK);
  assert.equal(s.route.routes.has('gone'), false, 'the removal is what the scheduler holds last');
});

test('an instance of a revision no one tracks (a killed daemon\'s late create) is removed by the next sweeps; a one-off run is not', async (t) => {
  const s = await setup(t);
  const rev = s.desired.deploy({ name: 'kept', scaling: QUICK });
  await s.scheduler.refresh();
  await s.advance(TICK);
  const base = { image: { repository: 'x/y', digest: `sha256:${'0'.repeat(64)}` }, service: 'kept', env: {}, readOnlyRoot: false, limits: { memoryBytes: 1 << 26, cpus: 0.5, pids: 64 } };
  await s.driver.create(`${rev.name}-abcdef`, { ...base, revision: rev.name, port: 8080 });
  await s.driver.start(`${rev.name}-abcdef`);
  await s.driver.create('run-0123456789ab', { ...base, command: ['fake', 'run'] });
  await s.advance(35 * TICK);
  assert.ok(await s.driver.inspect(`${rev.name}-abcdef`), 'one sweep only suspects it: a create may be finishing');
  await s.advance(30 * TICK);
  assert.equal(await s.driver.inspect(`${rev.name}-abcdef`), undefined, 'the second sweep removed it');
  assert.ok(await s.driver.inspect('run-0123456789ab'), 'a one-off run is its owner\'s');
});
