// web/service-logs-model: the log tail's pure part — splitting a streamed body into lines, reading
// each line (`<instance id> <ISO time> <stdout|stderr> <text>`, GET /api/v1/services/NAME/logs), keeping
// the last few thousand, and filtering them. Tested without a browser (test/web/service-model.test.ts).

/** lines kept in memory: a crash-looping service writes fast, and a tab left open must not grow forever */
export const MAX_LINES = 2000;

export interface LogLine {
  /** increasing per page: a stable key for the list */
  seq: number;
  instance: string;
  revision: string;
  time: string;
  stream: string;
  text: string;
}

/** Complete lines of `rest + chunk`, and the unfinished tail to prepend to the next chunk. */
export function splitChunk(rest: string, chunk: string): { lines: string[]; rest: string } {
  const parts = (rest + chunk).split('\n');
  const last = parts.pop() ?? '';
  return { lines: parts.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)), rest: last };
}

/** The revision an instance id names: ids are `<revision>-<6 hex>` (core/names instanceId). */
export function revisionOfInstance(id: string): string {
  return id.replace(/-[0-9a-f]{6}$/, '');
}

/** One line of the API's format; a line of another shape is kept whole as text (never dropped). */
export function parseLine(raw: string, seq: number): LogLine {
  const m = /^(\S+) (\d{4}-\d\d-\d\dT\S+) (stdout|stderr) ?(.*)$/.exec(raw);
  if (!m) return { seq, instance: '', revision: '', time: '', stream: '', text: raw };
  return { seq, instance: m[1]!, revision: revisionOfInstance(m[1]!), time: m[2]!, stream: m[3]!, text: m[4]! };
}

/** `held` with `added` appended, the oldest dropped past `max`. */
export function appendCapped<T>(held: readonly T[], added: readonly T[], max = MAX_LINES): T[] {
  if (added.length >= max) return added.slice(added.length - max);
  const all = held.length + added.length > max ? held.slice(held.length + added.length - max) : held.slice();
  all.push(...added);
  return all;
}

export interface LogFilter {
  /** '' = any */
  revision: string;
  instance: string;
  stream: '' | 'stdout' | 'stderr';
  /** case-insensitive text anywhere in the line's text */
  text: string;
}

export const NO_FILTER: LogFilter = { revision: '', instance: '', stream: '', text: '' };

export function filterLines(lines: readonly LogLine[], f: LogFilter): LogLine[] {
  const text = f.text.trim().toLowerCase();
  if (!f.revision && !f.instance && !f.stream && !text) return lines.slice();
  return lines.filter((l) =>
    (!f.revision || l.revision === f.revision) &&
    (!f.instance || l.instance === f.instance) &&
    (!f.stream || l.stream === f.stream) &&
    (!text || l.text.toLowerCase().includes(text)));
}

/** The instances and revisions seen in the lines (for the filter's choices), sorted. */
export function sourcesOf(lines: readonly LogLine[]): { revisions: string[]; instances: string[] } {
  const revisions = new Set<string>();
  const instances = new Set<string>();
  for (const l of lines) {
    if (l.revision) revisions.add(l.revision);
    if (l.instance) instances.add(l.instance);
  }
  return { revisions: [...revisions].sort(), instances: [...instances].sort() };
}

/**
 * After a reconnect (the daemon restarted, the stream broke) the API is asked again from a little
 * before the last line held: of what it sends, only lines newer than that one, or of the same time
 * and not already held, are new.
 */
export function newSince(held: readonly LogLine[], incoming: readonly LogLine[]): LogLine[] {
  const last = held.at(-1);
  if (!last || !last.time) return incoming.slice();
  const same = new Set(held.filter((l) => l.time === last.time).map((l) => `${l.instance} ${l.stream} ${l.text}`));
  return incoming.filter((l) => !l.time || l.time > last.time || (l.time === last.time && !same.has(`${l.instance} ${l.stream} ${l.text}`)));
}

/** The `since` to ask for after a break: whole seconds back to the last line held, plus one. */
export function sinceFor(held: readonly LogLine[], now: number): string | undefined {
  const t = Date.parse(held.at(-1)?.time ?? '');
  return Number.isNaN(t) ? undefined : `${Math.max(1, Math.ceil((now - t) / 1000) + 1)}s`;
}
