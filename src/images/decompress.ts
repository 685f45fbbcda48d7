// images/decompress: detects a layer's compression by its magic bytes (not by media type, which
// clients get wrong) and returns the uncompressed byte stream. gzip uses node:zlib; zstd uses the
// `zstd` tool (Node 20 has no zstd), and a missing tool is a clear PREFLIGHT_FAILED naming the package.
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { SkiffError } from '../core/errors.ts';
import { invalid } from './entry-path.ts';

export type Compression = 'gzip' | 'zstd' | 'none';

const GZIP = Buffer.from([0x1f, 0x8b]);
const ZSTD = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

export function sniff(head: Buffer): Compression {
  if (head.subarray(0, 2).equals(GZIP)) return 'gzip';
  if (head.subarray(0, 4).equals(ZSTD)) return 'zstd';
  return 'none';
}

/** Reads the first bytes of `input` to pick the decompressor, then streams the whole input through it. */
export async function decompress(input: AsyncIterable<Buffer>): Promise<{ compression: Compression; stream: Readable }> {
  const it = input[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let ended = false;
  while (head.length < ZSTD.length && !ended) {
    const r = await it.next();
    if (r.done) ended = true;
    else head = Buffer.concat([head, r.value]);
  }
  const whole = Readable.from(
    (async function* () {
      try {
        if (head.length > 0) yield head;
        for (let r = ended ? undefined : await it.next(); r && !r.done; r = await it.next()) yield r.value;
      } finally {
        await it.return?.();
      }
    })(),
    { objectMode: false },
  );
  const compression = sniff(head);
  if (compression === 'none') return { compression, stream: whole };
  if (compression === 'gzip') {
    const gunzip = createGunzip({ chunkSize: 128 * 1024 }); // 16 KiB default: 8x the write calls
    // Errors surface on `gunzip` (pipeline destroys it); a consumer destroying gunzip stops the input.
    pipeline(whole, gunzip).catch(() => {});
    return { compression, stream: gunzip.on('error', () => {}) };
  }
  return { compression, stream: zstd(whole) };
}

function zstd(input: Readable): Readable {
  const child = spawn('zstd', ['-dcq'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 2048) stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  exited.catch(() => {});
  let inputError: unknown;
  child.stdin.on('error', () => {}); // EPIPE when zstd quits early; its exit status says why
  pipeline(input, child.stdin).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') inputError = err;
  });
  return Readable.from(
    (async function* () {
      try {
        for await (const chunk of child.stdout) yield chunk as Buffer;
        let code: number | null;
        try {
          code = await exited;
        } catch (err) {
          const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
          throw new SkiffError('PREFLIGHT_FAILED', missing ? 'zstd layers need the zstd tool: apt-get install zstd' : `zstd: ${(err as Error).message}`, { cause: err });
        }
        if (inputError) throw inputError;
        if (code !== 0) throw invalid(`zstd could not decompress the layer: ${stderr.trim() || `exit ${code}`}`);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
        input.destroy();
      }
    })(),
    { objectMode: false },
  );
}
