// Scaling on CPU, memory and an app's own metric, with real runc: a CGI that busy-loops, one that
// holds tmpfs memory (charged to the instance's memory cgroup), and a Prometheus gauge the app
// serves. Each scales out while driven and back to zero once requests stop; the autoscaler's
// decisions are events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { FAST, gatewayGet, instancesOf, runningCount, until } from '../helpers/serving.ts';
import { SkiffClient } from '../../src/api/client.ts';
import type { DeployDocument } from '../../src/core/documents.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;

/** Instances of a service that serve or are starting to. */
async function live(client: SkiffClient, name: string): Promise<number> {
  return (await instancesOf(client, name)).filter((i) => i.phase === 'starting' || i.phase === 'ready').length;
}

/**
 * Deploys `doc` (scaled to zero), sends `first` once, then keeps sending `path` requests one after
 * another until `enough(live instances)`; stops and waits for scale to zero. Returns the largest
 * number of live instances seen and the service's events.
 */
async function drive(t: Parameters<typeof startTestDaemon>[0], doc: Omit<DeployDocument, 'image'>, first: string, path: string, enough: (n: number) => boolean, settleMs = 0) {
  const d: TestDaemon = await startTestDaemon(t);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const image = (await pushHttpdImage(d, uniqueRepo('metric'), 'v1')).reference;
  await client.deploy({ ...doc, image, drainGrace: '1s', timeout: '20s' });
  assert.equal((await gatewayGet(d.gatewayUrl, doc.name, first)).status, 200);
  let stop = false;
  let max = 0;
  const statuses = new Set<number>();
  const failures: string[] = [];
  const load = (async () => {
    while (!stop) {
      const began = Date.now();
      const r = await gatewayGet(d.gatewayUrl, doc.name, path);
      statuses.add(r.status);
      if (r.status !== 200) failures.push(`${r.status} after ${Date.now() - began} ms, ${JSON.stringify(r.headers)}: ${r.body}`);
    }
  })();
  const watch = async () => (max = Math.max(max, await live(client, doc.name)));
  try {
    await until(`${doc.name} scaled out`, async () => enough(await watch()), 30_000);
    for (const end = Date.now() + settleMs; Date.now() < end; ) await watch();
  } finally {
    stop = true;
    await load;
  }
  assert.deepEqual([...statuses], [200], failures.slice(0, 3).join('\n'));
  await until(`${doc.name} scaled to zero`, async () => (await runningCount(client, doc.name)) === 0, 30_000);
  return { max, events: (await client.service(doc.name)).events };
}

/** The autoscaler's decisions are events: `desired N (was M): reason`; out to `wanted`, then to zero. */
function assertScaleEvents(events: Array<{ kind: string; message: string }>, wanted: (desired: number) => boolean): void {
  const scale = events.filter((e) => e.kind === 'scale').map((e) => e.message);
  const desired = scale.map((m) => Number(/^desired (\d+) /.exec(m)?.[1]));
  assert.ok(desired.some(wanted), scale.join('\n'));
  assert.match(scale.at(-1)!, /^desired 0 \(was [1-9]\d*\): idle for \d+s: scale to zero$/, scale.join('\n'));
}

test('cpu: a busy-looping instance scales the service out, and it returns to zero when idle', { skip }, async (t) => {
  // One busy loop is up to 100 % of a 0.2-CPU limit against a 20 % target per instance: even on a
  // loaded machine, where the instance gets less than its limit, that is more than one instance's worth.
  const { max, events } = await drive(t, { name: 'cpu', resources: { cpu: 0.2, memory: '64Mi' }, scaling: { ...FAST, metric: 'cpu', target: 20, max: 3 } }, '/', '/cgi-bin/burn?1', (n) => n > 1);
  assert.ok(max > 1, `max ${max}`);
  assertScaleEvents(events, (n) => n >= 2);
});

test('memory: an instance holding memory scales the service out, and it returns to zero when idle', { skip }, async (t) => {
  // 24 MiB of tmpfs in a 64 MiB instance is ~40 % of its limit against a 25 % target.
  const { max, events } = await drive(t, { name: 'mem', resources: { memory: '64Mi' }, scaling: { ...FAST, metric: 'memory', target: 25, max: 3 } }, '/cgi-bin/alloc?24', '/', (n) => n > 1);
  assert.ok(max > 1, `max ${max}`);
  assertScaleEvents(events, (n) => n >= 2);
});

test('custom metric: queue_depth 30 against a target of 10 scales to exactly 3', { skip }, async (t) => {
  const customMetric = { path: '/cgi-bin/metrics', name: 'queue_depth' };
  const { max, events } = await drive(t, { name: 'queue', scaling: { ...FAST, metric: 'custom', customMetric, target: 10, max: 6 } }, '/cgi-bin/setq?30', '/', (n) => n >= 3, 2500);
  assert.equal(max, 3);
  assertScaleEvents(events, (n) => n === 3);
});
