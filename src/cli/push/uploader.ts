// cli/push/uploader: sends a PushPlan to a Skiff (or any OCI distribution) registry. Each blob is
// checked with HEAD first and skipped when present; otherwise it is streamed from the input into an
// upload session — one monolithic PUT, or PATCH chunks when larger than chunkSize — while its digest
// is computed, so a corrupt input is reported as such. Blobs go up in parallel (bounded); manifests
// go last, children before the index, and the root manifest is PUT under the tag.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SkiffError } from '../../core/errors.ts';
import { parseDigest } from '../../core/digest.ts';
import type { SkiffClient } from '../../api/client.ts';
import type { PlanBlob, PushPlan } from './plan.ts';
import { expectStatus, send } from './registry-http.ts';
import { runBounded } from './bounded.ts';

export interface PushEvents {
  blobStart?(blob: PlanBlob): void;
  blobProgress?(blob: PlanBlob, bytesSent: number): void;
  blobDone?(blob: PlanBlob, result: 'pushed' | 'exists'): void;
}

export interface PushOptions {
  concurrency?: number;
  /** Blobs larger than this go up as PATCH chunks of this size. */
  chunkSize?: number;
  events?: PushEvents;
}

export interface PushResult {
  digest: string;
  layers: number;
  skipped: number;
  bytesUploaded: number;
}

export const DEFAULT_CHUNK_SIZE = 64 << 20;

export async function pushImage(client: SkiffClient, repo: string, tag: string, plan: PushPlan, opts: PushOptions = {}): Promise<PushResult> {
  const ev = opts.events ?? {};
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  let skipped = 0;
  let bytesUploaded = 0;
  await runBounded(plan.blobs, opts.concurrency ?? 3, async (blob) => {
    ev.blobStart?.(blob);
    const head = await send(client, 'HEAD', `/v2/${repo}/blobs/${blob.digest}`);
    if (head.status === 200) {
      if (blob.kind === 'layer') skipped++;
      ev.blobDone?.(blob, 'exists');
      return;
    }
    if (head.status !== 404) expectStatus(head, 200);
    await uploadBlob(client, repo, blob, chunkSize, (n) => ev.blobProgress?.(blob, n));
    bytesUploaded += blob.size;
    ev.blobDone?.(blob, 'pushed');
  });
  for (const [i, m] of plan.manifests.entries()) {
    const reference = i === plan.manifests.length - 1 ? tag : m.digest;
    const res = await send(client, 'PUT', `/v2/${repo}/manifests/${reference}`, { 'content-type': m.mediaType, 'content-length': m.bytes.length }, m.bytes);
    expectStatus(res, 201);
  }
  return { digest: plan.manifests.at(-1)!.digest, layers: plan.blobs.filter((b) => b.kind === 'layer').length, skipped, bytesUploaded };
}

async function uploadBlob(client: SkiffClient, repo: string, blob: PlanBlob, chunkSize: number, progress: (sent: number) => void): Promise<void> {
  const hash = createHash(parseDigest(blob.digest).algorithm);
  let sent = 0;
  // Hashes and counts what is sent; a read error of the input destroys it, which fails the request.
  const metered = (source: Readable) => {
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        sent += chunk.length;
        progress(sent);
        done(null, chunk);
      },
    });
    pipeline(source, meter).catch((err: Error) => meter.destroy(err));
    return meter;
  };
  const octets = { 'content-type': 'application/octet-stream' };
  let location = locationOf(expectStatus(await send(client, 'POST', `/v2/${repo}/blobs/uploads/`, { 'content-length': 0 }), 202).headers.location);
  const monolithic = blob.size <= chunkSize;
  if (!monolithic) {
    for (let start = 0; start < blob.size; start += chunkSize) {
      const end = Math.min(start + chunkSize, blob.size) - 1;
      const headers = { ...octets, 'content-length': end - start + 1, 'content-range': `${start}-${end}` };
      const res = await send(client, 'PATCH', location, headers, metered(blob.file.open(start, end)));
      location = locationOf(expectStatus(res, 202).headers.location);
    }
  }
  const url = new URL(location, client.options.baseUrl);
  url.searchParams.set('digest', blob.digest);
  const body = monolithic && blob.size > 0 ? metered(blob.file.open()) : undefined;
  const res = await send(client, 'PUT', url.href, { ...octets, 'content-length': monolithic ? blob.size : 0 }, body);
  // Checked before the status: when the input is corrupt, the registry's DIGEST_INVALID is the symptom.
  if (blob.size > 0) checkDigest(hash, blob, sent);
  expectStatus(res, 201);
}

function checkDigest(hash: Hash, blob: PlanBlob, sent: number): void {
  const actual = `${parseDigest(blob.digest).algorithm}:${hash.digest('hex')}`;
  if (sent !== blob.size || actual !== blob.digest) {
    throw new SkiffError('ARCHIVE_INVALID', `${blob.label}: ${blob.file.name} does not match its digest ${blob.digest} (read ${sent} bytes, got ${actual})`);
  }
}

function locationOf(value: string | string[] | undefined): string {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) throw new SkiffError('BLOB_UPLOAD_INVALID', 'the registry did not return an upload Location');
  return v;
}
