// Bad input, as a user meets it: the compiled CLI in a child process and the API it calls. Every error
// is one line `skiff: error CODE: message` naming the flag or field, exit status 1, and nothing stored
// changes; the API names fields as the document spells them and rejects unknown ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { skiff } from '../helpers/cli.ts';
import { SkiffClient } from '../../src/api/client.ts';

const needsRuntime = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;

/** Runs the CLI and expects exit 1 with exactly one error line matching `line`. */
async function fails(d: TestDaemon, args: string[], line: RegExp, token?: string): Promise<void> {
  const r = await skiff(d, args, token);
  assert.equal(r.code, 1, `skiff ${args.join(' ')} should fail:\n${r.stdout}${r.stderr}`);
  const first = r.stderr.split('\n')[0]!;
  assert.match(first, /^skiff: error [A-Z_]+: /, `the error form: ${r.stderr}`);
  assert.match(first, line);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

async function api(d: TestDaemon, method: string, p: string, body: unknown): Promise<{ status: number; error: { code: string; message: string } }> {
  const contentType = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
  const res = await fetch(`${d.url}${p}`, { method, headers: { authorization: `Bearer ${d.token}`, 'content-type': contentType }, body: JSON.stringify(body) });
  return { status: res.status, error: ((await res.json()) as { error: { code: string; message: string } }).error };
}

test('the API rejects unknown fields and out-of-bounds numbers, naming the field as written', async (t) => {
  const d = await startTestDaemon(t);
  const cases: Array<[string, string, unknown, RegExp]> = [
    ['POST', '/api/v1/services', { name: 'a', image: 'x:1', enviroment: { A: '1' } }, /^enviroment: unknown field$/],
    ['POST', '/api/v1/services', { name: 'a', image: 'x:1', scaling: { maxx: 3 } }, /^scaling\.maxx: unknown field$/],
    ['POST', '/api/v1/services', { name: 'a', image: 'x:1', scaling: { max: 99999999999 } }, /^scaling\.max: must be <= 1000$/],
    ['POST', '/api/v1/services', { name: 'Bad_Name', image: 'x:1' }, /^name: must be a DNS label/],
    ['POST', '/api/v1/services', { name: 'a', image: 'x:1', env: { '1X': 'v' } }, /^env: key "1X" must be a variable name/],
    ['POST', '/api/v1/services', { name: 'a' }, /^image: required$/],
    ['POST', '/api/v1/services', { name: 'a', image: 'x:1', scaling: { metric: 'qps' } }, /^scaling\.metric: must be one of "concurrency", "rps"/],
    ['POST', '/api/v1/services', { name: 'a', image: 'x:1', placement: { constraints: ['node.role==manager', 'zone=edge'] } }, /^placement\.constraints\[1\]: "zone=edge": expected DESCRIPTOR==VALUE or DESCRIPTOR!=VALUE/],
    ['POST', '/api/v1/services', { name: 'a', image: 'x:1', placement: { spread: ['node.hostname'] } }, /^placement\.spread\[0\]: "node\.hostname": expected node\.labels\.KEY or engine\.labels\.KEY/],
    ['POST', '/api/v1/services', { name: 'a', image: 'x:1', placement: { zones: ['edge'] } }, /^placement\.zones: unknown field$/],
    ['POST', '/api/v1/services', { name: 'a', image: 'x:1', placement: { constraints: Array.from({ length: 17 }, (_, i) => `node.labels.k${i}==v`) } }, /^placement\.constraints: /],
    ['PATCH', '/api/v1/services/a/scaling', {}, /^the body: give at least one field$/],
    ['PATCH', '/api/v1/services/a', { scaling: { maxx: 3 } }, /^scaling\.maxx: unknown field$/],
    ['PATCH', '/api/v1/services/a', { name: 'b' }, /^name: unknown field$/],
    ['PATCH', '/api/v1/services/a', { port: 'eighty' }, /^port: must be integer or null$/],
    ['POST', '/api/v1/tokens', { name: 'x', role: 'king' }, /^role: must be one of "admin", "deploy", "push", "pull"$/],
  ];
  for (const [method, p, body, message] of cases) {
    const r = await api(d, method, p, body);
    assert.equal(r.status, 400, `${method} ${p} ${JSON.stringify(body)}`);
    assert.equal(r.error.code, 'BAD_REQUEST');
    assert.match(r.error.message, message);
    assert.doesNotMatch(r.error.message, /body\/|must match pattern/, 'no internals');
  }
  const listed = (await new SkiffClient({ baseUrl: d.url, token: d.token }).listServices()).services;
  assert.deepEqual(listed, [], 'nothing was deployed');
});

test('CLI usage errors: unknown option, missing argument, scale without flags, both --cpu and --cpus', async (t) => {
  const d = await startTestDaemon(t);
  await fails(d, ['deploy', 'a', '--image', 'x:1', '--nope'], /^skiff: error USAGE: unknown option '--nope'$/);
  await fails(d, ['scale'], /^skiff: error USAGE: missing required argument 'name'$/);
  await fails(d, ['scale', 'a'], /^skiff: error USAGE: scale: give --min and\/or --max/);
  await fails(d, ['deploy', 'a', '--image', 'x:1', '--cpu', '1', '--cpus', '2'], /^skiff: error USAGE: --cpu and --cpus are the same flag/);
  await fails(d, ['deploy', 'a', '--image', 'x:1', '--max', '99999999999'], /^skiff: error BAD_REQUEST: scaling\.max: must be <= 1000$/);
  await fails(d, ['deploy', 'a', '--image', 'x:1', '--min', 'two'], /^skiff: error BAD_REQUEST: --min: expected a non-negative integer, got "two"$/);
  await fails(d, ['deploy', 'a', '--image', 'x:1', '--placement', 'zone=edge'], /^skiff: error BAD_REQUEST: --placement: "zone=edge": expected DESCRIPTOR==VALUE or DESCRIPTOR!=VALUE/);
  await fails(d, ['update', 'a', '--spread', 'node.role'], /^skiff: error BAD_REQUEST: --spread: "node\.role": expected node\.labels\.KEY or engine\.labels\.KEY/);
  await fails(d, ['logs', 'a', '--tail', '-1'], /^skiff: error BAD_REQUEST: --tail: expected a non-negative integer, got "-1"$/);
});

test('tokens: duplicate names are a conflict, rm by id or name says what it revoked, a 401 names where the token came from', async (t) => {
  const d = await startTestDaemon(t);
  const created = await skiff(d, ['token', 'create', 'ci', '--role', 'deploy']);
  assert.equal(created.code, 0, created.stderr);
  await fails(d, ['token', 'create', 'ci'], /^skiff: error CONFLICT: a token named "ci" exists in tenant default/);
  const rm = await skiff(d, ['token', 'rm', 'ci']);
  assert.equal(rm.code, 0, rm.stderr);
  assert.match(rm.stdout, /^revoked [0-9a-f-]{36} \(ci, deploy\)\n$/);
  await fails(d, ['token', 'rm', 'ci'], /^skiff: error NOT_FOUND: no token with id or name "ci"/);
  await fails(d, ['ls'], /^skiff: error UNAUTHORIZED: .*\(the token sent came from SKIFF_TOKEN\)$/, 'skf_not-a-token');
});

test('gc says what its grace window kept', async (t) => {
  const d = await startTestDaemon(t);
  const r = await skiff(d, ['gc']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^kept: blobs uploaded, pulled or mounted in the last 1h, referenced or not \(registry\.gcGraceSeconds\)/m);
});

test('deploy --no-wait with min 2 says instances start in the background; prewarm beyond max and logs of an unknown revision fail', { skip: needsRuntime }, async (t) => {
  const d = await startTestDaemon(t);
  const image = await pushHttpdImage(d, uniqueRepo('errs'), 'v1');
  const r = await skiff(d, ['deploy', 'svc', '--image', image.reference, '--min', '2', '--max', '3', '--no-wait']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^starting {2}2 instance\(s\) in the background \(--no-wait\)/m);
  assert.doesNotMatch(r.stdout, /scaled to zero/);
  await fails(d, ['prewarm', 'svc', '--instances', '50'], /^skiff: error BAD_REQUEST: instances: 50 is more than svc's max scale \(3\)/);
  await fails(d, ['logs', 'svc', '--revision', 'nope'], /^skiff: error NOT_FOUND: revision: svc has no revision "nope" \(it has svc-00001\)$/);
});
