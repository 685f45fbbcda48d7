// cli/compose/words: the small parsers the Compose mapping needs — shell words (a `command:` string),
// Compose durations and byte sizes, port specs — and DNS-label names for what a project creates.
import { createHash } from 'node:crypto';
import { SkiffError } from '../../core/errors.ts';

/** A command string split as docker compose splits it (shell words: quotes and backslashes, no
 *  expansion). */
export function shellWords(text: string, where: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else cur += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1]!)) cur += text[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new SkiffError('COMPOSE_INVALID', `${where}: unterminated ${quote} quote in ${JSON.stringify(text)}`);
  if (inWord) words.push(cur);
  return words;
}

const DURATION_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Compose (Go) duration — `1m30s`, `10s`, `500ms`, a bare number of seconds — in milliseconds. */
export function composeDuration(value: string | number, where: string): number {
  if (typeof value === 'number') return value * 1000;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  let ms = 0;
  let rest = text;
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (!m) throw new SkiffError('COMPOSE_INVALID', `${where}: expected a duration like 30s or 1m30s, got ${JSON.stringify(value)}`);
    ms += Number(m[1]) * DURATION_MS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return ms;
}

/** A duration as Skiff writes it: whole milliseconds (`1500ms`), at least 1. */
export function skiffDuration(ms: number): string {
  return `${Math.max(1, Math.round(ms))}ms`;
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4 };

/** A Compose byte size (`512m`, `1g`, `1.5GB`, bytes; binary units, as docker) in bytes. */
export function composeBytes(value: string | number, where: string): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = m ? BYTE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new SkiffError('COMPOSE_INVALID', `${where}: expected a size like 512m or 1g, got ${JSON.stringify(value)}`);
  return Math.round(Number(m[1]) * unit);
}

/** Bytes as a Skiff quantity: `512Mi` when whole mebibytes, else bytes. */
export function skiffBytes(bytes: number): string | number {
  return bytes % 1024 ** 2 === 0 ? `${bytes / 1024 ** 2}Mi` : bytes;
}

export interface PortSpec {
  target: number;
  published?: string;
  hostIp?: string;
  protocol: string;
}

/** A `ports:` entry: `[[HOST_IP:]PUBLISHED:]TARGET[/PROTOCOL]`, a number, or the long syntax. A range
 *  of target ports is refused (a Skiff service has one port). */
export function parsePort(entry: unknown, where: string): PortSpec {
  if (typeof entry === 'number') return { target: entry, protocol: 'tcp' };
  if (entry !== null && typeof entry === 'object') {
    const e = entry as { target?: number | string; published?: number | string; host_ip?: string; protocol?: string };
    const target = Number(e.target);
    if (!Number.isInteger(target) || target < 1 || target > 65535) throw new SkiffError('COMPOSE_UNSUPPORTED', `${where}.target: expected one port (1-65535), got ${JSON.stringify(e.target)}`);
    return { target, ...(e.published !== undefined ? { published: String(e.published) } : {}), ...(e.host_ip ? { hostIp: e.host_ip } : {}), protocol: e.protocol ?? 'tcp' };
  }
  const text = String(entry);
  const [spec, protocol = 'tcp'] = text.split('/');
  // the host IP may be [v6]: split from the right
  const parts = spec!.replace(/^\[[^\]]*\]:/, (m) => m.replace(/:/g, '\u0000').replace(/\u0000$/, ':')).split(':').map((p) => p.replace(/\u0000/g, ':'));
  const targetText = parts[parts.length - 1]!;
  if (!/^\d+$/.test(targetText)) throw new SkiffError('COMPOSE_UNSUPPORTED', `${where}: ${JSON.stringify(text)}: a Skiff service listens on one port, not a range`);
  const target = Number(targetText);
  if (target < 1 || target > 65535) throw new SkiffError('COMPOSE_INVALID', `${where}: port ${target} is out of range`);
  const published = parts.length >= 2 ? parts[parts.length - 2] : undefined;
  const hostIp = parts.length >= 3 ? parts.slice(0, parts.length - 2).join(':') : undefined;
  return { target, ...(published ? { published } : {}), ...(hostIp ? { hostIp } : {}), protocol };
}

/** A DNS label (Skiff's service, volume and secret names) from parts: lowercase, `.`/`_` as `-`; one
 *  longer than 63 characters is cut and ends with a hash of the whole, so two never collide. */
export function dnsName(...parts: string[]): string {
  const joined = parts.join('-').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-+|-+$/g, '');
  if (joined.length <= 63) return joined;
  const hash = createHash('sha256').update(joined).digest('hex').slice(0, 8);
  return `${joined.slice(0, 54).replace(/-+$/, '')}-${hash}`;
}
