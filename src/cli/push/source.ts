// cli/push/source: uniform read access to the files of an image input — an OCI layout directory or a
// tar archive (docker save, skopeo/podman docker-archive, OCI layout tar) read in place via tar-index.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { SkiffError } from '../../core/errors.ts';
import { archivePath, indexTar, resolveEntry } from './tar-index.ts';

/** One file of the input; open() streams it whole or the inclusive byte range [start, end]. */
export interface SourceFile {
  readonly name: string;
  readonly size: number;
  open(start?: number, end?: number): Readable;
}

export interface ImageSource {
  /** The path the user gave, used in every error message. */
  readonly label: string;
  find(name: string): Promise<SourceFile | undefined>;
}

export async function openSource(input: string): Promise<ImageSource> {
  const st = await stat(input).catch((err: Error) => {
    throw new SkiffError('ARCHIVE_INVALID', `${input}: cannot read: ${err.message}`);
  });
  return st.isDirectory() ? directorySource(input) : tarSource(input);
}

function directorySource(dir: string): ImageSource {
  return {
    label: dir,
    async find(name) {
      const rel = archivePath(dir, name);
      if (rel === undefined) return undefined;
      const file = path.join(dir, rel);
      const st = await stat(file).catch(() => undefined);
      if (!st?.isFile()) return undefined;
      return { name: rel, size: st.size, open: (start, end) => createReadStream(file, { start, end }) };
    },
  };
}

async function tarSource(file: string): Promise<ImageSource> {
  const entries = await indexTar(file);
  return {
    label: file,
    async find(name) {
      const rel = archivePath(file, name);
      const e = rel === undefined ? undefined : resolveEntry(file, entries, rel);
      if (!e || rel === undefined) return undefined;
      // createReadStream cannot express an empty range (end is inclusive), so empty entries get an empty stream.
      const open = (start = 0, end = e.size - 1) =>
        e.size === 0 ? Readable.from([]) : createReadStream(file, { start: e.offset + start, end: e.offset + end });
      return { name: rel, size: e.size, open };
    },
  };
}

/** Reads a small metadata file (manifest, config, index) fully; refuses oversized ones. */
export async function readSmall(src: ImageSource, f: SourceFile, max = 8 << 20): Promise<Buffer> {
  if (f.size > max) throw new SkiffError('ARCHIVE_INVALID', `${src.label}: ${f.name} is ${f.size} bytes, too large for metadata`);
  if (f.size === 0) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const c of f.open()) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function mustFind(src: ImageSource, name: string): Promise<SourceFile> {
  const f = await src.find(name);
  if (!f) throw new SkiffError('ARCHIVE_INVALID', `${src.label}: ${name} is missing`);
  return f;
}

export async function readJson<T>(src: ImageSource, name: string): Promise<{ bytes: Buffer; json: T }> {
  const bytes = await readSmall(src, await mustFind(src, name));
  try {
    return { bytes, json: JSON.parse(bytes.toString('utf8')) as T };
  } catch {
    throw new SkiffError('ARCHIVE_INVALID', `${src.label}: ${name} is not valid JSON`);
  }
}
