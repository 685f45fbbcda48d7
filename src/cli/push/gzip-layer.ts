// cli/push/gzip-layer: gzips an uncompressed layer from the input into a private temp file, checking
// the uncompressed bytes against the config's diff_id and hashing the compressed output on the way.
// Node's gzip header carries no timestamp, so the same layer always yields the same digest — which
// is what lets a second push find its layers already in the registry.
// Level 1 (best speed): measured here 2.7x faster than the default level 6 for ~9% larger output on
// /usr/bin; a push waits on gzip, while the registry serves Skiff's own nodes over a short path.
import { createReadStream, createWriteStream } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGzip } from 'node:zlib';
import { SkiffError } from '../../core/errors.ts';
import type { ImageSource, SourceFile } from './source.ts';

export interface GzippedLayer {
  digest: string;
  file: SourceFile;
}

function hashing(hash: ReturnType<typeof createHash>) {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
}

export async function gzipLayer(src: ImageSource, layer: SourceFile, diffId: string | undefined, tmpDir: string, index: number): Promise<GzippedLayer> {
  const out = path.join(tmpDir, `layer-${index}.tar.gz`);
  const raw = createHash('sha256');
  const packed = createHash('sha256');
  const counter = hashing(packed);
  let size = 0;
  counter.on('data', (c: Buffer) => (size += c.length));
  await pipeline(layer.open(), hashing(raw), createGzip({ level: constants.Z_BEST_SPEED }), counter, createWriteStream(out, { flags: 'wx', mode: 0o600 }));
  const rawDigest = `sha256:${raw.digest('hex')}`;
  if (diffId !== undefined && diffId !== rawDigest) {
    throw new SkiffError('ARCHIVE_INVALID', `${src.label}: ${layer.name} does not match diff_id ${diffId} in the image config (it is ${rawDigest})`);
  }
  return {
    digest: `sha256:${packed.digest('hex')}`,
    file: { name: `${layer.name} (gzipped)`, size, open: (start, end) => createReadStream(out, { start, end }) },
  };
}
