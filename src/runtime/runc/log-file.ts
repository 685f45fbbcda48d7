// runtime/runc/log-file: the on-disk format of instance output. One line per output line:
//   2026-11-25T12:00:00.000Z stdout hello
// The writer is supervisor.pl: it rotates by size (output.log -> output.log.1 -> ... -> output.log.<keep>,
// oldest dropped), so a chatty instance cannot fill the disk; readLogLines returns lines oldest first
// across all files, followLogLines reads output.log as it grows (`skiff run`, `skiff logs -f`). Both
// stream a chunk at a time, and a tail is read backwards from the end: memory never grows with the files.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { LogLine } from '../../core/instance.ts';

const FILE = 'output.log';

const LINE_RE = /^(\S+) (stdout|stderr) (.*)$/;

function parseLine(raw: string): LogLine | undefined {
  const m = LINE_RE.exec(raw);
  return m ? { time: m[1]!, stream: m[2] as LogLine['stream'], line: m[3]! } : undefined;
}

const CHUNK = 64 * 1024;

/** Records out of a file's bytes read a chunk at a time: a line (or a UTF-8 character) cut by a
 *  chunk's end waits for the rest in the next one. */
class RecordSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private rest = '';

  *push(chunk: Buffer): Generator<LogLine> {
    const lines = (this.rest + this.decoder.write(chunk)).split('\n');
    this.rest = lines.pop()!;
    for (const raw of lines) {
      const line = parseLine(raw);
      if (line) yield line;
    }
  }

  /** the last line, when the file ends without its newline */
  end(): LogLine | undefined {
    return parseLine(this.rest + this.decoder.end());
  }
}

/** The log files, oldest first: output.log.<keep> … output.log.1, output.log. */
async function logFiles(dir: string): Promise<string[]> {
  const names = (await fsp.readdir(dir).catch(() => [] as string[])).filter((n) => n === FILE || /^output\.log\.\d+$/.test(n));
  // the highest rotation number is the oldest file
  const rank = (n: string) => (n === FILE ? 0 : Number(n.slice(FILE.length + 1)));
  return names.sort((a, b) => rank(b) - rank(a)).map((n) => path.join(dir, n));
}

/** Lines of `file` from byte `from`, read forward a chunk at a time (memory: one chunk + one line),
 *  the last one even without its newline (the writer ends a process's output with what it had). */
async function* readForward(file: string, from = 0): AsyncGenerator<LogLine> {
  const fh = await fsp.open(file, 'r').catch(() => undefined);
  if (!fh) return; // rotated away meanwhile
  try {
    const records = new RecordSplitter();
    const buf = Buffer.alloc(CHUNK);
    for (let pos = from, n; (n = (await fh.read(buf, 0, buf.length, pos)).bytesRead) > 0; pos += n) yield* records.push(buf.subarray(0, n));
    const last = records.end();
    if (last) yield last;
  } finally {
    await fh.close();
  }
}

/**
 * The last `n` complete lines across `files` (oldest first), ending at byte `end` of the newest one,
 * read backwards a chunk at a time: memory is bounded by `n` lines, not by the files' size. Returns
 * them oldest first, and where the last complete line of the newest file ends (a line still being
 * written is left for a follower to read whole).
 */
async function lastLines(files: string[], n: number, end: number | undefined, opts: { partial: boolean }): Promise<{ lines: LogLine[]; end: number }> {
  const newestFirst: LogLine[] = [];
  let completeEnd = end ?? 0;
  for (const [i, file] of [...files].reverse().entries()) {
    if (newestFirst.length >= n) break;
    const fh = await fsp.open(file, 'r').catch(() => undefined);
    if (!fh) continue;
    try {
      const size = (await fh.stat()).size;
      let pos = i === 0 && end !== undefined ? Math.min(end, size) : size;
      let carry = Buffer.alloc(0);
      let first = true;
      while (newestFirst.length < n) {
        const start = Math.max(0, pos - CHUNK);
        const buf = Buffer.alloc(pos - start);
        if (buf.length > 0) await fh.read(buf, 0, buf.length, start);
        const data = Buffer.concat([buf, carry]);
        // Bytes before the chunk's first newline may continue in the previous chunk (unless this is the
        // file's start): carried over whole, so a UTF-8 character is never cut.
        const nl = start > 0 ? data.indexOf(0x0a) : -1;
        if (start > 0 && nl === -1) {
          carry = data;
          pos = start;
          continue;
        }
        carry = start > 0 ? data.subarray(0, nl) : Buffer.alloc(0);
        const whole = data.subarray(nl + 1).toString('utf8').split('\n');
        if (first) {
          // After the last '\n': empty, or a line without its newline — still being written (a follower
          // reads it whole later), or the last the writer had (kept when the caller asks for it).
          const partial = whole.pop()!;
          if (i === 0) completeEnd = pos - Buffer.byteLength(partial);
          if (opts.partial && i === 0) {
            const line = parseLine(partial);
            if (line && newestFirst.length < n) newestFirst.push(line);
          }
          first = false;
        }
        for (let k = whole.length - 1; k >= 0 && newestFirst.length < n; k--) {
          const line = parseLine(whole[k]!);
          if (line) newestFirst.push(line);
        }
        if (start === 0) break;
        pos = start;
      }
    } finally {
      await fh.close();
    }
  }
  return { lines: newestFirst.reverse(), end: completeEnd };
}

/** Captured lines oldest first across all files; with `tail`, only the last `tail`. Streams: memory
 *  stays bounded however large the files are (the logs API once read them whole: one call took the daemon from 119 to 208 MB). */
export async function* readLogLines(dir: string, tail?: number): AsyncGenerator<LogLine> {
  const files = await logFiles(dir);
  if (tail === undefined) {
    for (const f of files) yield* readForward(f);
    return;
  }
  if (tail <= 0 || files.length === 0) return;
  yield* (await lastLines(files, tail, undefined, { partial: true })).lines;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface FollowOptions {
  signal: AbortSignal;
  /** true once the writer is gone for good: what is in the file then is all there will be */
  finished(): Promise<boolean>;
  pollMs?: number;
  /** begin with the last `tail` lines already written (across rotated files), instead of every line */
  tail?: number;
}

/**
 * Every line written so far (rotated files first) or, with `tail`, the last `tail` of them; then lines
 * of output.log as they are written, until `finished()` (checked before a
 * read, so the read after it sees everything) or the signal. A rotation is noticed by the path naming
 * another inode: the open (renamed) file is read to its end first. Output that rotates twice between
 * two polls loses the middle file.
 */
export async function* followLogLines(dir: string, o: FollowOptions): AsyncGenerator<LogLine> {
  const file = path.join(dir, FILE);
  let fh: fsp.FileHandle | undefined;
  let ino = -1;
  let pos = 0;
  // Where following output.log begins: after what was read of it here (one inode, one offset).
  let startIno = -1;
  let startPos = 0;
  const files = await logFiles(dir);
  const current = await fsp.stat(file).catch(() => undefined);
  if (o.tail !== undefined) {
    const { lines, end } = await lastLines(current ? files : files.filter((f) => f !== file), Math.max(0, o.tail), current?.size, { partial: false });
    yield* lines;
    if (current) [startIno, startPos] = [current.ino, end];
  } else {
    for (const f of files) if (f !== file) yield* readForward(f);
  }
  const records = new RecordSplitter();
  const buf = Buffer.alloc(CHUNK);
  try {
    for (;;) {
      const finished = await o.finished();
      for (;;) {
        if (!fh) {
          fh = await fsp.open(file, 'r').catch(() => undefined);
          if (!fh) break;
          ({ ino } = await fh.stat());
          pos = ino === startIno ? startPos : 0;
        }
        for (let n; (n = (await fh.read(buf, 0, buf.length, pos)).bytesRead) > 0; ) {
          pos += n;
          yield* records.push(buf.subarray(0, n));
        }
        const now = await fsp.stat(file).catch(() => undefined);
        if (!now || now.ino === ino) break;
        await fh.close(); // rotated: the writer has moved on to a new output.log
        fh = undefined;
      }
      if (finished || o.signal.aborted) return;
      await sleep(o.pollMs ?? 20);
    }
  } finally {
    await fh?.close();
  }
}
