// test/registry/blob-store-contract: the behaviour every BlobStore (registry/ports.ts) must have; run
// against the filesystem store and the in-memory one by blob-store.test.ts. GC's safety leans on
// `modifiedAt` (re-committed content is refreshed) and `deleteIfOlder`; uploads on appends in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BlobStore } from '../../src/registry/ports.ts';

const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function text(r: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

async function errorOf(r: Readable): Promise<NodeJS.ErrnoException> {
  try {
    await text(r);
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
  throw new Error('the stream did not fail');
}

export function blobStoreContract(name: string, open: () => Promise<BlobStore>): void {
  test(`${name}: written content reads back whole and by range, and is listed`, async () => {
    const store = await open();
    const bytes = Buffer.from('hello, blob store');
    const digest = digestOf(bytes);
    assert.equal(await store.exists(digest), false);
    assert.equal(await store.stat(digest), undefined);
    await store.write(digest, bytes);
    assert.equal(await store.exists(digest), true);
    assert.equal((await store.stat(digest))?.size, bytes.length);
    assert.deepEqual(await store.readAll(digest), bytes);
    assert.equal(await text(store.read(digest)), 'hello, blob store');
    assert.equal(await text(store.read(digest, { start: 7, end: 10 })), 'blob');
    const listed: string[] = [];
    for await (const c of store.list()) listed.push(c.digest);
    assert.deepEqual(listed, [digest]);
  });

  test(`${name}: missing content fails as ENOENT, on the stream and on readAll`, async () => {
    const store = await open();
    const digest = digestOf(Buffer.from('never written'));
    assert.equal((await errorOf(store.read(digest))).code, 'ENOENT');
    await assert.rejects(store.readAll(digest), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  });

  test(`${name}: writing existing content keeps it and refreshes modifiedAt; deleteIfOlder honours the cutoff`, async () => {
    const store = await open();
    const bytes = Buffer.from('x'.repeat(100));
    const digest = digestOf(bytes);
    await store.write(digest, bytes);
    const first = (await store.stat(digest))!.modifiedAt;
    await new Promise((r) => setTimeout(r, 20));
    await store.write(digest, bytes);
    const second = (await store.stat(digest))!.modifiedAt;
    assert.ok(second > first, `${second} > ${first}`);
    assert.equal(await store.deleteIfOlder(digest, second), false, 'content as new as the cutoff stays');
    assert.equal(await store.exists(digest), true);
    assert.equal(await store.deleteIfOlder(digest, second + 1), true);
    assert.equal(await store.exists(digest), false);
    assert.equal(await store.deleteIfOlder(digest, second + 1), false, 'absent content: nothing deleted');
  });

  test(`${name}: an upload appends chunks in order, streams them through onChunk, and commits under its digest`, async () => {
    const store = await open();
    const id = randomUUID();
    await store.createUpload(id);
    assert.equal(await store.uploadSize(id), 0);
    const seen: string[] = [];
    assert.equal(await store.appendUpload(id, Readable.from([Buffer.from('abc'), Buffer.from('def')]), (c) => seen.push(c.toString())), 6);
    assert.equal(await store.appendUpload(id, Readable.from([Buffer.from('ghi')]), (c) => seen.push(c.toString())), 3);
    assert.equal(seen.join(''), 'abcdefghi');
    assert.equal(await store.uploadSize(id), 9);
    assert.equal(await text(store.readUpload(id)), 'abcdefghi');
    assert.deepEqual((await store.listUploads()).map((u) => u.id), [id]);
    await store.truncateUpload(id, 6);
    assert.equal(await text(store.readUpload(id)), 'abcdef');
    const digest = digestOf(Buffer.from('abcdef'));
    const at = Date.now() - 5000;
    await store.commitUpload(id, digest, at);
    assert.equal(await store.uploadSize(id), undefined);
    assert.deepEqual(await store.listUploads(), []);
    assert.equal((await store.readAll(digest)).toString(), 'abcdef');
    assert.ok(Math.abs((await store.stat(digest))!.modifiedAt - at) < 1000, 'stamped with the commit time');
  });

  test(`${name}: committing content that exists drops the upload and refreshes the content`, async () => {
    const store = await open();
    const bytes = Buffer.from('same content twice');
    const digest = digestOf(bytes);
    await store.write(digest, bytes);
    const id = randomUUID();
    await store.createUpload(id);
    await store.appendUpload(id, Readable.from([bytes]), () => {});
    const later = Date.now() + 60_000;
    await store.commitUpload(id, digest, later);
    assert.equal(await store.uploadSize(id), undefined);
    assert.deepEqual(await store.readAll(digest), bytes);
    assert.ok(Math.abs((await store.stat(digest))!.modifiedAt - later) < 1000);
  });

  test(`${name}: after a failing body the upload holds a prefix of what arrived; removing an upload is idempotent`, async () => {
    const store = await open();
    const id = randomUUID();
    await store.createUpload(id);
    const body = new Readable({ read() {} });
    body.push(Buffer.from('part'));
    setImmediate(() => body.destroy(new Error('client went away')));
    await assert.rejects(store.appendUpload(id, body, () => {}), /client went away/);
    const size = (await store.uploadSize(id))!;
    assert.ok(size >= 0 && size <= 4, String(size));
    assert.equal(await text(store.readUpload(id)), 'part'.slice(0, size));
    await store.removeUpload(id);
    await store.removeUpload(id);
    assert.equal(await store.uploadSize(id), undefined);
    assert.equal((await errorOf(store.readUpload(id))).code, 'ENOENT');
  });
}
