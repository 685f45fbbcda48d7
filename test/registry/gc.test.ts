// Registry garbage collection: unreferenced blobs' files go, referenced ones stay, the grace window
// protects fresh uploads, and GC running during pushes never loses a blob a pushed manifest needs.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import {
  v2, pushBlob, pushImage, imageManifest, manifestBytes, randomBlob, uniqueRepo, expectOciError, CONFIG_TYPE, type Descriptor,
} from '../helpers/oci.ts';
import { digestOf } from '../../src/core/digest.ts';

function blobFile(d: TestDaemon, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return path.join(d.dataDir, 'registry', 'blobs', 'sha256', hex.slice(0, 2), hex);
}

async function runGc(d: TestDaemon): Promise<{ blobsDeleted: number; orphanFilesDeleted: number }> {
  const res = await fetch(`${d.url}/api/v1/registry/gc`, { method: 'POST', headers: { authorization: `Bearer ${d.token}` } });
  assert.equal(res.status, 200);
  return (await res.json()) as { blobsDeleted: number; orphanFilesDeleted: number };
}

/** GET of the blob answers 200 with bytes that hash to its digest. */
async function assertReadable(d: TestDaemon, repo: string, digest: string): Promise<void> {
  const res = await v2(d, `/v2/${repo}/blobs/${digest}`);
  assert.equal(res.status, 200, `${repo}@${digest}: ${res.status}`);
  assert.equal(digestOf(Buffer.from(await res.arrayBuffer())), digest);
}

test('GC with grace 0 deletes unreferenced blobs and keeps referenced ones', async (t) => {
  const d = await startTestDaemon(t, { settings: (s) => { s.registry.gcGraceSeconds = 0; } });
  const repo = uniqueRepo('gc');
  const kept = await pushImage(d, repo, 'kept', { layers: 2 });
  const shared = kept.layers[0]!;
  const doomedLayer = await pushBlob(d, repo, randomBlob(2048));
  const doomedConfig = await pushBlob(d, repo, '{"doomed":true}', CONFIG_TYPE);
  const doomed = manifestBytes(imageManifest(doomedConfig, [shared, doomedLayer]));
  const doomedDigest = digestOf(doomed);
  assert.equal((await v2(d, `/v2/${repo}/manifests/doomed`, { method: 'PUT', body: doomed, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } })).status, 201);
  const orphan = await pushBlob(d, repo, randomBlob(512));
  assert.equal((await v2(d, `/v2/${repo}/manifests/${doomedDigest}`, { method: 'DELETE' })).status, 202);

  const result = await runGc(d);
  assert.equal(result.blobsDeleted, 4, 'doomed manifest, its config, its own layer, the orphan');

  for (const gone of [doomedDigest, doomedConfig.digest, doomedLayer.digest, orphan.digest]) {
    assert.equal(existsSync(blobFile(d, gone)), false, `${gone} file deleted`);
    await expectOciError(await v2(d, `/v2/${repo}/blobs/${gone}`), 404, 'BLOB_UNKNOWN');
  }
  for (const digest of [kept.digest, kept.config.digest, ...kept.layers.map((l) => l.digest)]) {
    assert.equal(existsSync(blobFile(d, digest)), true, `${digest} file kept`);
  }
  for (const l of [kept.config, ...kept.layers]) await assertReadable(d, repo, l.digest);
  const manifest = await v2(d, `/v2/${repo}/manifests/kept`);
  assert.deepEqual(Buffer.from(await manifest.arrayBuffer()), kept.bytes);

  // A second run finds nothing more to do.
  const again = await runGc(d);
  assert.deepEqual([again.blobsDeleted, again.orphanFilesDeleted], [0, 0]);
});

test('GC keeps everything a manifest deleted in one repository still needs in another', async (t) => {
  const d = await startTestDaemon(t, { settings: (s) => { s.registry.gcGraceSeconds = 0; } });
  const [a, b] = [uniqueRepo('gc'), uniqueRepo('gc')];
  const img = await pushImage(d, a, 'v1', { layers: 2 });
  for (const blob of [img.config, ...img.layers]) {
    assert.equal((await v2(d, `/v2/${b}/blobs/uploads/?mount=${blob.digest}&from=${a}`, { method: 'POST' })).status, 201);
  }
  assert.equal((await v2(d, `/v2/${b}/manifests/v1`, { method: 'PUT', body: img.bytes, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } })).status, 201);
  assert.equal((await v2(d, `/v2/${a}/manifests/${img.digest}`, { method: 'DELETE' })).status, 202);
  await runGc(d);
  const manifest = await v2(d, `/v2/${b}/manifests/v1`);
  assert.deepEqual(Buffer.from(await manifest.arrayBuffer()), img.bytes);
  for (const blob of [img.config, ...img.layers]) await assertReadable(d, b, blob.digest);
});

test('GC with the default grace keeps a fresh unreferenced blob', async (t) => {
  const d = await startTestDaemon(t);
  assert.ok(d.settings.registry.gcGraceSeconds > 0);
  const repo = uniqueRepo('gc');
  const fresh = await pushBlob(d, repo, randomBlob(300));
  const img = await pushImage(d, repo, 'v1');
  assert.equal((await v2(d, `/v2/${repo}/manifests/${img.digest}`, { method: 'DELETE' })).status, 202);
  assert.equal((await runGc(d)).blobsDeleted, 0);
  for (const digest of [fresh.digest, img.config.digest, img.layers[0]!.digest]) {
    assert.ok(existsSync(blobFile(d, digest)));
    await assertReadable(d, repo, digest);
  }
});

test('a blob committed from an old upload file gets a fresh mtime, so GC grace covers it', async (t) => {
  // GC spares unrecorded files younger than the grace window (a commit may be between rename and its
  // metadata row). An upload resumed long after its bytes were written must not land with an old mtime.
  const d = await startTestDaemon(t);
  const repo = uniqueRepo('gc');
  const data = randomBlob(1000);
  const start = await v2(d, `/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  const location = start.headers.get('location')!;
  assert.equal((await v2(d, location, { method: 'PATCH', body: data })).status, 202);
  const hourAgo = new Date(Date.now() - 2 * 3600_000);
  await utimes(path.join(d.dataDir, 'registry', 'uploads', location.split('/').at(-1)!), hourAgo, hourAgo);
  const before = Date.now();
  assert.equal((await v2(d, `${location}?digest=${digestOf(data)}`, { method: 'PUT' })).status, 201);
  const mtime = (await stat(blobFile(d, digestOf(data)))).mtimeMs;
  assert.ok(mtime >= before - 1000, `blob file mtime ${new Date(mtime).toISOString()} is older than its commit`);
});

test('GC running during pushes never loses a blob of a manifest that was accepted', async (t) => {
  const d = await startTestDaemon(t, { settings: (s) => { s.registry.gcGraceSeconds = 0; } });
  const repo = uniqueRepo('gc');
  // Images share a small pool of layers, and every other image is deleted at once, so GC always has
  // garbage to collect while shared content is being pushed again.
  const pool = Array.from({ length: 3 }, () => randomBlob(4096));
  const accepted: Array<{ digest: string; blobs: string[] }> = [];
  let refused = 0;

  async function pushOne(worker: number, i: number): Promise<void> {
    const config = Buffer.from(JSON.stringify({ worker, i }));
    const layers = [pool[(worker + i) % pool.length]!, randomBlob(256)];
    const bytes = manifestBytes(imageManifest(
      { mediaType: CONFIG_TYPE, digest: digestOf(config), size: config.length },
      layers.map((l): Descriptor => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digestOf(l), size: l.length })),
    ));
    // Like a client, re-push and retry when GC collected a blob between its upload and the PUT (grace 0).
    // The manifest is refused then, never half-accepted.
    for (let attempt = 0; ; attempt++) {
      for (const blob of [config, ...layers]) await pushBlob(d, repo, blob);
      const res = await v2(d, `/v2/${repo}/manifests/w${worker}-${i}`, { method: 'PUT', body: bytes, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
      if (res.status === 201) break;
      await expectOciError(res, 404, 'MANIFEST_BLOB_UNKNOWN');
      refused++;
      if (attempt === 5) return;
    }
    if (i % 2 === 1) {
      assert.equal((await v2(d, `/v2/${repo}/manifests/${digestOf(bytes)}`, { method: 'DELETE' })).status, 202);
      return;
    }
    accepted.push({ digest: digestOf(bytes), blobs: [digestOf(config), ...layers.map((l) => digestOf(l))] });
  }

  let pushing = true;
  let collections = 0;
  const collector = (async () => {
    while (pushing) {
      await d.daemon.gc();
      collections++;
      await new Promise((r) => setImmediate(r));
    }
  })();
  await Promise.all(Array.from({ length: 4 }, async (_, worker) => {
    for (let i = 0; i < 8; i++) await pushOne(worker, i);
  }));
  pushing = false;
  await collector;
  await d.daemon.gc();

  assert.ok(collections > 1, 'GC ran while pushing');
  assert.ok(accepted.length > 0, `no manifest accepted (${refused} refusals)`);
  for (const m of accepted) {
    const res = await v2(d, `/v2/${repo}/manifests/${m.digest}`);
    assert.equal(res.status, 200);
    assert.equal(digestOf(Buffer.from(await res.arrayBuffer())), m.digest);
    for (const blob of m.blobs) await assertReadable(d, repo, blob);
  }
});

test('GC racing re-pushes of the same content never leaves a visible blob without its bytes', async (t) => {
  // GC forgets unreferenced rows, then deletes their files; a push of the same content in between
  // re-commits the row and must keep the file. Visible (HEAD 200) must always mean readable.
  const d = await startTestDaemon(t, { settings: (s) => { s.registry.gcGraceSeconds = 0; } });
  const repo = uniqueRepo('gc');
  let visible = 0;
  for (let round = 0; round < 2; round++) {
    const blobs = Array.from({ length: 60 }, () => randomBlob(64));
    for (const b of blobs) await pushBlob(d, repo, b);
    await new Promise((r) => setTimeout(r, 5));
    const gc = d.daemon.gc();
    let next = 0;
    await Promise.all(Array.from({ length: 6 }, async () => {
      while (next < blobs.length) await pushBlob(d, repo, blobs[next++]!);
    }));
    await gc;
    for (const b of blobs) {
      const digest = digestOf(b);
      if ((await v2(d, `/v2/${repo}/blobs/${digest}`, { method: 'HEAD' })).status !== 200) continue;
      visible++;
      const get = await v2(d, `/v2/${repo}/blobs/${digest}`, { signal: AbortSignal.timeout(10_000) });
      assert.equal(get.status, 200, digest);
      assert.equal(digestOf(Buffer.from(await get.arrayBuffer())), digest, `${digest} is visible but its bytes are gone`);
    }
  }
  assert.ok(visible > 0, 'some re-pushed blobs stayed visible');
});
