// runtime/runc/log-file: the on-disk format of instance output. One line per output line:
//   2026-11-25T12:00:00.000Z stdout hello
// The writer rotates by size (output.log -> output.log.1 -> ... -> output.log.<keep>, oldest dropped), so
// a chatty instance cannot fill the disk; the reader returns lines oldest first across all files.
import { closeSync, openSync, renameSync, rmSync, statSync, writeSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import type { LogLine } from '../runtime.ts';

const FILE = 'output.log';

export class RotatingLogWriter {
  private fd: number;
  private size: number;
  private readonly partial: Record<LogLine['stream'], string> = { stdout: '', stderr: '' };

  constructor(private readonly dir: string, private readonly maxBytes: number, private readonly keep: number) {
    this.fd = openSync(path.join(dir, FILE), 'a');
    this.size = statSync(path.join(dir, FILE)).size;
  }

  /** Feeds a chunk of a stream; complete lines are written, a trailing partial line waits for more. */
  write(stream: LogLine['stream'], chunk: string, now: Date): void {
    const text = this.partial[stream] + chunk;
    const lines = text.split('\n');
    this.partial[stream] = lines.pop() ?? '';
    for (const line of lines) this.writeLine(stream, line, now);
  }

  /** Writes any unterminated last lines and closes the file. */
  close(now: Date): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream] !== '') this.writeLine(stream, this.partial[stream], now);
      this.partial[stream] = '';
    }
    closeSync(this.fd);
  }

  private writeLine(stream: LogLine['stream'], line: string, now: Date): void {
    const buf = Buffer.from(`${now.toISOString()} ${stream} ${line}\n`);
    if (this.size > 0 && this.size + buf.length > this.maxBytes) this.rotate();
    writeSync(this.fd, buf);
    this.size += buf.length;
  }

  private rotate(): void {
    closeSync(this.fd);
    const name = (n: number) => path.join(this.dir, n === 0 ? FILE : `${FILE}.${n}`);
    rmSync(name(this.keep), { force: true });
    for (let n = this.keep - 1; n >= 0; n--) {
      try { renameSync(name(n), name(n + 1)); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; }
    }
    this.fd = openSync(name(0), 'a');
    this.size = 0;
  }
}

const LINE_RE = /^(\S+) (stdout|stderr) (.*)$/;

export async function readLogLines(dir: string, tail?: number): Promise<LogLine[]> {
  const names = (await fsp.readdir(dir).catch(() => [] as string[])).filter((n) => n === FILE || n.startsWith(`${FILE}.`));
  // oldest first: the highest rotation number is the oldest file
  const rank = (n: string) => (n === FILE ? 0 : Number(n.slice(FILE.length + 1)));
  names.sort((a, b) => rank(b) - rank(a));
  const out: LogLine[] = [];
  for (const n of names) {
    const text = await fsp.readFile(path.join(dir, n), 'utf8');
    for (const raw of text.split('\n')) {
      const m = LINE_RE.exec(raw);
      if (m) out.push({ time: m[1]!, stream: m[2] as LogLine['stream'], line: m[3]! });
    }
  }
  return tail === undefined ? out : out.slice(-tail);
}
