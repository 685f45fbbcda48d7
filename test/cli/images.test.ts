// `skiff images` and `skiff image rm` through the compiled CLI against a daemon's registry: what is
// listed (repository, tag, digest, size as stored), untagging keeps the manifest under its other tags,
// removing by digest takes every tag with it, and the JSON form is the same rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushImage, putManifest, uniqueRepo } from '../helpers/oci.ts';
import { skiff } from '../helpers/cli.ts';

test('skiff images lists repositories, tags, digests and sizes; image rm untags or deletes', async (t) => {
  const d = await startTestDaemon(t);
  const repo = uniqueRepo('imgs');
  const v1 = await pushImage(d, repo, 'v1');
  await putManifest(d, repo, 'v1-alias', v1.bytes, v1.descriptor.mediaType); // a second tag on the same manifest
  const list = async (...args: string[]) => {
    const r = await skiff(d, ['images', ...args, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { images: Array<{ repository: string; tag: string; digest: string; sizeBytes: number; kind: string }> }).images;
  };
  const rows = await list(repo);
  assert.deepEqual(rows.map((r) => r.tag).sort(), ['v1', 'v1-alias']);
  for (const r of rows) {
    assert.equal(r.digest, v1.digest);
    assert.equal(r.sizeBytes, v1.config.size + v1.layers.reduce((a, l) => a + l.size, 0));
    assert.equal(r.kind, 'image');
  }
  const table = await skiff(d, ['images']);
  assert.match(table.stdout, /^REPOSITORY\s+TAG\s+DIGEST\s+SIZE$/m);
  assert.match(table.stdout, new RegExp(`^${repo}\\s+v1\\s+sha256:[0-9a-f]{12}\\s+\\d`, 'm'));

  const untag = await skiff(d, ['image', 'rm', `${repo}:v1-alias`]);
  assert.equal(untag.code, 0, untag.stderr);
  assert.equal(untag.stdout, `untagged ${repo}:v1-alias\n`);
  assert.deepEqual((await list(repo)).map((r) => r.tag), ['v1'], 'the manifest stays under its other tag');

  const del = await skiff(d, ['image', 'rm', `${repo}@${v1.digest}`]);
  assert.equal(del.code, 0, del.stderr);
  assert.deepEqual(await list(repo), []);
  const bare = await skiff(d, ['image', 'rm', repo]);
  assert.equal(bare.code, 1);
  assert.match(bare.stderr, /^skiff: error USAGE: image rm: name a tag or a digest/);
});
