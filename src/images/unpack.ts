// images/unpack: streams one layer blob into a staging directory: verifies the compressed digest and
// computes the diffID while streaming, enforces the byte budget on the uncompressed stream (so a bomb
// stops early), parses tar with tar-stream and hands each entry to the LayerWriter.
//
// <staging>/            private, created by the caller; nothing outside this unpack knows its name
//   root/               the layer's files, in overlay form (becomes the overlay lowerdir)
//   whiteout            0:0 char device every whiteout hardlinks to; removed before returning
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { newHash, type ParsedDigest } from '../core/digest.ts';
import { asSkiffError, SkiffError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { tooLarge, type UnpackBudgets } from './budgets.ts';
import { decompress, type Compression } from './decompress.ts';
import { invalid } from './entry-path.ts';
import { LayerWriter } from './layer-writer.ts';
import { makeWhiteoutDevice, markOpaque } from './overlay.ts';

export interface UnpackResult {
  readonly digest: string;
  /** sha256 of the uncompressed tar stream (the image config's rootfs.diff_ids entry). */
  readonly diffId: string;
  readonly compression: Compression;
  readonly compressedSize: number;
  readonly size: number;
  readonly entries: number;
  /** Entries not materialised: device nodes, fifos, aufs metadata. */
  readonly dropped: string[];
}

export interface UnpackOptions {
  readonly source: Readable;
  readonly digest: ParsedDigest;
  readonly staging: string;
  readonly budgets: UnpackBudgets;
  readonly logger: Logger;
}

export async function unpackLayer(o: UnpackOptions): Promise<UnpackResult> {
  const root = path.join(o.staging, 'root');
  const device = path.join(o.staging, 'whiteout');
  await fsp.mkdir(root, 0o700);
  let deviceMade: Promise<void> | undefined;
  const writer = new LayerWriter(root, {
    budgets: o.budgets,
    applyOwnership: process.getuid?.() === 0,
    whiteoutDevice: async () => {
      await (deviceMade ??= makeWhiteoutDevice(device));
      return device;
    },
  });

  const compressedHash = newHash(o.digest.algorithm);
  let compressedSize = 0;
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const chunk of o.source as AsyncIterable<Buffer>) {
      compressedHash.update(chunk);
      compressedSize += chunk.length;
      yield chunk;
    }
  }
  const { compression, stream } = await decompress(hashed()).catch((err: unknown) => {
    throw pickError({ status: 'rejected', reason: err });
  });
  const diffHash = newHash('sha256');
  let size = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      size += chunk.length;
      if (size > o.budgets.maxBytes) return cb(tooLarge(`more than ${o.budgets.maxBytes} uncompressed bytes`));
      diffHash.update(chunk);
      cb(null, chunk);
    },
    // Some writers (umoci 0.4 `insert`) end the stream right after the last file's data, without its
    // padding or the end-of-archive blocks; Go's reader accepts that, so we pad to a block boundary
    // (not hashed, not counted) and check below that no file's data ran into the padding.
    flush(cb: TransformCallback) {
      const pad = (512 - (size % 512)) % 512;
      cb(null, pad > 0 ? Buffer.alloc(pad) : undefined);
    },
  });
  const extract = tar.extract();
  const feeding = pipeline(stream, counted, extract);
  let dataEnd = 0;
  const consuming = (async () => {
    for await (const entry of extract) {
      const { byteOffset, size: entrySize } = entry.header as { byteOffset?: number; size: number };
      dataEnd = Math.max(dataEnd, (byteOffset ?? 0) + entrySize);
      try {
        // streamx streams are async iterables; its type declarations just do not say so.
        await writer.apply(entry.header, entry as unknown as AsyncIterable<Buffer>);
      } finally {
        entry.resume();
      }
    }
  })();
  const [fed, consumed] = await Promise.allSettled([feeding, consuming]);
  const failure = pickError(consumed, fed);
  if (failure) throw failure;
  if (dataEnd > size) throw invalid(`the tar stream is truncated: it ends at byte ${size}, inside an entry ending at ${dataEnd}`);

  const actual = compressedHash.digest('hex');
  if (actual !== o.digest.hex) {
    throw new SkiffError('DIGEST_INVALID', `layer ${o.digest.digest} has content digest ${o.digest.algorithm}:${actual}`);
  }
  await writer.finish();
  await markOpaque(root, writer.opaque);
  if (deviceMade) await fsp.unlink(device);
  if (writer.dropped.length > 0) {
    o.logger.warn({ layer: o.digest.digest, dropped: writer.dropped.slice(0, 20), count: writer.dropped.length }, 'layer entries dropped (devices, fifos, aufs metadata)');
  }
  return {
    digest: o.digest.digest,
    diffId: `sha256:${diffHash.digest('hex')}`,
    compression,
    compressedSize,
    size,
    entries: writer.entries,
    dropped: writer.dropped,
  };
}

// The most meaningful failure wins: our own SkiffErrors (a hostile entry, a budget, a missing tool)
// over the stream errors they cause elsewhere in the pipeline (premature close, EPIPE).
function pickError(...results: PromiseSettledResult<unknown>[]): SkiffError | undefined {
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (errors.length === 0) return undefined;
  const own = errors.find((e): e is SkiffError => e instanceof SkiffError);
  if (own) return own;
  // A failed syscall (ENOSPC, EIO) is ours, not the layer's; everything else is the bytes' fault.
  const sys = errors.find((e) => typeof (e as NodeJS.ErrnoException).syscall === 'string');
  if (sys) return asSkiffError(sys);
  const first = errors[0] as Error;
  return invalid(`cannot read the layer: ${first?.message ?? String(first)}`);
}
