// core/pretty-log: pino's JSON lines made readable for a person at a terminal — `HH:MM:SS.mmm LEVEL
// [component] message key=value …` — and left as JSON everywhere else (a file, journald, a pipe to a
// log shipper). A pino destination of ~40 lines instead of pino-pretty and its dozen dependencies
// (docs/dependencies.md): synchronous, in-process, no worker thread.
import { format } from 'node:util';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const COLORS: Record<number, string> = { 10: '90', 20: '90', 30: '32', 40: '33', 50: '31', 60: '35' };
/** pino's own fields, not repeated as key=value */
const OWN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'component', 'v']);

/** One pino JSON line as a human-readable line (the line itself when it is not JSON). */
export function prettyLine(line: string, color: boolean): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const level = typeof o.level === 'number' ? o.level : 30;
  const time = new Date(typeof o.time === 'number' ? o.time : Date.now()).toISOString().slice(11, 23);
  const name = LEVELS[level] ?? String(level);
  const lvl = color ? `\x1b[${COLORS[level] ?? '0'}m${name}\x1b[0m` : name;
  const component = typeof o.component === 'string' ? ` [${o.component}]` : '';
  let rest = '';
  for (const [k, v] of Object.entries(o)) {
    if (OWN.has(k) || v === undefined) continue;
    const text = typeof v === 'string' ? (/[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v) : k === 'err' && v && typeof v === 'object' ? format('%s', (v as { stack?: string }).stack ?? JSON.stringify(v)) : JSON.stringify(v);
    rest += ` ${k}=${text}`;
  }
  return `${time} ${lvl}${component} ${String(o.msg ?? '')}${rest}\n`;
}

/** A pino destination writing readable lines to `out` (stdout). */
export function prettyDestination(out: NodeJS.WriteStream = process.stdout): { write(line: string): void } {
  const color = out.isTTY === true && process.env.NO_COLOR === undefined;
  return { write: (line: string) => void out.write(prettyLine(line, color)) };
}

/** Readable lines when stdout is a terminal (or `format` says so), JSON otherwise. */
export function wantsPretty(format: 'auto' | 'json' | 'pretty', out: NodeJS.WriteStream = process.stdout): boolean {
  return format === 'pretty' || (format === 'auto' && out.isTTY === true);
}
