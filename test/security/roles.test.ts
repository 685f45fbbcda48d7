// Roles as a table: docs/security.md's route × role table is the specification, and this test walks
// every route of the OpenAPI document and every registry operation with no token and with each role's
// token. An allowed call may fail for its own reasons (404 for a service that does not exist, 400 for
// an empty body), never 401 or 403; a refused one is exactly 401 UNAUTHORIZED without a token and
// 403 DENIED with one. Nothing the walk does changes state: every target is a name that does not exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startTestDaemon } from '../helpers/daemon.ts';
import { SkiffClient } from '../../src/api/client.ts';
import { TOKEN_ROLES, type TokenRole } from '../../src/core/auth.ts';

// each role's token of the `default` project, and the operator's admin token spanning every project
type Caller = 'no token' | TokenRole | 'operator';
const CALLERS: Caller[] = ['no token', ...TOKEN_ROLES, 'operator'];

/** docs/security.md's roles table: the route cell → the callers with a ✓. */
function documentedTable(): Map<string, Set<Caller>> {
  const doc = readFileSync('docs/security.md', 'utf8');
  const section = doc.slice(doc.indexOf('## Roles'), doc.indexOf('\n## ', doc.indexOf('## Roles') + 1));
  const lines = section.split('\n').filter((l) => l.startsWith('|'));
  const header = lines[0]!.split('|').slice(2, -1).map((c) => c.trim());
  assert.deepEqual([...header].sort(), [...CALLERS].sort(), 'the table has one column per caller');
  const table = new Map<string, Set<Caller>>();
  for (const line of lines.slice(2)) {
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    const route = /^`([^`]+)`/.exec(cells[0]!)?.[1] ?? cells[0]!;
    table.set(route, new Set(header.filter((_, i) => cells[i + 1] === '✓') as Caller[]));
  }
  return table;
}

test('every route × every role behaves as docs/security.md’s table says', async (t) => {
  const d = await startTestDaemon(t);
  const admin = new SkiffClient({ baseUrl: d.url, token: d.token });
  const tokens: Record<Caller, string | undefined> = { 'no token': undefined, operator: d.token, admin: '', deploy: '', push: '', pull: '' };
  for (const role of TOKEN_ROLES) tokens[role] = (await admin.createToken(`walk-${role}`, role, 'default')).secret;
  const table = documentedTable();

  const call = async (caller: Caller, method: string, url: string, body?: string) => {
    const headers: Record<string, string> = {};
    if (tokens[caller]) headers.authorization = `Bearer ${tokens[caller]}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url, { method, headers, body, redirect: 'manual' });
    // the change stream (server-sent events) does not end by itself: its status is all there is to check
    if (res.status === 200 && res.headers.get('content-type')?.startsWith('text/event-stream')) {
      await res.body?.cancel();
      return { status: res.status, text: '' };
    }
    // a HEAD answer has no body: its status is all there is to check
    const text = method === 'HEAD' ? (res.status === 401 ? 'UNAUTHORIZED' : res.status === 403 ? 'DENIED' : '') : await res.text();
    return { status: res.status, text };
  };
  const check = (route: string, caller: Caller, got: { status: number; text: string }) => {
    const allowed = table.get(route)?.has(caller);
    assert.notEqual(allowed, undefined, `${route} is in docs/security.md's roles table`);
    if (allowed) {
      assert.ok(got.status !== 401 && got.status !== 403, `${caller} may ${route}, got ${got.status} ${got.text.slice(0, 200)}`);
    } else if (caller === 'no token') {
      assert.equal(got.status, 401, `${route} without a token: ${got.text.slice(0, 200)}`);
      assert.match(got.text, /UNAUTHORIZED/);
    } else {
      assert.equal(got.status, 403, `${caller} may not ${route}: ${got.text.slice(0, 200)}`);
      assert.match(got.text, /DENIED/);
    }
  };

  await t.test('the API: every operation of the OpenAPI document, and nothing the table names is missing from it', async () => {
    const spec = (await (await fetch(`${d.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(spec.paths).flatMap(([p, ops]) => Object.keys(ops).filter((m) => m !== 'parameters').map((m) => `${m.toUpperCase()} ${p}`));
    const documented = [...table.keys()].filter((r) => /^[A-Z]+ \/(api|healthz|readyz|metrics)/.test(r) && r !== 'GET /api/openapi.json');
    assert.deepEqual([...documented].sort(), [...operations].sort(), 'the table lists exactly the OpenAPI operations');
    for (const op of [...operations, 'GET /api/openapi.json']) {
      const [method, p] = op.split(' ') as [string, string];
      const url = d.url + p.replace(/\{[^}]+\}/g, 'nope-walk');
      const body = ['POST', 'PUT', 'PATCH'].includes(method) ? '{}' : undefined;
      for (const caller of CALLERS) {
        // an allowed `skiff down` stops this daemon: it is walked last, below
        if (op === 'POST /api/v1/daemon/down' && table.get(op)?.has(caller)) continue;
        check(op, caller, await call(caller, method, url, body));
      }
    }
  });

  await t.test('the registry: reads, writes and the login exchange', async () => {
    const reads = ['GET /v2/', 'GET /v2/walk/app/tags/list', 'GET /v2/walk/app/manifests/v1', 'HEAD /v2/walk/app/manifests/v1', `GET /v2/walk/app/blobs/sha256:${'0'.repeat(64)}`];
    const writes = ['POST /v2/walk/app/blobs/uploads/', 'PATCH /v2/walk/app/blobs/uploads/nope', 'PUT /v2/walk/app/blobs/uploads/nope', 'PUT /v2/walk/app/manifests/v1', 'DELETE /v2/walk/app/manifests/v1'];
    for (const caller of CALLERS) {
      for (const op of reads) check('GET, HEAD /v2/…', caller, await call(caller, op.split(' ')[0]!, d.url + op.split(' ')[1]));
      for (const op of writes) check('POST, PUT, PATCH, DELETE /v2/…', caller, await call(caller, op.split(' ')[0]!, d.url + op.split(' ')[1]));
      check('GET /v2/token', caller, await call(caller, 'GET', `${d.url}/v2/token?service=skiff&scope=repository:walk/app:pull`));
    }
  });

  await t.test('the gateway takes no Skiff token', async () => {
    for (const caller of CALLERS) {
      const headers: Record<string, string> = {};
      if (tokens[caller]) headers.authorization = `Bearer ${tokens[caller]}`;
      const res = await fetch(`${d.gatewayUrl}/s/nope-walk/`, { headers });
      check("gateway (services' own traffic)", caller, { status: res.status, text: await res.text() });
    }
  });

  await t.test('last: the roles allowed to stop the daemon stop it', async () => {
    const allowed = [...(table.get('POST /api/v1/daemon/down') ?? [])];
    assert.deepEqual(allowed, ['operator']);
    check('POST /api/v1/daemon/down', 'operator', await call('operator', 'POST', `${d.url}/api/v1/daemon/down`));
    await d.daemon.stopped;
  });
});
