// The triggers service, its cron scheduler and the invocation worker together, on a fake clock and a
// real SQLite store; the service end is an in-process Invoker (the gateway path has its own tests:
// test/events). Fires at the scheduled instant with a CloudEvent and a pre-warm ahead of it; the
// concurrency policies; retries, dead letters, replay and purge; missed fires at start; invocations a
// killed worker left running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/open.ts';
import { setupTriggers } from './harness.ts';
import type { TriggerDocument } from '../../src/core/events.ts';

const setup = setupTriggers;

const nightly: TriggerDocument = { name: 'nightly', service: 'report', cron: '0 3 * * *', timezone: 'Europe/Paris', path: '/run', body: '{"full":true}' };

test('a cron fire reaches the service at its instant as a binary CloudEvent, after a pre-warm a cold start ahead', async (t) => {
  const s = await setup(t, '2026-12-06T01:59:00Z'); // 02:59 in Paris
  const view = await s.triggers.add(nightly, 'default');
  assert.equal(view.nextFireAt, '2026-12-06T02:00:00.000Z');
  await s.clock.advance(56_000);
  assert.deepEqual(s.prewarms, [], 'not yet');
  await s.clock.advance(1000); // 3 s before: the 2 s cold start + 1 s margin
  assert.deepEqual(s.prewarms, [{ service: 'report', at: Date.parse('2026-12-06T01:59:57Z') }]);
  assert.equal(s.app.requests.length, 0);
  await s.clock.advance(3000);
  assert.equal(s.app.requests.length, 1);
  const req = s.app.requests[0]!;
  const at = Date.parse('2026-12-06T02:00:00Z');
  assert.deepEqual([req.service, req.method, req.path, req.body.toString()], ['report', 'POST', '/run', '{"full":true}']);
  assert.equal(req.headers['ce-id'], `nightly-${at}`);
  assert.equal(req.headers['ce-type'], 'dev.skiff.cron.fired');
  assert.equal(req.headers['ce-source'], '/skiff/triggers/nightly');
  assert.equal(req.headers['ce-subject'], 'nightly');
  assert.equal(req.headers['ce-time'], '2026-12-06T02:00:00.000Z');
  assert.equal(req.headers['ce-specversion'], '1.0');
  assert.equal(req.headers['content-type'], 'application/json');
  const after = await s.triggers.get('nightly');
  assert.deepEqual([after.stats.deliveries, after.stats.successes, after.stats.lastFireAt, after.nextFireAt], [1, 1, '2026-12-06T02:00:00.000Z', '2026-12-07T02:00:00.000Z']);
  // paused: no fire; resumed: the next one
  await s.triggers.setPaused('nightly', true);
  await s.clock.advance(86_400_000);
  assert.equal(s.app.requests.length, 1);
  await s.triggers.setPaused('nightly', false);
  await s.clock.advance(86_400_000);
  assert.equal(s.app.requests.length, 2);
});

test('concurrency policies: forbid skips a fire while one is in flight, replace cancels it, allow runs both', async (t) => {
  for (const policy of ['forbid', 'replace', 'allow'] as const) {
    await t.test(policy, async (t) => {
      const s = await setup(t, '2026-12-06T10:00:30Z');
      const releases: Array<() => void> = [];
      s.app.answer = () => new Promise<number>((r) => releases.push(() => r(200)));
      await s.triggers.add({ name: 'every', service: 'report', cron: '* * * * *', concurrencyPolicy: policy }, 'default');
      await s.clock.advance(30_000); // 10:01: first fire, held by the app
      assert.equal(s.app.requests.length, 1);
      await s.clock.advance(60_000); // 10:02: the second is due
      const v = await s.triggers.get('every');
      if (policy === 'forbid') {
        assert.equal(s.app.requests.length, 1, 'skipped');
        assert.match(v.stats.lastErrors.at(-1)!.message, /skipped: the previous one is still running \(concurrency policy forbid\)/);
      } else if (policy === 'replace') {
        assert.equal(s.app.requests.length, 2);
        assert.equal(s.app.requests[0]!.signal!.aborted, true, 'the first one was cancelled');
      } else {
        assert.equal(s.app.requests.length, 2);
        assert.equal(s.app.requests[0]!.signal!.aborted, false, 'both run');
      }
      for (const r of releases) r();
      await s.clock.advance(10);
      assert.equal((await s.triggers.get('every')).stats.backlog, 0);
    });
  }
});

test('an event failing every attempt is retried with back-off, then dead-lettered; replay delivers it; purge deletes', async (t) => {
  const s = await setup(t, '2026-12-06T10:00:59Z');
  s.app.answer = () => 500;
  await s.triggers.add({ name: 'hourly', service: 'report', cron: '* * * * *', maxAttempts: 3, backoff: '1s', maxBackoff: '10s' }, 'default');
  await s.clock.advance(1000); // 10:01 fire: attempt 1
  assert.equal(s.app.requests.length, 1);
  await s.clock.advance(749);
  assert.equal(s.app.requests.length, 1, 'back-off with jitter: 0.75 s at random 0.5');
  await s.clock.advance(1);
  assert.equal(s.app.requests.length, 2);
  await s.clock.advance(1500); // 2 s × 0.75
  assert.equal(s.app.requests.length, 3);
  await s.triggers.setPaused('hourly', true);
  let v = await s.triggers.get('hourly');
  assert.deepEqual([v.stats.deliveries, v.stats.successes, v.stats.failures, v.stats.retries, v.stats.deadLettered, v.stats.deadLetters, v.stats.backlog], [1, 0, 3, 2, 1, 1, 0]);
  assert.match(v.stats.lastErrors.at(-1)!.message, /HTTP 500 \(attempt 3 of 3\)/);
  const [letter] = await s.triggers.deadLetters('hourly');
  assert.equal(letter!.attempts, 3);
  assert.equal(letter!.request.headers['ce-type'], 'dev.skiff.cron.fired');

  s.app.answer = () => 200;
  const replayed = await s.triggers.replay('hourly');
  assert.deepEqual(replayed.replayed, [letter!.id]);
  await s.clock.advance(10);
  assert.equal(s.app.requests.length, 4);
  assert.equal(s.app.requests[3]!.headers['ce-id'], s.app.requests[0]!.headers['ce-id'], 'the same event, the same ce-id');
  v = await s.triggers.get('hourly');
  assert.deepEqual([v.stats.successes, v.stats.deadLetters], [1, 0]);

  s.app.answer = () => 500;
  await s.triggers.setPaused('hourly', false);
  await s.clock.advance(60_000 + 1000 + 2000); // the next fire and its retries
  assert.equal((await s.triggers.get('hourly')).stats.deadLetters, 1);
  assert.deepEqual(await s.triggers.purge('hourly'), { purged: 1 });
  assert.equal((await s.triggers.get('hourly')).stats.deadLetters, 0);
});

test('at start: the missed fire is made once (run-once) or not (skip); invocations a stopped worker left running are delivered', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-triggers-'));
  const store = await openStore({ dataDir: dir });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  // a first daemon: two triggers added; the run-once one's fire is under way when it stops
  const first = await setup(t, '2026-12-03T02:59:59Z', { store, dir });
  first.app.answer = () => new Promise<number>(() => {}); // never answers: the daemon dies first
  await first.triggers.add({ ...nightly, name: 'once', timezone: 'UTC', missed: 'run-once' }, 'default');
  await first.triggers.add({ ...nightly, name: 'skipped', timezone: 'UTC', missed: 'skip' }, 'default');
  await first.clock.advance(1000); // Dec 3 03:00: both fire, both held
  assert.equal(first.app.requests.length, 2);
  await first.stop();

  // three days later: Dec 4, 5 and 6 were missed
  const second = await setup(t, '2026-12-06T12:00:00Z', { store, dir });
  await second.clock.advance(10);
  const seen = second.app.requests.map((r) => `${r.headers['ce-id']}${r.headers['x-skiff-missed-fire'] ? ' (missed)' : ''}`).sort();
  const ms = (iso: string) => Date.parse(iso);
  assert.deepEqual(seen, [`once-${ms('2026-12-03T03:00:00Z')}`, `once-${ms('2026-12-06T03:00:00Z')} (missed)`, `skipped-${ms('2026-12-03T03:00:00Z')}`].sort(), 'the interrupted deliveries again, and one missed fire of the run-once trigger');
  assert.equal((await second.triggers.get('once')).nextFireAt, '2026-12-07T03:00:00.000Z');
});

test('one service with a deep queue at its bound does not starve another service of the worker', async (t) => {
  const { app, triggers } = await setup(t, '2026-03-01T12:00:00Z');
  const held: Array<() => void> = [];
  app.answer = (req) => (req.path === '/busy' ? new Promise<number>((resolve) => held.push(() => resolve(200))) : 200);
  try {
    // busy's 200 fill many pages of the queue (perService 32 are in flight, the rest wait) …
    for (let i = 0; i < 200; i++) await triggers.accept({ service: 'report', method: 'POST', path: '/busy', headers: {}, body: Buffer.from(String(i)) });
    await waitUntil(() => held.length === 32);
    // … and a later invocation of another service is still read and delivered
    const other = await triggers.accept({ service: 'other', method: 'POST', path: '/quiet', headers: {}, body: Buffer.from('x') });
    await waitUntil(async () => (await triggers.invocation(other.id)).status === 'succeeded');
    assert.equal(held.length, 32, 'busy stays at its bound');
  } finally {
    // answered, so the worker stops at once (answer no more: the rest are never delivered)
    app.answer = () => 200;
    for (const release of held.splice(0)) release();
  }
});

async function waitUntil(cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(await cond());
}
