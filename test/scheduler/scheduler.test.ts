// Scheduler + gateway + SQLite store together, over real HTTP on loopback. Instances are the
// fake driver's HTTP servers; the runc driver is covered by the runtime and serving integration tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readGauge } from '../../src/scheduler/probes.ts';
import { FAST, get, setup, until } from './harness.ts';

test('first request to a scaled-to-zero service is served; after the idle window it is back to zero', async (t) => {
  const s = await setup(t);
  const { revision } = await s.deploy({ name: 'hello', scaling: { ...FAST } });
  assert.equal(s.instances.countOf(revision.name), 0);
  const r = await get(s.url, 'hello.test');
  assert.equal(r.status, 200);
  assert.match(r.body, new RegExp(`^${revision.name} `));
  assert.ok(Number(r.headers['x-skiff-cold-start']) >= 0);
  assert.equal(s.instances.started, 1);
  await until('scale to zero', () => s.instances.countOf(revision.name) === 0, 15_000);
  const events = (await s.events('hello')).map((e) => e.kind);
  assert.ok(events.includes('ready') && events.includes('scale'), events.join(','));
});

test('200 concurrent requests to a cold service with concurrency 10: no errors, several instances', async (t) => {
  const s = await setup(t);
  s.instances.latencyMs = 100;
  const { revision } = await s.deploy({ name: 'burst', scaling: { ...FAST, concurrency: 10, max: 30 } });
  const results = await Promise.all(Array.from({ length: 200 }, () => get(s.url, 'burst.test')));
  assert.deepEqual([...new Set(results.map((r) => r.status))], [200]);
  const served = new Set(results.map((r) => r.body.split(' ')[1]));
  assert.ok(served.size > 1, `served by ${served.size} instance(s)`);
  assert.ok(s.instances.countOf(revision.name) > 1);
});

test('a redeploy under load drops nothing, then the old revision drains away', async (t) => {
  const s = await setup(t);
  s.instances.latencyMs = 20;
  const v1 = (await s.deploy({ name: 'roll', scaling: { ...FAST, min: 1 } })).revision;
  await until('v1 ready', () => s.instances.countOf(v1.name) === 1);
  let stop = false;
  const statuses: number[] = [];
  const bodies: string[] = [];
  const load = Promise.all(
    Array.from({ length: 8 }, async () => {
      while (!stop) {
        const r = await get(s.url, 'roll.test');
        statuses.push(r.status);
        bodies.push(r.body);
      }
    }),
  );
  await new Promise((r) => setTimeout(r, 300));
  const v2 = (await s.deploy({ name: 'roll', scaling: { ...FAST, min: 1 }, env: { V: '2' } })).revision;
  await until('v2 serving', () => bodies.slice(-20).every((b) => b.startsWith(v2.name)) && bodies.length > 20);
  await until('v1 drained', () => s.instances.countOf(v1.name) === 0);
  stop = true;
  await load;
  assert.ok(statuses.length > 50);
  assert.deepEqual([...new Set(statuses)], [200]);
});

test('traffic split, rollback, and a crashed instance is replaced', async (t) => {
  const s = await setup(t);
  const v1 = (await s.deploy({ name: 'split', scaling: { ...FAST, min: 1 } })).revision;
  const v2 = (await s.deploy({ name: 'split', scaling: { ...FAST, min: 1 } })).revision;
  await s.setTraffic('split', [{ revision: v1.name, percent: 50 }, { revision: v2.name, percent: 50 }]);
  await until('both revisions ready', () => s.instances.countOf(v1.name) === 1 && s.instances.countOf(v2.name) === 1);
  const seen = new Set<string>();
  for (let i = 0; i < 60; i++) seen.add((await get(s.url, 'split.test')).body.split(' ')[0]!);
  assert.deepEqual([...seen].sort(), [v1.name, v2.name]);

  await s.setTraffic('split', [{ revision: v1.name, percent: 100 }]);
  await until('rolled back to v1', () => s.instances.countOf(v2.name) === 0);
  for (let i = 0; i < 10; i++) assert.match((await get(s.url, 'split.test')).body, new RegExp(`^${v1.name}`));

  const [crashId] = [...s.instances.live].find(([, i]) => i.revision === v1.name)!;
  s.instances.live.get(crashId)!.crash();
  await until('replacement', () => [...s.instances.live].some(([id, i]) => i.revision === v1.name && id !== crashId));
  assert.equal((await get(s.url, 'split.test')).status, 200);
});

test('--no-traffic and --tag: the split stays, a tagged revision answers at TAG--NAME from zero, a verified untagged one starts once and goes', async (t) => {
  const s = await setup(t);
  const v1 = (await s.deploy({ name: 'tags', scaling: { ...FAST } })).revision;
  const v2 = (await s.deploy({ name: 'tags', scaling: { ...FAST } }, { routing: { noTraffic: true, tag: 'cand' } })).revision;
  assert.deepEqual((await s.store.getService('tags'))!.traffic, [{ revision: v1.name, percent: 100 }, { revision: v2.name, percent: 0, tag: 'cand' }]);
  for (let i = 0; i < 5; i++) assert.match((await get(s.url, 'tags.test')).body, new RegExp(`^${v1.name} `), 'the split did not move');
  const tagged = await get(s.url, 'cand--tags.test');
  assert.equal(tagged.status, 200, tagged.body);
  assert.match(tagged.body, new RegExp(`^${v2.name} `), 'the tag reaches its revision, started from zero');
  assert.match((await get(s.url, 'x.test', '/s/cand--tags/')).body, new RegExp(`^${v2.name} `), 'and by path');
  assert.equal((await get(s.url, 'other--tags.test')).status, 404);

  // a verified deploy without traffic or tag: one instance proves it starts, then it goes (nothing routes to it)
  const v3 = (await s.deploy({ name: 'tags', scaling: { ...FAST, min: 1 } }, { routing: { noTraffic: true }, verify: true })).revision;
  await until('v3 started once', () => s.scheduler().revisionStatus(v3.name).started);
  await until('v3 gone again', () => s.instances.countOf(v3.name) === 0);
  assert.equal(s.scheduler().revisionStatus(v3.name).started, true, 'its status still says it started');
  assert.match((await get(s.url, 'tags.test')).body, new RegExp(`^${v1.name} `));
  assert.match((await get(s.url, 'cand--tags.test')).body, new RegExp(`^${v2.name} `), 'the tag stayed on v2');

  // a plain deploy takes all traffic and keeps the tags where they are; a tag moved by a deploy leaves v2
  const v4 = (await s.deploy({ name: 'tags', scaling: { ...FAST } }, { routing: { tag: 'cand' } })).revision;
  assert.deepEqual((await s.store.getService('tags'))!.traffic, [{ revision: v4.name, percent: 100 }, { revision: v4.name, percent: 0, tag: 'cand' }]);
  await until('v4 serves', async () => (await get(s.url, 'tags.test')).body.startsWith(v4.name));
  assert.match((await get(s.url, 'cand--tags.test')).body, new RegExp(`^${v4.name} `));
  await until('v2 (no longer tagged) scaled away', () => s.instances.countOf(v2.name) === 0);
});

test('a failing liveness probe restarts the instance; a restarted scheduler re-adopts running instances', async (t) => {
  const s = await setup(t);
  const rev = (await s.deploy({ name: 'live', scaling: { ...FAST, min: 1 }, liveness: { path: '/healthz', period: '0.1s', failureThreshold: 2 } })).revision;
  await until('ready', () => s.instances.countOf(rev.name) === 1);
  const [firstId, first] = [...s.instances.live][0]!;
  first.healthy = false;
  await until('restarted', () => !s.instances.live.has(firstId) && s.instances.countOf(rev.name) === 1);
  assert.ok((await s.events('live')).some((e) => e.kind === 'liveness'));

  const before = [...s.instances.live.keys()];
  const started = s.instances.started;
  await s.restartScheduler();
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual([...s.instances.live.keys()], before, 're-adopted, not replaced');
  assert.equal(s.instances.started, started);
  assert.equal((await get(s.url, 'live.test')).status, 200);
});

test('pool: scale from zero starts a pre-created instance, the pool refills, within the node-wide bound, and goes with the service', async (t) => {
  const s = await setup(t, undefined, { coldStart: { poolPerRevision: 1, poolMax: 2, frozenMemoryBytes: 0 } });
  const { revision } = await s.deploy({ name: 'pool', scaling: { ...FAST } });
  await s.deploy({ name: 'other', scaling: { ...FAST } });
  await s.deploy({ name: 'third', scaling: { ...FAST } });
  await s.deploy({ name: 'pinned', scaling: { ...FAST, min: 1 } });
  await until('pre-created', () => s.scheduler().describe(revision.name).length === 1 && s.instances.created >= 3);
  await new Promise((r) => setTimeout(r, 300));
  const phases = () => [...s.instances.live.values()].filter((i) => !i.server).length;
  assert.equal(phases(), 2, 'two pre-created instances on the node (poolMax), none for minScale 1');
  const [pooled] = s.scheduler().describe(revision.name);
  assert.equal(pooled!.phase, 'pre-created');
  assert.equal(s.instances.countOf(revision.name), 0, 'pre-created, not started');
  await s.restartScheduler();
  // (its startedAt is now the adoption's: a restarted scheduler knows no earlier start)
  const idPhase = (list: Array<{ id: string; phase: string }>) => list.map(({ id, phase }) => ({ id, phase }));
  assert.deepEqual(idPhase(s.scheduler().describe(revision.name)), idPhase([pooled!]), 'a restarted scheduler re-adopts the pool');

  const r = await get(s.url, 'pool.test');
  assert.equal(r.status, 200);
  assert.equal(r.body, `${revision.name} ${pooled!.id}`);
  assert.ok((await s.events('pool')).some((e) => e.kind === 'pool-hit'));
  await until('refilled', () => s.scheduler().describe(revision.name).some((i) => i.phase === 'pre-created' && i.id !== pooled!.id));

  await s.store.deleteService('pool');
  await s.scheduler().refresh();
  await until('nothing left of the service', () => [...s.instances.live.values()].every((i) => i.revision !== revision.name));
  assert.deepEqual(s.scheduler().describe(revision.name), []);
});

test('pool: at the node-wide bound, a revision with recent requests takes the slot of one never requested; busy ones keep theirs', async (t) => {
  const s = await setup(t, undefined, { coldStart: { poolPerRevision: 1, poolMax: 1, frozenMemoryBytes: 0 } });
  const a = (await s.deploy({ name: 'idle-one', scaling: { ...FAST } })).revision;
  await until('the idle service holds the only slot', () => s.scheduler().describe(a.name).some((i) => i.phase === 'pre-created'));
  const b = (await s.deploy({ name: 'busy-one', scaling: { ...FAST } })).revision;
  assert.equal((await get(s.url, 'busy-one.test')).status, 200);
  await until('the slot moved to the service in use', () => s.scheduler().describe(b.name).some((i) => i.phase === 'pre-created') && s.scheduler().describe(a.name).length === 0);
  assert.ok((await s.events('idle-one')).some((e) => e.kind === 'pool-yielded'));
  // both requested now: neither is idle past the steal bound, so the slot stays where it is
  assert.equal((await get(s.url, 'idle-one.test')).status, 200);
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(s.scheduler().describe(b.name).some((i) => i.phase === 'pre-created'), 'a recently used service keeps its slot');
  assert.ok(!s.scheduler().describe(a.name).some((i) => i.phase === 'pre-created'));
});

test('freezeIdle: an idle instance is frozen, the next request thaws the same one; past the memory budget it is evicted', async (t) => {
  const s = await setup(t, undefined, { coldStart: { poolPerRevision: 0, poolMax: 0, frozenMemoryBytes: 1000 } });
  const { revision } = await s.deploy({ name: 'ice', scaling: { ...FAST, freezeIdle: true } });
  const first = await get(s.url, 'ice.test');
  const id = first.body.split(' ')[1]!;
  await until('frozen', () => s.instances.live.get(id)?.paused === true && s.scheduler().describe(revision.name)[0]?.phase === 'frozen', 15_000);
  const again = await get(s.url, 'ice.test');
  assert.equal(again.status, 200);
  assert.equal(again.body, `${revision.name} ${id}`, 'the frozen instance served, not a new one');
  assert.ok(Number(again.headers['x-skiff-cold-start']) >= 0);
  assert.equal(s.instances.live.get(id)?.paused, false);
  await until('frozen again', () => s.instances.live.get(id)?.paused === true, 15_000);
  await s.restartScheduler();
  assert.deepEqual(s.scheduler().describe(revision.name).map((i) => [i.id, i.phase]), [[id, 'frozen']], 'a restarted scheduler re-adopts frozen instances');
  assert.equal((await get(s.url, 'ice.test')).body, `${revision.name} ${id}`);
  assert.equal(s.instances.created, 1);
  assert.ok((await s.events('ice')).some((e) => e.kind === 'thawed'));

  s.instances.memoryBytes = 5000;
  await until('evicted', () => !s.instances.live.has(id), 15_000);
  assert.ok((await s.events('ice')).some((e) => e.kind === 'frozen-evicted'));
  assert.deepEqual(s.scheduler().describe(revision.name), []);
});

test('readGauge sums a metric across label sets and ignores comments', () => {
  const text = '# HELP q queue\n# TYPE q gauge\nq{a="1"} 3\nq{a="2"} 4.5\nqq 100\n';
  assert.equal(readGauge(text, 'q'), 7.5);
  assert.equal(readGauge(text, 'missing'), undefined);
});

test('an instance being stopped and deleted is still named for its logs until its delete returns', async (t) => {
  const s = await setup(t);
  // its stop waits out the grace: a long window where it is no longer tracked but not yet deleted
  s.instances.ignoreStopSignal = true;
  const { revision } = await s.deploy({ name: 'leaving', scaling: { ...FAST } });
  assert.equal((await get(s.url, 'leaving.test')).status, 200);
  const [id] = s.scheduler().instanceIds(revision.name);
  assert.ok(id);
  await until('scaling to zero: no longer tracked, still in the driver', () => s.scheduler().describe(revision.name).length === 0 && s.instances.countOf(revision.name) === 1, 15_000);
  // `skiff logs` reads the instances named here and then the driver's archive: it must be in one of them
  assert.deepEqual(s.scheduler().instanceIds(revision.name), [id]);
  await until('deleted', () => s.instances.countOf(revision.name) === 0, 30_000);
  await until('no longer named once deleted (its output is in the archive now)', () => s.scheduler().instanceIds(revision.name).length === 0, 5_000);
});
