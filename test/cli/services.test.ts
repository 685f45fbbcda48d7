// `skiff deploy | ls | describe | logs | scale | traffic | rollback | rm` end to end: the real CLI in a
// child process against an in-process daemon running real runc instances of a busybox-httpd image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { spawnSkiff, skiffOk as ok, skiffFails as fails } from '../helpers/cli.ts';
import { gatewayGet, readyCount, until } from '../helpers/serving.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;

/** The value printed after `label` at the start of a line of deploy's output. */
function field(out: string, label: string): string {
  const m = new RegExp(`^${label}\\s+(\\S+)`, 'm').exec(out);
  assert.ok(m, `no "${label}" line in:\n${out}`);
  return m[1]!;
}

test('deploy with flags and -f, ls, describe, logs (-f), traffic, scale, rollback, rm', { skip }, async (t) => {
  const d = await startTestDaemon(t);
  const work = mkdtempSync(path.join(os.tmpdir(), 'skiff-cli-services-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const repo = uniqueRepo('cli-svc');
  const v1 = await pushHttpdImage(d, repo, 'v1');
  await pushHttpdImage(d, repo, 'v2');
  const gw = new URL(d.gatewayUrl);

  const out1 = await ok(d, ['deploy', 'web', '--image', v1.reference, '--port', '8080', '--env', 'GREETING=hi', '--memory', '64Mi', '--cpu', '0.5', '--min', '1', '--max', '3', '--concurrency', '5', '--timeout', '30s']);
  const labels = out1.split('\n').map((l) => l.split(/\s/)[0]).filter(Boolean);
  assert.deepEqual(labels.slice(0, 6), ['resolving', 'pinned', 'unpacked', 'revision', 'starting', 'ready'], out1);
  assert.equal(field(out1, 'pinned'), `${repo}@${v1.digest}`);
  assert.match(out1, /^unpacked\s+1 of 1 layers/m);
  assert.ok(out1.includes(`http://web.localhost:${gw.port}/`), out1);
  const pathUrl = `http://${gw.hostname}:${gw.port}/s/web/`;
  assert.ok(out1.includes(pathUrl), out1);
  const rev1 = field(out1, 'revision');
  const byPath = await fetch(pathUrl);
  assert.equal(await byPath.text(), 'hello from v1\n');
  assert.match((await gatewayGet(d.gatewayUrl, 'web', '/cgi-bin/env')).body, /^GREETING=hi$/m);
  assert.equal((await gatewayGet(d.gatewayUrl, 'web', '/cgi-bin/limits')).body, `memory ${64 * 1024 * 1024}\ncpu 50000 100000\n`);
  assert.match(await ok(d, ['describe', 'web']), /^scaling\s+min 1, max 3, concurrency 5, metric concurrency$/m);

  // The same service from a deploy document: a second revision running /bin/app, which logs.
  const file = path.join(work, 'skiff.yaml');
  writeFileSync(file, `name: web\nimage: ${repo}:v2\ncommand: [/bin/app]\nresources: { memory: 64Mi }\nscaling: { min: 1, max: 2, window: 2s }\nreadiness: { path: /cgi-bin/host }\n`);
  const out2 = await ok(d, ['deploy', '-f', file]);
  const rev2 = field(out2, 'revision');
  assert.notEqual(rev2, rev1);
  assert.match(out2, /^ready\s+in /m);
  await until('v2 serving', async () => (await gatewayGet(d.gatewayUrl, 'web')).body === 'hello from v2\n');

  const ls = await ok(d, ['ls']);
  assert.match(ls, new RegExp(`^web\\s+${rev2}\\s+[12]\\s+http://web\\.localhost:${gw.port}/$`, 'm'), ls);

  assert.match(await ok(d, ['logs', 'web']), /stdout app started/);
  const follow = spawnSkiff(d.url, d.token, ['logs', 'web', '-f']);
  t.after(() => follow.kill());
  let streamed = '';
  follow.stdout.on('data', (b: Buffer) => (streamed += b));
  await until('logs -f prints the existing lines', () => streamed.includes('app started'));
  assert.equal((await gatewayGet(d.gatewayUrl, 'web', '/cgi-bin/say?streamed-line')).status, 200);
  await until('logs -f streams a new line', () => streamed.includes('stderr said streamed-line'));
  follow.kill();

  assert.match(await ok(d, ['traffic', 'web', `${rev1}=90`, `${rev2}=10`]), new RegExp(`^traffic\\s+${rev1}=90%\\s+${rev2}=10%$`, 'm'));
  await fails(d, ['traffic', 'web', `${rev1}=50`, `${rev2}=20`], /error BAD_REQUEST: .*add up to 70/);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  await until('both revisions ready', async () => (await readyCount(client, 'web', rev1)) > 0 && (await readyCount(client, 'web', rev2)) > 0);
  const described = await ok(d, ['describe', 'web']);
  for (const want of [
    /^service\s+web$/m,
    new RegExp(`^url\\s+http://web\\.localhost:${gw.port}/\\s+\\(or ${pathUrl.replace(/\./g, '\\.')}\\)$`, 'm'),
    /^scaling\s+min 1, max 2, concurrency unlimited, metric concurrency$/m,
    new RegExp(`^traffic\\s+${rev1}=90%\\s+${rev2}=10%$`, 'm'),
    new RegExp(`^  ${rev1}\\s+${repo}@${v1.digest}`, 'm'),
    new RegExp(`^    ${rev2}-[0-9a-f]{6}\\s+ready\\s+10\\.`, 'm'),
    /^events$/m,
    new RegExp(`\\sdeploy\\s+${rev2} revision ${rev2} of ${repo}:v2`),
    /\straffic\s+.*=90%/,
    /\sready\s+\S+ \S+-[0-9a-f]{6} ready in \d+ ms/,
    // autoscaler decisions are events too
    /\sscale\s+\S+ desired \d+ \(was [^)]+\): /,
  ]) {
    assert.match(described, want);
  }

  assert.equal((await ok(d, ['scale', 'web', '--min', '0', '--max', '2'])).trim(), 'web: min 0, max 2');
  assert.match(await ok(d, ['describe', 'web']), /^scaling\s+min 0, max 2,/m);
  assert.match(await ok(d, ['rollback', 'web']), new RegExp(`^traffic\\s+${rev1}=100%$`, 'm'));
  await until('rolled back to v1', async () => (await gatewayGet(d.gatewayUrl, 'web')).body === 'hello from v1\n');

  assert.equal((await ok(d, ['rm', 'web'])).trim(), 'deleted web');
  await until('instances removed', () => readdirSync(path.join(d.dataDir, 'instances')).length === 0, 30_000);
  await fails(d, ['describe', 'web'], /error NOT_FOUND: no service named web/);
  assert.doesNotMatch(await ok(d, ['ls']), /^web /m);
});

test('bad input: unknown service, unknown image, traffic to an unknown revision', { skip }, async (t) => {
  const d = await startTestDaemon(t);
  const repo = uniqueRepo('cli-bad');
  await pushHttpdImage(d, repo, 'v1');
  await fails(d, ['describe', 'nope'], /^skiff: error NOT_FOUND: /m);
  await fails(d, ['scale', 'nope', '--max', '2'], /error NOT_FOUND/);
  await fails(d, ['logs', 'nope'], /error NOT_FOUND/);
  await fails(d, ['rm', 'nope'], /error NOT_FOUND/);
  await fails(d, ['deploy', 'x', '--image', `${repo}:missing`], /error MANIFEST_UNKNOWN/);
  await fails(d, ['deploy', 'x', '--image', `${uniqueRepo('never-pushed')}:v1`], /error (NAME_UNKNOWN|MANIFEST_UNKNOWN)/);
  await fails(d, ['deploy', 'x'], /error BAD_REQUEST: --image/);
  await ok(d, ['deploy', 'y', '--image', `${repo}:v1`]);
  await fails(d, ['traffic', 'y', 'y-99=100'], /error NOT_FOUND: revision y-99/);
  await fails(d, ['traffic', 'y', 'y-99=abc'], /error BAD_REQUEST/);
});

test('skiff logs interleaves every instance’s lines by time, kept and live alike', { skip }, async (t) => {
  const d = await startTestDaemon(t);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const image = await pushHttpdImage(d, uniqueRepo('logs-order'), 'v1');
  writeFileSync(path.join(d.dataDir, 'web.yaml'), `name: web\nimage: ${image.reference}\ncommand: ['/bin/app']\nscaling: { min: 2, max: 2, concurrency: 1 }\n`);
  await ok(d, ['deploy', '-f', path.join(d.dataDir, 'web.yaml')]);
  await until('two ready instances', async () => (await readyCount(client, 'web')) === 2);
  // concurrency 1 and two requests at a time: each round reaches both instances, so their lines alternate in time
  for (let i = 0; i < 4; i++) {
    await Promise.all([gatewayGet(d.gatewayUrl, 'web', `/cgi-bin/slow?0.3`), gatewayGet(d.gatewayUrl, 'web', `/cgi-bin/say?r${i}`)]);
    await Promise.all([gatewayGet(d.gatewayUrl, 'web', `/cgi-bin/say?s${i}`), gatewayGet(d.gatewayUrl, 'web', `/cgi-bin/slow?0.3`)]);
  }
  const out = await ok(d, ['logs', 'web']);
  const lines = out.trim().split('\n').map((l) => l.split(' '));
  assert.equal(new Set(lines.map((l) => l[0])).size, 2, `both instances' lines:\n${out}`);
  const times = lines.map((l) => l[1]!);
  assert.deepEqual(times, [...times].sort(), `in time order:\n${out}`);
  const switches = lines.slice(1).filter((l, i) => l[0] !== lines[i]![0]).length;
  assert.ok(switches >= 2, `the instances' lines alternate (${switches} switches):\n${out}`);
});
