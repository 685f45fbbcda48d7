// Keeping services warm with real runc instances: `skiff prewarm` (CLI → API → scheduler) makes
// instances ready before any request, and the adaptive keep-alive (tiny histogram bins through the
// node settings) takes a service with regular idle times to zero after each request and pre-warms it
// before the next one is due.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { skiff } from '../helpers/cli.ts';
import { FAST, gatewayGet, readyCount, runningCount, until } from '../helpers/serving.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;
const RUN = `wm${process.pid.toString(36)}`;

test('prewarm and the adaptive keep-alive, end to end', { skip }, async (t) => {
  const d = await startTestDaemon(t, { settings: (s) => Object.assign(s.keepAlive, { binMs: 1000, rangeMs: 60_000, minSamples: 2, quietMs: 1500 }) });
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const image = await pushHttpdImage(d, uniqueRepo('warm'), 'v1');

  await t.test('skiff prewarm: instances ready before any request, which is then served warm', async () => {
    const name = `${RUN}-early`;
    await client.deploy({ name, image: image.reference, scaling: { ...FAST, max: 2 } });
    const beyond = await skiff(d, ['prewarm', name, '--instances', '3', '--for', '1m']);
    assert.equal(beyond.code, 1, 'more than max 2 is an error, not silently capped');
    assert.match(beyond.stderr, /instances: 3 is more than \S+'s max scale \(2\)/);
    const r = await skiff(d, ['prewarm', name, '--instances', '2', '--for', '1m']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^\S+ {2}2\/2 ready, kept warm until /m);
    assert.equal(await readyCount(client, name), 2);
    const res = await gatewayGet(d.gatewayUrl, name);
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-skiff-cold-start'], undefined, 'no cold start');
    const kinds = (await client.service(name)).events.map((e) => e.kind);
    assert.ok(kinds.includes('prewarm'), kinds.join(','));
    await assert.rejects(client.prewarm(name, { for: '25h' }), /at most 24h/);
  });

  await t.test('adaptive keep-alive: learned from idle times, to zero after a request, pre-warmed before the next', async () => {
    const name = `${RUN}-tide`;
    await client.deploy({ name, image: image.reference, scaling: FAST });
    assert.equal((await client.service(name)).keepAlive.kind, 'fixed');
    for (let i = 0; i < 3; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 4000));
      assert.equal((await gatewayGet(d.gatewayUrl, name)).status, 200);
    }
    const view = await client.service(name);
    assert.equal(view.keepAlive.kind, 'histogram', JSON.stringify(view.keepAlive));
    assert.ok(view.events.some((e) => e.kind === 'keep-alive' && e.message.startsWith('histogram')));
    await until('to zero after the request', async () => (await runningCount(client, name)) === 0);
    await until('pre-warmed with no request', async () => (await readyCount(client, name)) === 1);
    const events = (await client.service(name)).events;
    assert.ok(events.some((e) => e.kind === 'ready' && e.message.endsWith('(keep-alive pre-warm)')), JSON.stringify(events));
    const describe = await skiff(d, ['describe', name]);
    assert.match(describe.stdout, /^keep-alive pre-warm \S+, then warm \S+ \(learned: /m);
  });
});
