// The change hub behind GET /api/v1/stream (api/change-hub.ts) with a fake clock — coalescing per
// resource, filtering per subscriber — how a route's path names the resource it changed, and the
// stream route itself on a loopback listener (its pings follow the fake clock).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/core/clock.ts';
import Fastify from 'fastify';
import { ChangeHub, ChangeStreams } from '../../src/api/change-hub.ts';
import { changeOf, registerStreamRoutes } from '../../src/api/stream-routes.ts';
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
  const stopA = hub.subscribe({ sees: (p) => p === 'a', send: (c) => a.push(c) });
  hub.subscribe({ sees: () => true, send: (c) => all.push(c) });
  hub.publish({ kind: 'service', name: 'web', project: 'b' });
  hub.publish({ kind: 'job', name: 'nightly', project: 'a' });
  assert.deepEqual(a.map((c) => c.name), ['nightly']);
  assert.deepEqual(all.map((c) => c.name), ['web', 'nightly']);
  stopA();
  assert.equal(hub.size, 1);
});

test('a route’s path, parameters and body name the resource a change is about', () => {
  assert.deepEqual(changeOf('/api/v1/services', {}, { name: 'web', image: 'x' }, 'a'), { kind: 'service', name: 'web', project: 'a' });
  assert.deepEqual(changeOf('/api/v1/services/:name/traffic', { name: 'web' }, { traffic: [] }, 'a'), { kind: 'service', name: 'web', project: 'a' });
  assert.deepEqual(changeOf('/api/v1/domains', {}, { host: 'x.example', service: 'web' }, 'a'), { kind: 'domain', name: 'x.example', project: 'a' });
  assert.deepEqual(changeOf('/api/v1/registry/repositories/:repository/tags/:tag', { repository: 'a/app', tag: 'v1' }, undefined, 'a'), { kind: 'registry', name: 'a/app', project: 'a' });
  assert.deepEqual(changeOf('/api/v1/registry/gc', {}, undefined, 'default'), { kind: 'registry', project: 'default' });
  assert.deepEqual(changeOf('/api/v1/projects/:name', { name: 'b' }, {}, 'default'), { kind: 'project', name: 'b', project: 'b' });
  assert.deepEqual(changeOf('/api/v1/budgets/:name', { name: 'b' }, {}, 'default'), { kind: 'budget', name: 'b', project: 'b' });
  assert.equal(changeOf('/api/v1/runs', {}, {}, 'a'), undefined);
  assert.equal(changeOf('/api/v1/services/:name/invocations', { name: 'web' }, {}, 'a'), undefined);
  assert.equal(changeOf('/api/v1/session', {}, {}, 'a'), undefined);
  assert.equal(changeOf('/api/v1/daemon/down', {}, {}, 'a'), undefined);
});

test('GET /stream on a real listener: retry first, a ping every 15 s of the clock, changes of its project only, ended by close()', async (t) => {
  const clock = new FakeClock(0);
  const hub = new ChangeHub(clock);
  const streams = new ChangeStreams(hub, clock);
  const app = Fastify();
  t.after(() => app.close());
  await app.register(async (api) => {
    api.addSchema(skiffErrorSchema);
    api.setErrorHandler((err, req, reply) => sendApiError(reply, err, req));
    requireToken(api, { verify: async (secret) => (secret === 'good' ? { tokenId: 't1', name: 'a-token', tenant: 'a', role: 'deploy' } : undefined) });
    registerStreamRoutes(api, streams);
  }, { prefix: '/api/v1' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/stream`, { headers: { authorization: 'Bearer good' } });
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
  assert.equal((await fetch(`http://127.0.0.1:${port}/api/v1/stream`)).status, 401);
});
