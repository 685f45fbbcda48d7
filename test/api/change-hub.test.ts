// The change hub behind GET /api/v1/stream (api/change-hub.ts) with a fake clock — coalescing per
// resource, filtering per subscriber — how a route's path names the resource it changed, and the
// stream route itself on a loopback listener (its pings follow the fake clock).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/core/clock.ts';
import Fastify from 'fastify';
import net from 'node:net';
import { ChangeHub, ChangeStreams } from '../../src/api/change-hub.ts';
import { changeOf, mayWatch, registerStreamRoutes } from '../../src/api/stream-routes.ts';
import { requireToken } from '../../src/api/auth.ts';
import { sendApiError, skiffErrorSchema } from '../../src/api/errors.ts';
import type { ChangeEvent } from '../../src/core/views.ts';

test('a burst of changes of one resource is two deliveries: the first at once, one at the window’s end', async () => {
  const clock = new FakeClock(0);
  const hub = new ChangeHub(clock, 250);
  const got: ChangeEvent[] = [];
  hub.subscribe({ sees: () => true, send: (c) => got.push(c) });
  for (let i = 0; i < 10; i++) hub.publish({ kind: 'service', name: 'web', project: 'a' });
  hub.publish({ kind: 'service', name: 'api', project: 'a' });
  assert.equal(got.length, 2, 'web at once, api at once (another resource)');
  await clock.advance(250);
  assert.equal(got.length, 3, 'the rest of the web burst, once');
  await clock.advance(1000);
  assert.equal(got.length, 3, 'nothing more: the window closed quietly');
  hub.publish({ kind: 'service', name: 'web', project: 'a' });
  assert.equal(got.length, 4, 'a new burst starts at once again');
});

test('each subscriber sees only the projects it may see', () => {
  const hub = new ChangeHub(new FakeClock(0));
  const a: ChangeEvent[] = [];
  const all: ChangeEvent[] = [];
  const stopA = hub.subscribe({ sees: (c) => c.project === 'a', send: (c) => a.push(c) });
  hub.subscribe({ sees: () => true, send: (c) => all.push(c) });
  hub.publish({ kind: 'service', name: 'web', project: 'b' });
  hub.publish({ kind: 'job', name: 'nightly', project: 'a' });
  assert.deepEqual(a.map((c) => c.name), ['nightly']);
  assert.deepEqual(all.map((c) => c.name), ['web', 'nightly']);
  stopA();
  assert.equal(hub.size, 1);
});

test('a change reaches a token that may see its project and list its kind', () => {
  const deploy = { tokenId: 't', name: 'x', tenant: 'a', role: 'deploy' as const };
  const admin = { ...deploy, role: 'admin' as const };
  const pull = { ...deploy, role: 'pull' as const };
  const operator = { ...admin, tenant: 'default', allProjects: true };
  assert.equal(mayWatch(deploy, { kind: 'service', name: 'web', project: 'a' }), true);
  assert.equal(mayWatch(deploy, { kind: 'service', name: 'web', project: 'b' }), false, 'another project');
  assert.equal(mayWatch(deploy, { kind: 'token', project: 'a' }), false, 'tokens are for admins');
  assert.equal(mayWatch(admin, { kind: 'token', project: 'a' }), true);
  assert.equal(mayWatch(pull, { kind: 'secret', name: 'db', project: 'a' }), false, 'a pull token lists no secrets');
  assert.equal(mayWatch(pull, { kind: 'registry', name: 'a/app', project: 'a' }), true);
  assert.equal(mayWatch(operator, { kind: 'registry', name: 'b/app', project: 'b' }), true);
  assert.equal(mayWatch(admin, { kind: 'registry', name: 'b/app', project: '*' }), false);
});

test('a route’s path, parameters and body name the resource a change is about', () => {
  assert.deepEqual(changeOf('/api/v1/services', {}, { name: 'web', image: 'x' }, 'a'), { kind: 'service', name: 'web', project: 'a' });
  assert.deepEqual(changeOf('/api/v1/services/:name/traffic', { name: 'web' }, { traffic: [] }, 'a'), { kind: 'service', name: 'web', project: 'a' });
  assert.deepEqual(changeOf('/api/v1/domains', {}, { host: 'x.example', service: 'web' }, 'a'), { kind: 'domain', name: 'x.example', project: 'a' });
  // a repository's change is its project's, whoever acts: a '*' token naming no project acts in default
  const repoProject = (name: string) => (name.startsWith('a/') ? 'a' : 'default');
  assert.deepEqual(changeOf('/api/v1/registry/repositories/:repository/tags/:tag', { repository: 'a/app', tag: 'v1' }, undefined, 'default', repoProject), { kind: 'registry', name: 'a/app', project: 'a' });
  assert.deepEqual(changeOf('/api/v1/registry/repositories/:repository/tags/:tag', { repository: 'a/app', tag: 'v1' }, undefined, 'default'), { kind: 'registry', name: 'a/app', project: '*' }, 'whose it is unknown: only a token spanning every project sees it');
  // a token: never its name or id; the project it was made for
  assert.deepEqual(changeOf('/api/v1/tokens', {}, { name: 'ci', project: 'b', role: 'deploy' }, 'default'), { kind: 'token', project: 'b' });
  assert.deepEqual(changeOf('/api/v1/tokens', {}, { name: 'ci', tenant: 'b' }, 'default'), { kind: 'token', project: 'b' });
  assert.deepEqual(changeOf('/api/v1/tokens', {}, { name: 'ci' }, 'a'), { kind: 'token', project: 'a' });
  assert.deepEqual(changeOf('/api/v1/tokens/:id', { id: 'tok123' }, undefined, 'b'), { kind: 'token', project: 'b' });
  assert.deepEqual(changeOf('/api/v1/registry/gc', {}, undefined, 'default'), { kind: 'registry', project: 'default' });
  assert.deepEqual(changeOf('/api/v1/projects/:name', { name: 'b' }, {}, 'default'), { kind: 'project', name: 'b', project: 'b' });
  assert.deepEqual(changeOf('/api/v1/budgets/:name', { name: 'b' }, {}, 'default'), { kind: 'budget', name: 'b', project: 'b' });
  assert.equal(changeOf('/api/v1/runs', {}, {}, 'a'), undefined);
  assert.equal(changeOf('/api/v1/services/:name/invocations', { name: 'web' }, {}, 'a'), undefined);
  assert.equal(changeOf('/api/v1/session', {}, {}, 'a'), undefined);
  assert.equal(changeOf('/api/v1/daemon/down', {}, {}, 'a'), undefined);
});

test('GET /stream on a real listener: retry first, a ping every 15 s of the clock, changes of its project only, ended by close()', async (t) => {
  const { clock, hub, streams, url } = await streamServer(t, () => true);
  const res = await fetch(url, { headers: { authorization: 'Bearer good' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'no-cache, no-transform');
  let text = '';
  const reading = (async () => {
    for await (const chunk of res.body!) text += Buffer.from(chunk as Uint8Array).toString();
  })();
  const until = async (what: string, cond: () => boolean) => {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(cond(), `${what}: ${JSON.stringify(text)}`);
  };
  await until('retry', () => text === 'retry: 2000\n\n');
  await clock.advance(14_999);
  hub.publish({ kind: 'service', name: 'theirs', project: 'b' });
  hub.publish({ kind: 'service', name: 'web', project: 'a' });
  await until('the change of project a', () => text.includes('event: change\ndata: {"kind":"service","name":"web","project":"a"}\n\n'));
  assert.ok(!text.includes('ping') && !text.includes('theirs'));
  await clock.advance(1);
  await until('a ping', () => text.endsWith(': ping\n\n'));
  assert.equal(streams.size, 1);
  streams.close();
  await reading;
  assert.equal(streams.size, 0);
  assert.equal(hub.size, 0, 'unsubscribed');
  assert.equal((await fetch(url)).status, 401);
});

/** A stream route on a real listener, with a token check the test controls. */
async function streamServer(t: { after(fn: () => unknown): void }, signedIn: () => boolean) {
  const clock = new FakeClock(0);
  const hub = new ChangeHub(clock);
  const streams = new ChangeStreams(hub, clock);
  const app = Fastify();
  t.after(() => app.close());
  await app.register(async (api) => {
    api.addSchema(skiffErrorSchema);
    api.setErrorHandler((err, req, reply) => sendApiError(reply, err, req));
    requireToken(api, { verify: async (secret) => (secret === 'good' ? { tokenId: 't1', name: 'a-token', tenant: 'a', role: 'deploy' } : undefined) });
    registerStreamRoutes(api, streams, async () => signedIn());
  }, { prefix: '/api/v1' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return { clock, hub, streams, url: `http://127.0.0.1:${port}/api/v1/stream` };
}

test('a stream whose token is revoked (or session ended) is ended at the next ping', async (t) => {
  let signedIn = true;
  const s = await streamServer(t, () => signedIn);
  const res = await fetch(s.url, { headers: { authorization: 'Bearer good' } });
  const reading = (async () => {
    let text = '';
    for await (const chunk of res.body!) text += Buffer.from(chunk as Uint8Array).toString();
    return text;
  })();
  for (let i = 0; i < 200 && s.streams.size === 0; i++) await new Promise((r) => setTimeout(r, 10));
  await s.clock.advance(15_000);
  for (let i = 0; i < 50; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(s.streams.size, 1, 'still signed in: the ping goes out and the stream stays');
  signedIn = false;
  await s.clock.advance(15_000);
  const text = await reading;
  assert.match(text, /: ping/);
  assert.equal(s.streams.size, 0);
  assert.equal(s.hub.size, 0);
  s.hub.publish({ kind: 'service', name: 'web', project: 'a' });
});

test('a client that stops reading is cut off, not buffered for', async (t) => {
  const s = await streamServer(t, () => true);
  // a raw socket that sends the request and never reads the answer
  const socket = net.connect(Number(new URL(s.url).port), '127.0.0.1');
  t.after(() => socket.destroy());
  socket.write(`GET /api/v1/stream HTTP/1.1\r\nhost: x\r\nauthorization: Bearer good\r\n\r\n`);
  socket.pause();
  for (let i = 0; i < 200 && s.streams.size === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(s.streams.size, 1);
  // far more than the socket buffers hold; each change is a new resource so none is coalesced
  const big = 'x'.repeat(4000);
  for (let i = 0; i < 2000 && s.streams.size > 0; i++) {
    s.hub.publish({ kind: 'service', name: `${big}${i}`, project: 'a' });
    if (i % 50 === 0) await new Promise((r) => setImmediate(r));
  }
  assert.equal(s.streams.size, 0, 'the stream was ended once the unread bytes passed the limit');
  assert.equal(s.hub.size, 0);
});
