// Control API: auth, the one error shape, tokens, and the OpenAPI document.
import { test } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import assert from 'node:assert/strict';
import { rmSync, statSync } from 'node:fs';
import { startTestDaemon } from '../helpers/daemon.ts';
import { SkiffClient } from '../../src/api/client.ts';
import { SkiffError } from '../../src/core/errors.ts';

test('API requests need a token and errors have the API shape', async (t) => {
  const d = await startTestDaemon(t);
  const anon = await fetch(`${d.url}/api/v1/health`);
  assert.equal(anon.status, 401);
  assert.deepEqual(Object.keys(((await anon.json()) as { error: object }).error).sort(), ['code', 'message']);
  const bad = await fetch(`${d.url}/api/v1/health`, { headers: { authorization: 'Bearer skf_nope' } });
  assert.equal(bad.status, 401);
  const missing = await fetch(`${d.url}/api/v1/nothing-here`, { headers: { authorization: `Bearer ${d.token}` } });
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
  const invalid = await fetch(`${d.url}/api/v1/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${d.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: '', role: 'king' }),
  });
  assert.equal(invalid.status, 400);
  assert.equal(((await invalid.json()) as { error: { code: string } }).error.code, 'BAD_REQUEST');
});

test('tokens: create, use, list, revoke; only admins manage tokens', async (t) => {
  const d = await startTestDaemon(t);
  const admin = new SkiffClient({ baseUrl: d.url, token: d.token });
  const push = await admin.createToken('ci', 'push');
  assert.match(push.secret, /^skf_/);
  const asPush = new SkiffClient({ baseUrl: d.url, token: push.secret });
  assert.equal((await asPush.health()).status, 'ok');
  await assert.rejects(asPush.listTokens(), (e: unknown) => e instanceof SkiffError && e.code === 'DENIED');
  const { tokens } = await admin.listTokens();
  assert.deepEqual(tokens.map((x) => x.name).sort(), ['admin', 'ci']);
  assert.ok(tokens.every((x) => !('hash' in x)));
  await admin.revokeToken(push.id);
  await assert.rejects(asPush.health(), (e: unknown) => e instanceof SkiffError && e.code === 'UNAUTHORIZED');
});

test('the admin token survives restarts and is re-created when its file is lost', async (t) => {
  const first = await startTestDaemon(t);
  const token = first.token;
  await first.daemon.stop();
  const second = await startTestDaemon(t, { dataDir: first.dataDir });
  assert.equal(second.token, token);
  await second.daemon.stop();
  rmSync(second.daemon.adminTokenFile);
  const third = await startTestDaemon(t, { dataDir: first.dataDir });
  assert.notEqual(third.token, token);
  assert.equal(statSync(third.daemon.adminTokenFile).mode & 0o777, 0o600);
  assert.equal((await new SkiffClient({ baseUrl: third.url, token: third.token }).health()).status, 'ok');
});

test('the OpenAPI document describes the API', async (t) => {
  const d = await startTestDaemon(t);
  const res = await fetch(`${d.url}/api/openapi.json`);
  assert.equal(res.status, 200);
  const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
  assert.match(doc.openapi, /^3\./);
  for (const p of ['/api/v1/health', '/api/v1/tokens', '/api/v1/tokens/{id}', '/api/v1/registry/gc', '/healthz', '/readyz']) assert.ok(doc.paths[p], `${p} missing`);
  // a maintained validator accepts it (the document was 3.0.3 with JSON Schema 2020 keywords: 22 errors)
  await assert.doesNotReject(SwaggerParser.validate(structuredClone(doc) as never), 'a valid OpenAPI document');
});

test('/healthz and /readyz answer without a token; any unknown route answers in the API error shape', async (t) => {
  const d = await startTestDaemon(t);
  const health = await fetch(`${d.url}/healthz`);
  assert.equal(health.status, 200);
  assert.equal(((await health.json()) as { status: string }).status, 'ok');
  const ready = await fetch(`${d.url}/readyz`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { status: 'ready', checks: { store: 'ok' } });
  for (const p of ['/nope', '/api/nope', '/api/v2/services']) {
    const res = await fetch(`${d.url}${p}`);
    assert.equal(res.status, 404, p);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'NOT_FOUND', p);
    assert.match(body.error.message, /no endpoint GET/);
  }
});
