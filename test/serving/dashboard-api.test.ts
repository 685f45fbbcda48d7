// The API the dashboard reads for charts and live updates, against a real daemon and real runc
// instances: GET /services/NAME/stats (requests, latency, a cold start and instances appear in the
// columns; a short stats.stepMs so no test waits 10 s), the instance view's start time, CPU and
// memory, and GET /stream (server-sent events: a change after a deploy and after a traffic change,
// another project's changes never, 401 without a token, a per-token cap, the end of the stream when
// the daemon stops).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { FAST, gatewayGet, until } from '../helpers/serving.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { SkiffClient } from '../../src/api/client.ts';
import type { ChangeEvent } from '../../src/core/views.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;
const RUN = `da${process.pid.toString(36)}`;

interface Stream {
  status: number;
  contentType: string | null;
  changes: ChangeEvent[];
  text(): string;
  /** resolves when the server ended the stream */
  ended: Promise<void>;
  close(): void;
}

/** Opens GET /api/v1/stream and collects its `change` events as they come. */
async function openStream(url: string, token: string | undefined, headers: Record<string, string> = {}): Promise<Stream> {
  const abort = new AbortController();
  const res = await fetch(`${url}/api/v1/stream`, { headers: token ? { authorization: `Bearer ${token}`, ...headers } : headers, signal: abort.signal });
  let raw = '';
  const changes: ChangeEvent[] = [];
  const ended = (async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body) {
        raw += decoder.decode(chunk as Uint8Array, { stream: true });
        // every whole event so far, parsed again (a test's streams are short)
        changes.length = 0;
        for (const block of raw.split('\n\n').slice(0, -1)) {
          const lines = block.split('\n');
          if (!lines.includes('event: change')) continue;
          changes.push(JSON.parse(lines.find((l) => l.startsWith('data: '))!.slice(6)) as ChangeEvent);
        }
      }
    } catch {
      // aborted by the test
    }
  })();
  return { status: res.status, contentType: res.headers.get('content-type'), changes, text: () => raw, ended, close: () => abort.abort() };
}

test('stats: traffic, latency, a cold start and instances show in the columns; instances carry their start, CPU and memory', { skip, timeout: 120_000 }, async (t) => {
  const d = await startTestDaemon(t, { settings: (s) => void (s.stats.stepMs = 500) });
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const name = `${RUN}-stats`;
  const image = await pushHttpdImage(d, uniqueRepo('dash-stats'), 'v1');
  await client.deploy({ name, image: image.reference, scaling: { ...FAST, min: 0 } });

  // an idle service: the window's columns are there, all zeros
  const idle = await client.serviceStats(name, '15m');
  assert.equal(idle.service, name);
  assert.equal(idle.stepSeconds, 0.5);
  assert.equal(idle.t.length, 1800);
  assert.equal(idle.requests.length, 1800);
  assert.ok(idle.requests.every((n) => n === 0));
  assert.ok(idle.p50Ms.every((n) => n === null));

  for (let i = 0; i < 20; i++) assert.equal((await gatewayGet(d.gatewayUrl, name)).status, 200);
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  await until('the requests and the cold start in the history', async () => {
    const s = await client.serviceStats(name, '15m');
    return sum(s.requests) === 20 && sum(s.coldStarts) >= 1;
  });
  const s = await client.serviceStats(name, '15m');
  assert.equal(sum(s.errors), 0);
  assert.ok(s.p50Ms.some((v) => v !== null && v > 0), 'a median latency in some step');
  assert.ok(s.p99Ms.some((v) => v !== null && v > 0));
  assert.ok(s.instances.ready!.some((n) => n >= 1), 'a ready instance at some step’s end');
  for (const stage of ['queued', 'created', 'started', 'ready', 'firstByte']) {
    assert.equal(s.coldStartStages.counts[stage]!.length, s.coldStartStages.boundsMs.length + 1, stage);
  }
  assert.ok(sum(s.coldStartStages.counts.firstByte!) >= 1, 'the cold start’s first byte in the breakdown');
  assert.ok(s.t.every((v, i) => i === 0 || v - s.t[i - 1]! === 0.5), 'one column per step');
  assert.ok(Math.abs(s.t.at(-1)! - Date.now() / 1000) < 5, 'the columns end now');

  // the instance view: when it started, and the metering's last reading of its cgroup
  await until('CPU and memory of the instance', async () => {
    const inst = (await client.service(name)).revisions.flatMap((r) => r.instances).find((i) => i.phase === 'ready');
    return inst !== undefined && inst.memoryBytes !== undefined && inst.memoryBytes > 0 && inst.cpuPercent !== undefined;
  });
  const inst = (await client.service(name)).revisions.flatMap((r) => r.instances).find((i) => i.phase === 'ready')!;
  assert.ok(Date.parse(inst.startedAt!) <= Date.now() && Date.parse(inst.startedAt!) > Date.now() - 120_000, inst.startedAt);
  assert.ok(inst.cpuPercent! >= 0);

  await assert.rejects(client.serviceStats('nope-nope'), (err: { code?: string }) => err.code === 'NOT_FOUND');
  const bad = await fetch(`${d.url}/api/v1/services/${name}/stats?window=2d`, { headers: { authorization: `Bearer ${d.token}` } });
  assert.equal(bad.status, 400);

  // the Services list's answer for every service at once: the same requests and cold start, coarser
  await until('the list’s sparklines have the requests', async () => sum((await client.servicesStats('15m')).services.find((x) => x.name === name)?.requests ?? []) === 20);
  const list = await client.servicesStats('15m');
  assert.equal(list.t.length, 60, '15 min of 0.5 s steps in 60 points');
  assert.equal(list.stepSeconds, 15);
  assert.ok(Math.abs(list.t.at(-1)! - Date.now() / 1000) < 5, 'the points end now');
  const line = list.services.find((x) => x.name === name)!;
  assert.equal(line.project, 'default');
  assert.ok(line.coldStarts >= 1, 'the cold start counted');
  for (const column of [line.requests, line.p50Ms, line.p99Ms]) assert.equal(column.length, list.t.length);
  assert.ok(line.p50Ms.some((v) => v !== null && v > 0) && line.p99Ms.some((v) => v !== null && v > 0), 'latency of the merged steps');
  const badList = await fetch(`${d.url}/api/v1/stats/services?window=2d`, { headers: { authorization: `Bearer ${d.token}` } });
  assert.equal(badList.status, 400);
  // another project's token: the service is not in its answer (test/security/projects.test.ts walks the rest)
  await client.createProject(`${RUN}o`);
  const other = new SkiffClient({ baseUrl: d.url, token: (await client.createToken('o', 'deploy', `${RUN}o`)).secret });
  assert.deepEqual((await other.servicesStats()).services, []);
});

test('stream: a change after a deploy and a traffic change, only the token’s projects, 401 without a token, at most 8 per token, ended by the daemon’s stop', { skip, timeout: 120_000 }, async (t) => {
  const d = await startTestDaemon(t);
  const operator = new SkiffClient({ baseUrl: d.url, token: d.token });
  await operator.createProject(`${RUN}a`);
  await operator.createProject(`${RUN}b`);
  const aToken = (await operator.createToken('a', 'deploy', `${RUN}a`)).secret;
  const bToken = (await operator.createToken('b', 'deploy', `${RUN}b`)).secret;
  const asA = new SkiffClient({ baseUrl: d.url, token: aToken });

  const unauthenticated = await openStream(d.url, undefined);
  assert.equal(unauthenticated.status, 401);
  assert.match(unauthenticated.text() || (await unauthenticated.ended, unauthenticated.text()), /UNAUTHORIZED/);

  const all = await openStream(d.url, d.token);
  const a = await openStream(d.url, aToken);
  const b = await openStream(d.url, bToken);
  // the dashboard's way in: the session cookie of a sign-in with B's token
  const signIn = await fetch(`${d.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: bToken }) });
  assert.equal(signIn.status, 204);
  const cookie = signIn.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const bSession = await openStream(d.url, undefined, { cookie });
  for (const s of [all, a, b, bSession]) {
    assert.equal(s.status, 200);
    assert.match(s.contentType ?? '', /^text\/event-stream/);
  }
  await until('retry first', () => a.text().startsWith('retry: 2000\n\n'));

  const name = `${RUN}-live`;
  const image = await pushHttpdImage(d, `${RUN}a/app`, 'v1');
  const deployed = await asA.deploy({ name, image: image.reference, scaling: { ...FAST, min: 0 } });
  const sees = (s: Stream, c: ChangeEvent) => s.changes.some((x) => x.kind === c.kind && x.name === c.name && x.project === c.project);
  const change: ChangeEvent = { kind: 'service', name, project: `${RUN}a` };
  await until('the deploy in project a’s stream and the operator’s', () => sees(a, change) && sees(all, change));

  // a traffic change: one more change after what the deploy caused has settled
  await new Promise((r) => setTimeout(r, 600));
  const before = a.changes.length;
  await asA.setTraffic(name, [{ revision: deployed.revision, percent: 100, tag: 'blue' }]);
  await until('the traffic change', () => a.changes.length > before && sees(a, change));

  // traffic to the service: its instance's phase changes are announced too
  const beforeTraffic = a.changes.length;
  assert.equal((await gatewayGet(d.gatewayUrl, name)).status, 200);
  await until('the instance starting', () => a.changes.length > beforeTraffic);

  for (const s of [b, bSession]) {
    assert.deepEqual(s.changes.filter((c) => c.project !== `${RUN}b`), [], 'project b saw nothing of project a');
    assert.ok(!s.text().includes(name), 'not even the name');
  }

  // the cap: 8 streams per token, a session counting as its token (b has two open already)
  const more = await Promise.all(Array.from({ length: 6 }, () => openStream(d.url, bToken)));
  assert.ok(more.every((s) => s.status === 200));
  const ninth = await openStream(d.url, bToken);
  assert.equal(ninth.status, 429);
  assert.match(ninth.text() || (await ninth.ended, ninth.text()), /TOOMANYREQUESTS/);
  for (const s of more) s.close();

  // the daemon's stop ends every stream, and does not wait for them
  const stopping = Date.now();
  await d.daemon.stop();
  assert.ok(Date.now() - stopping < 10_000, `stopped in ${Date.now() - stopping} ms`);
  await Promise.all([all.ended, a.ended, b.ended, bSession.ended]);
});
