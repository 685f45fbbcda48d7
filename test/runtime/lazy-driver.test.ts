// test/runtime/lazy-driver.test: LazyDriver (src/runtime/lazy-driver.ts) over the fake driver — what
// builds the real driver and what answers without it. No root needed (runc-driver.test.ts checks the
// runc factory leaves the host untouched).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LazyDriver } from '../../src/runtime/lazy-driver.ts';
import { FakeDriver } from '../helpers/fake-driver.ts';
import { collect } from '../helpers/collect.ts';

const image = { repository: 'lazy/app', digest: `sha256:${'a'.repeat(64)}` };
const spec = { image, service: 'svc', revision: 'svc-00001', port: 8080, env: {}, readOnlyRoot: false, limits: { memoryBytes: 1 << 20, cpus: 1, pids: 10 } };

function lazy(opts: { leftovers?: boolean; failFirst?: boolean } = {}) {
  const inner = new FakeDriver();
  let builds = 0;
  let leftovers = opts.leftovers ?? false;
  const d = new LazyDriver(async () => {
    builds++;
    if (opts.failFirst && builds === 1) throw new Error('bridge failed');
    return inner;
  }, async () => leftovers);
  return { d, inner, builds: () => builds, setLeftovers: (v: boolean) => (leftovers = v) };
}

test('without instances, queries and ends answer "nothing here" without building', async () => {
  const { d, builds } = lazy();
  assert.deepEqual(await d.list(), []);
  await d.stop('svc-00001-abcdef', 1000);
  await d.delete('svc-00001-abcdef');
  assert.equal(await d.inspect('svc-00001-abcdef'), undefined);
  assert.equal(await d.stats('svc-00001-abcdef'), undefined);
  assert.equal(await d.watch('svc-00001-abcdef'), undefined);
  assert.deepEqual(await collect(d.logs('svc-00001-abcdef')), []);
  for await (const _ of d.followLogs('svc-00001-abcdef', AbortSignal.timeout(1000))) assert.fail('no lines');
  for (const op of [() => d.start('x'), () => d.pause('x'), () => d.resume('x')]) await assert.rejects(op(), { code: 'NOT_FOUND' });
  assert.equal(builds(), 0);
  assert.equal(d.built, false);
});

test('prepare and create build once (concurrent calls share the build); then every call goes through', async () => {
  const { d, inner, builds } = lazy();
  await Promise.all([d.prepare(image), d.prepare(image), d.create('svc-00001-abcdef', spec)]);
  assert.equal(builds(), 1);
  assert.equal(d.built, true);
  assert.deepEqual((await d.list()).map((i) => [i.id, i.status]), [['svc-00001-abcdef', 'created']]);
  await d.start('svc-00001-abcdef');
  assert.equal(inner.started, 1);
  await d.delete('svc-00001-abcdef');
  assert.equal(inner.live.size, 0);
});

test('instances left by an earlier driver make the first query build', async () => {
  const { d, builds, setLeftovers } = lazy();
  assert.deepEqual(await d.list(), []);
  assert.equal(builds(), 0);
  setLeftovers(true);
  assert.deepEqual(await d.list(), []);
  assert.equal(builds(), 1);
});

test('a failed build is not kept: the next call tries again', async () => {
  const { d, builds } = lazy({ failFirst: true });
  await assert.rejects(d.prepare(image), /bridge failed/);
  assert.equal(d.built, false);
  assert.deepEqual(await d.prepare(image), { total: 1, unpacked: 1 });
  assert.equal(builds(), 2);
});
