// Serving end to end with real runc: push a busybox-httpd image, deploy it through the API, and drive
// the gateway: scale from zero, burst scale-out, scale to zero, traffic split, rollback, redeploy under load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isRoot, isCI } from '../helpers/tools.ts';
import { FAST, gatewayGet, readyCount, runningCount, until } from '../helpers/serving.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;
const get = (d: TestDaemon, service: string, path = '/') => gatewayGet(d.gatewayUrl, service, path);

test('scale from zero, burst to several instances with no errors, and back to zero', { skip }, async (t) => {
  const d = await startTestDaemon(t);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const repo = uniqueRepo('serve');
  const image = await pushHttpdImage(d, repo, 'v1');
  const deployed = await client.deploy({ name: 'hello', image: image.reference, port: 8080, scaling: { ...FAST, concurrency: 10, max: 8 } });
  assert.equal(deployed.imageDigest, `${repo}@${image.digest}`);
  assert.equal(await runningCount(client, 'hello'), 0, 'deployed scaled to zero');

  const first = await get(d, 'hello');
  assert.equal(first.status, 200);
  assert.equal(first.body, 'hello from v1\n');
  assert.ok(Number(first.headers['x-skiff-cold-start']) > 0, 'cold start is reported');
  const byPath = await (await fetch(`${d.gatewayUrl}/s/hello/index.html`)).text();
  assert.equal(byPath, 'hello from v1\n');

  const burst = await Promise.all(Array.from({ length: 200 }, () => get(d, 'hello', '/cgi-bin/slow?0.3')));
  const failures = burst.filter((r) => r.status !== 200);
  assert.equal(failures.length, 0, `errors: ${JSON.stringify(failures.slice(0, 3))}`);
  const scaledTo = await runningCount(client, 'hello');
  assert.ok(scaledTo > 1, `scaled to ${scaledTo} instance(s)`);

  await until('scale to zero', async () => (await runningCount(client, 'hello')) === 0, 30_000);
  const events = (await client.service('hello')).events.map((e) => e.kind);
  assert.ok(events.includes('scale'), events.join(','));
});

test('90/10 traffic split, rollback, and a redeploy under load that drops nothing', { skip }, async (t) => {
  const d = await startTestDaemon(t);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const repo = uniqueRepo('split');
  const v1img = await pushHttpdImage(d, repo, 'v1');
  const v2img = await pushHttpdImage(d, repo, 'v2');
  const v1 = (await client.deploy({ name: 'web', image: v1img.reference, scaling: { ...FAST, min: 1 } })).revision;
  const v2 = (await client.deploy({ name: 'web', image: v2img.reference, scaling: { ...FAST, min: 1 } })).revision;
  await client.setTraffic('web', [{ revision: v1, percent: 90 }, { revision: v2, percent: 10 }]);
  await until('both revisions ready', async () => (await readyCount(client, 'web', v1)) >= 1 && (await readyCount(client, 'web', v2)) >= 1);
  let v2hits = 0;
  for (let round = 0; round < 10; round++) {
    const rs = await Promise.all(Array.from({ length: 100 }, () => get(d, 'web')));
    assert.ok(rs.every((r) => r.status === 200));
    v2hits += rs.filter((r) => r.body === 'hello from v2\n').length;
  }
  assert.ok(v2hits >= 50 && v2hits <= 150, `v2 got ${v2hits} of 1000`);

  const rolled = await client.rollback('web');
  assert.deepEqual(rolled.traffic, [{ revision: v1, percent: 100 }]);
  await until('v2 drained', async () => (await readyCount(client, 'web', v2)) === 0);
  for (let i = 0; i < 20; i++) assert.equal((await get(d, 'web')).body, 'hello from v1\n');

  // Redeploy v2's image as a new revision while 8 clients hammer the service: every request succeeds.
  let stop = false;
  const statuses: number[] = [];
  const bodies: string[] = [];
  const load = Promise.all(
    Array.from({ length: 8 }, async () => {
      while (!stop) {
        const r = await get(d, 'web');
        statuses.push(r.status);
        bodies.push(r.body);
      }
    }),
  );
  await new Promise((r) => setTimeout(r, 500));
  const v3 = (await client.deploy({ name: 'web', image: v2img.reference, scaling: { ...FAST, min: 1 } })).revision;
  await until('v3 serving', async () => bodies.length > 50 && bodies.slice(-20).every((b) => b === 'hello from v2\n'));
  await until('v1 gone', async () => (await readyCount(client, 'web', v1)) === 0);
  stop = true;
  await load;
  assert.ok(statuses.length > 100, `only ${statuses.length} requests`);
  assert.deepEqual([...new Set(statuses)], [200]);
  assert.ok((await client.service('web')).revisions.some((r) => r.name === v3));
});
