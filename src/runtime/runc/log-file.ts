// runtime/runc/log-file: the on-disk format of instance output. One line per output line:
//   2026-11-25T12:00:00.000Z stdout hello
// The writer is supervisor.pl: it rotates by size (output.log -> output.log.1 -> ... -> output.log.<keep>,
// oldest dropped), so a chatty instance cannot fill the disk; this reader returns lines oldest first
// across all files.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { LogLine } from '../runtime.ts';

const FILE = 'output.log';

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
