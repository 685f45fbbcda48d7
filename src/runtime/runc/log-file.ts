// runtime/runc/log-file: the on-disk format of instance output. One line per output line:
//   2026-11-25T12:00:00.000Z stdout hello
// The writer is supervisor.pl: it rotates by size (output.log -> output.log.1 -> ... -> output.log.<keep>,
// oldest dropped), so a chatty instance cannot fill the disk; readLogLines returns lines oldest first
// across all files, followLogLines reads output.log as it grows (for `skiff run`).
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

export async function readLogLines(dir: string, tail?: number): Promise<LogLine[]> {
  const names = (await fsp.readdir(dir).catch(() => [] as string[])).filter((n) => n === FILE || n.startsWith(`${FILE}.`));
  // oldest first: the highest rotation number is the oldest file
  const rank = (n: string) => (n === FILE ? 0 : Number(n.slice(FILE.length + 1)));
  names.sort((a, b) => rank(b) - rank(a));
  const out: LogLine[] = [];
  for (const n of names) {
    const text = await fsp.readFile(path.join(dir, n), 'utf8');
    for (const raw of text.split('\n')) {
      const line = parseLine(raw);
      if (line) out.push(line);
    }
  }
  return tail === undefined ? out : out.slice(-tail);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface FollowOptions {
  signal: AbortSignal;
  /** true once the writer is gone for good: what is in the file then is all there will be */
  finished(): Promise<boolean>;
  pollMs?: number;
}

/**
 * Lines of output.log from its start, then as they are written, until `finished()` (checked before a
 * read, so the read after it sees everything) or the signal. A rotation is noticed by the path naming
 * another inode: the open (renamed) file is read to its end first. Output that rotates twice between
 * two polls loses the middle file.
 */
export async function* followLogLines(dir: string, o: FollowOptions): AsyncGenerator<LogLine> {
  const file = path.join(dir, FILE);
  let fh: fsp.FileHandle | undefined;
  let ino = -1;
  let pos = 0;
  let rest = '';
  const decoder = new StringDecoder('utf8');
  const buf = Buffer.alloc(64 * 1024);
  try {
    for (;;) {
      const finished = await o.finished();
      for (;;) {
        if (!fh) {
          fh = await fsp.open(file, 'r').catch(() => undefined);
          if (!fh) break;
          ({ ino } = await fh.stat());
          pos = 0;
        }
        for (let n; (n = (await fh.read(buf, 0, buf.length, pos)).bytesRead) > 0; ) {
          pos += n;
          const lines = (rest + decoder.write(buf.subarray(0, n))).split('\n');
          rest = lines.pop()!;
          for (const raw of lines) {
            const line = parseLine(raw);
            if (line) yield line;
          }
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
