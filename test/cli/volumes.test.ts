// `skiff volume create|ls|describe|export|import|rm` and `deploy --volume`, through the real CLI
// against a real daemon (loop-mounted volumes: root).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { skiff, skiffOk } from '../helpers/cli.ts';
import { tarOf } from '../images/fixtures.ts';

const skip = !isRoot && !isCI ? 'needs root (loop devices, mount)' : false;

test('skiff volume: create, deploy --volume, ls, describe, export -f, import -f, rm refused in use then done', { skip }, async (t) => {
  const d = await startTestDaemon(t);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-test-volcli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const image = await pushHttpdImage(d, uniqueRepo('volcli'), 'v1');
  assert.match(await skiffOk(d, ['volume', 'create', 'data', '--size', '32Mi']), /created\s+data: 32Mi/);
  assert.match(await skiffOk(d, ['volume', 'create', 'pool', '--size', '16Mi', '--shared']), /created\s+pool: 16Mi, shared/);
  const bad = await skiff(d, ['deploy', 'web', '--image', image.reference, '--volume', 'data:/srv', '--max', '2']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--shared/);
  const noColon = await skiff(d, ['deploy', 'web', '--image', image.reference, '--volume', 'data']);
  assert.match(noColon.stderr, /--volume: expected NAME:\/PATH\[:ro\]/);
  await skiffOk(d, ['deploy', 'web', '--image', image.reference, '--volume', 'data:/srv', '--volume', 'pool:/pool:ro', '--max', '1', '--no-wait']);
  assert.match(await skiffOk(d, ['describe', 'web']), /volumes data:\/srv pool:\/pool:ro/);
  const ls = await skiffOk(d, ['volume', 'ls']);
  assert.match(ls, /^NAME\s+SIZE\s+USED\s+SHARED\s+USED BY/);
  assert.match(ls, /data\s+32Mi\s+\S+\s+no\s+web/);
  assert.match(await skiffOk(d, ['volume', 'describe', 'pool']), /shared\s+yes/);
  assert.deepEqual(JSON.parse(await skiffOk(d, ['volume', 'describe', 'data', '-o', 'json'])).usedBy, ['web']);

  writeFileSync(path.join(dir, 'in.tar'), await tarOf([{ name: 'hello.txt', mode: 0o644, body: 'hi\n' }]));
  assert.match(await skiffOk(d, ['volume', 'import', 'data', '-f', path.join(dir, 'in.tar')]), /imported\s+1 entries into data/);
  await skiffOk(d, ['volume', 'export', 'data', '-f', path.join(dir, 'out.tar')]);
  assert.ok(readFileSync(path.join(dir, 'out.tar')).includes('hello.txt'));

  const inUse = await skiff(d, ['volume', 'rm', 'data']);
  assert.equal(inUse.code, 1);
  assert.match(inUse.stderr, /in use by service web/);
  await skiffOk(d, ['rm', 'web']);
  assert.match(await skiffOk(d, ['volume', 'rm', 'data']), /removed\s+data/);
  const gone = await skiff(d, ['volume', 'describe', 'data']);
  assert.match(gone.stderr, /no volume named data/);
});
