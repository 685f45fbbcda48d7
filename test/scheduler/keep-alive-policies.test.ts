// The adaptive keep-alive applied by the scheduler (100 ms ticks, tiny histogram bins): a service
// called about once a second learns it, goes to zero right after each burst and is pre-warmed — an
// instance started and ready with no request — just before the next one is due. A service pinned to
// `keepAlive: fixed` with the same traffic keeps the autoscaler's idle window. What was learned
// survives a scheduler restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_KEEP_ALIVE } from '../../src/autoscaler/idle-histogram.ts';
import { ServiceKeepAlive } from '../../src/autoscaler/keep-alive.ts';
import { FAST, get, setup, until } from './harness.ts';

const keepAlive = () => new ServiceKeepAlive({ ...DEFAULT_KEEP_ALIVE, binMs: 200, rangeMs: 10_000, minSamples: 3, quietMs: 300 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a service with regular idle times goes to zero after a burst and is pre-warmed before the next', async (t) => {
  const s = await setup(t, undefined, { keepAlive });
  const { revision } = await s.deploy({ name: 'tidal', scaling: { ...FAST } });
  const fixed = (await s.deploy({ name: 'steady', scaling: { ...FAST, idle: '3s', keepAlive: 'fixed' } })).revision;
  assert.equal(s.scheduler().keepAlive('tidal'), undefined, 'no policy before the first request');
  for (let i = 0; i < 5; i++) {
    if (i > 0) await sleep(1000);
    assert.equal((await get(s.url, 'tidal.test')).status, 200);
    assert.equal((await get(s.url, 'steady.test')).status, 200);
  }
  const policy = s.scheduler().keepAlive('tidal');
  assert.equal(policy?.kind, 'histogram', JSON.stringify(policy));
  assert.ok((await s.events('tidal')).some((e) => e.kind === 'keep-alive' && e.message.startsWith('histogram')));
  assert.deepEqual(s.scheduler().keepAlive('steady'), { kind: 'fixed', keepAliveMs: 3500, reason: 'scaling.keepAlive is fixed' });

  // After the last burst: down to zero well before the fixed 1.5 s would have, then up again unasked.
  const started = s.instances.started;
  await until('tidal at zero', () => s.instances.countOf(revision.name) === 0);
  assert.equal(s.instances.countOf(fixed.name), 1, 'the fixed service is still warm');
  await until('tidal pre-warmed', () => s.scheduler().describe(revision.name).some((i) => i.phase === 'ready'));
  assert.equal(s.instances.started, started + 1, 'started by the pre-warm, not by a request');
  const kinds = (await s.events('tidal')).map((e) => `${e.kind} ${e.message}`);
  assert.ok(kinds.some((e) => e.startsWith('scale') && e.includes('pre-warm in')), 'went to zero waiting for the pre-warm');
  assert.ok(kinds.some((e) => e.startsWith('ready') && e.endsWith('(keep-alive pre-warm)')), kinds.join('\n'));
  await until('tidal back at zero after its keep-alive', () => s.instances.countOf(revision.name) === 0);
  await until('steady at zero after its fixed window', () => s.instances.countOf(fixed.name) === 0);

  // A restarted scheduler (daemon) takes back what was learned, from the store, without a new event.
  const learned = s.scheduler().keepAlive('tidal');
  const events = (await s.events('tidal')).filter((e) => e.kind === 'keep-alive').length;
  await s.restartScheduler();
  assert.deepEqual(s.scheduler().keepAlive('tidal'), learned);
  assert.equal((await s.events('tidal')).filter((e) => e.kind === 'keep-alive').length, events);
  await s.store.deleteService('tidal');
  assert.deepEqual((await s.store.listKeepAlive()).map((k) => k.service), ['steady'], 'deleting the service deletes what it learned');
});
