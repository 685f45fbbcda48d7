// Crash durability: the daemon runs as a child process while 8 workers push small images (monolithic and
// chunked uploads, plus one layer every worker shares); it is killed with SIGKILL three times at
// different moments. After each restart on the same data dir, every push the registry acknowledged
// (manifest PUT answered 201) must pull back byte-identical, no blob file may be half-written, and no
// temp file a kill left mid-write may outlive the restart.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { digestOf, newHash } from '../../src/core/digest.ts';
import { startChildDaemon, type ChildDaemon } from '../helpers/child-daemon.ts';
import { CONFIG_TYPE, LAYER_TYPE, imageManifest, pushBlob, putManifest, v2, type Descriptor, type RegistryTarget } from '../helpers/oci.ts';

const WORKERS = 8;
/** Acknowledged pushes (since the last start) at which each kill happens: early, middle, late. */
const KILL_AFTER = [2, 9, 20];

interface Acked {
  repo: string;
  tag: string;
  digest: string;
  bytes: Buffer;
  blobs: Descriptor[];
}

/** A blob pushed as POST + two PATCH chunks + PUT, so upload files exist mid-push. */
async function pushChunked(reg: RegistryTarget, repo: string, data: Buffer): Promise<Descriptor> {
  const digest = digestOf(data);
  const start = await v2(reg, `/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  assert.equal(start.status, 202);
  let location = start.headers.get('location')!;
  const half = data.length >> 1;
  for (const [from, to] of [[0, half], [half, data.length]] as const) {
    const res = await v2(reg, location, {
      method: 'PATCH',
      body: data.subarray(from, to),
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${from}-${to - 1}` },
    });
    assert.equal(res.status, 202);
    location = res.headers.get('location')!;
  }
  const done = await v2(reg, `${location}?digest=${digest}`, { method: 'PUT' });
  assert.equal(done.status, 201);
  return { mediaType: LAYER_TYPE, digest, size: data.length };
}

/** One image: a config, the layer all workers share, a monolithic and a chunked random layer. */
async function pushOne(reg: RegistryTarget, id: number, shared: Buffer): Promise<Acked> {
  const repo = `crash/worker${id}`;
  const config = await pushBlob(reg, repo, JSON.stringify({ architecture: 'amd64', os: 'linux', nonce: randomBytes(8).toString('hex') }), CONFIG_TYPE);
  const layers = [
    await pushBlob(reg, repo, shared),
    await pushBlob(reg, repo, randomBytes(16_384 + (id << 12))),
    await pushChunked(reg, repo, randomBytes(65_536 + (id << 13))),
  ];
  const tag = `t${randomBytes(6).toString('hex')}`;
  const { digest, bytes } = await putManifest(reg, repo, tag, imageManifest(config, layers));
  return { repo, tag, digest, bytes, blobs: [config, ...layers] };
}

/**
 * Pushes images until `killed()` or the first failure, recording acknowledged ones. A failure after the
 * kill is expected (nothing unacknowledged carries a promise); one before it is a registry bug.
 */
async function worker(reg: RegistryTarget, id: number, shared: Buffer, acked: Acked[], killed: () => boolean): Promise<unknown> {
  try {
    while (!killed()) acked.push(await pushOne(reg, id, shared));
  } catch (err) {
    if (!killed()) return err;
  }
  return undefined;
}

async function verifyAcked(reg: RegistryTarget, acked: Acked[]): Promise<void> {
  for (const a of acked) {
    for (const reference of [a.tag, a.digest]) {
      const res = await v2(reg, `/v2/${a.repo}/manifests/${reference}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
      const bytes = Buffer.from(await res.arrayBuffer());
      assert.equal(res.status, 200, `acknowledged ${a.repo}:${reference} is gone after the crash: ${bytes.toString()}`);
      assert.equal(digestOf(bytes), a.digest);
      assert.ok(bytes.equals(a.bytes));
    }
    for (const blob of a.blobs) {
      const res = await v2(reg, `/v2/${a.repo}/blobs/${blob.digest}`);
      const bytes = Buffer.from(await res.arrayBuffer());
      assert.equal(res.status, 200, `blob ${blob.digest} of acknowledged ${a.repo}:${a.tag} is gone`);
      assert.equal(digestOf(bytes), blob.digest);
    }
  }
}

/**
 * Every file under blobs/sha256/<xx>/ is named by its content's hash. Run after a restart, when no push
 * is in flight: the restart removed the temp files the kill left mid-write.
 */
async function verifyBlobFiles(dataDir: string): Promise<number> {
  const root = path.join(dataDir, 'registry', 'blobs', 'sha256');
  let checked = 0;
  for (const prefix of readdirSync(root)) {
    for (const name of readdirSync(path.join(root, prefix))) {
      assert.match(name, /^[0-9a-f]{64}$/, `unexpected file ${prefix}/${name} in the blob store (left by the crash?)`);
      assert.equal(name.slice(0, 2), prefix);
      const hash = newHash();
      for await (const chunk of createReadStream(path.join(root, prefix, name))) hash.update(chunk as Buffer);
      assert.equal(hash.digest('hex'), name, `blob file ${prefix}/${name} does not hash to its name (half-written)`);
      checked++;
    }
  }
  return checked;
}

test('every acknowledged push survives kill -9 of the daemon, and no blob file is half-written', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-crash-'));
  let child: ChildDaemon | undefined;
  t.after(async () => {
    if (child && child.proc.exitCode === null && child.proc.signalCode === null) {
      child.proc.kill('SIGKILL');
      await child.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
  const shared = randomBytes(32_768);
  const acked: Acked[] = [];

  /** (Re)starts the daemon on the data dir and checks everything acknowledged so far, before new pushes. */
  const restart = async () => {
    child = await startChildDaemon(dataDir);
    await verifyAcked(child, acked);
    if (acked.length > 0) assert.ok((await verifyBlobFiles(dataDir)) > acked.length);
    return child;
  };

  for (const killAfter of KILL_AFTER) {
    await restart();
    const before = acked.length;
    let killed = false;
    const running = child!;
    let finished = false;
    const workers = Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(running, i, shared, acked, () => killed))).finally(
      () => (finished = true),
    );
    // Kill as soon as enough pushes were acknowledged in this round, while the other workers are mid-push.
    while (acked.length - before < killAfter && !finished) await new Promise((r) => setTimeout(r, 5));
    killed = true;
    running.proc.kill('SIGKILL');
    await running.exited;
    const failures = (await workers).filter((e) => e !== undefined);
    assert.deepEqual(failures, [], 'pushes failed before the daemon was killed');
  }

  assert.ok(acked.length >= KILL_AFTER.reduce((a, b) => a + b), `only ${acked.length} pushes were acknowledged`);
  const last = await restart();
  // The registry still takes pushes after the crashes (upload dir and database are usable).
  await verifyAcked(last, [await pushOne(last, 0, shared)]);
  last.proc.kill('SIGTERM');
  await last.exited;
});
