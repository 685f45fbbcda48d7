// web/services-model: what the Services page shows of each service, and its search and sort — pure
// functions of the API's ServiceView, so they are tested without a browser (test/web/services-model.test.ts).
import type { ServicesStatsView, ServiceView } from '../../src/core/views.ts';

/** instance phases in the order the page lists them (core/views InstanceView.phase) */
export const PHASES = ['ready', 'starting', 'pre-created', 'frozen', 'draining'] as const;

export interface ServiceRow {
  name: string;
  project: string;
  serving: string;
  /** "r3 90% · r2 10% (canary)" */
  traffic: string;
  /** phase → count, phases with no instance left out, in PHASES order (unknown phases last) */
  instances: Array<[phase: string, count: number]>;
  totalInstances: number;
  url: string;
  /** lower-cased text the search looks in */
  haystack: string;
  /** its sparklines, once GET /api/v1/stats/services answered (the table does not wait for them) */
  stats?: StatsRow;
}

/** A service's line of GET /api/v1/stats/services, as the page shows it. */
export interface StatsRow {
  /** requests per second in each step */
  rps: number[];
  /** requests in the whole window (what "sort by requests" compares: steadier than the latest step) */
  requests: number;
  peakRps: number;
  /** the latest step's rate */
  nowRps: number;
  p50Ms: Array<number | null>;
  p99Ms: Array<number | null>;
  /** the latest step with requests' percentiles; null: no request in the window */
  p50Now: number | null;
  p99Now: number | null;
  coldStarts: number;
}

export type SortKey = 'name' | 'project' | 'serving' | 'instances' | 'url' | 'requests' | 'coldStarts';
export type SortDirection = 'ascending' | 'descending';

export function toRow(s: ServiceView): ServiceRow {
  const counts = new Map<string, number>();
  for (const r of s.revisions) for (const i of r.instances) counts.set(i.phase, (counts.get(i.phase) ?? 0) + 1);
  const rank = (p: string) => {
    const i = (PHASES as readonly string[]).indexOf(p);
    return i < 0 ? PHASES.length : i;
  };
  const instances = [...counts].sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0]));
  const traffic = s.traffic.map((t) => `${t.revision} ${t.percent}%${t.tag ? ` (${t.tag})` : ''}`).join(' · ');
  return {
    name: s.name,
    project: s.project,
    serving: s.servingRevision,
    traffic,
    instances,
    totalInstances: instances.reduce((n, [, c]) => n + c, 0),
    url: s.url,
    haystack: [s.name, s.project, s.servingRevision, s.latestRevision, s.url, s.image, ...Object.entries(s.labels ?? {}).map(([k, v]) => `${k}=${v}`)].join('\n').toLowerCase(),
  };
}

/** project/name → its StatsRow: the answer of GET /api/v1/stats/services, rates per second. */
export function statsRows(view: ServicesStatsView): Map<string, StatsRow> {
  const out = new Map<string, StatsRow>();
  const step = view.stepSeconds > 0 ? view.stepSeconds : 1;
  for (const s of view.services) {
    const rps = s.requests.map((n) => n / step);
    const last = lastIndexWhere(s.p50Ms, (v) => v !== null);
    out.set(`${s.project}/${s.name}`, {
      rps,
      requests: s.requests.reduce((a, b) => a + b, 0),
      peakRps: Math.max(0, ...rps),
      nowRps: rps.at(-1) ?? 0,
      p50Ms: s.p50Ms,
      p99Ms: s.p99Ms,
      p50Now: last < 0 ? null : s.p50Ms[last]!,
      p99Now: last < 0 ? null : (s.p99Ms[last] ?? null),
      coldStarts: s.coldStarts,
    });
  }
  return out;
}

/** The rows with their stats joined in (a row whose service the stats do not have keeps none). */
export function withStats(rows: readonly ServiceRow[], stats: ReadonlyMap<string, StatsRow> | undefined): ServiceRow[] {
  if (!stats) return [...rows];
  return rows.map((r) => {
    const s = stats.get(`${r.project}/${r.name}`);
    return s ? { ...r, stats: s } : r;
  });
}

/** "0", "0.017", "0.33", "3.2", "120": a rate read at a glance, small ones not rounded to zero. */
export function rateText(perSecond: number): string {
  if (perSecond === 0) return '0';
  if (perSecond < 1) return String(Number(perSecond.toPrecision(2)));
  if (perSecond < 100) return String(Math.round(perSecond * 10) / 10);
  return String(Math.round(perSecond));
}

/** "4.2 ms", "37 ms", "—" for none. */
export function msText(ms: number | null): string {
  if (ms === null) return '—';
  return `${ms < 10 ? Math.round(ms * 10) / 10 : Math.round(ms)} ms`;
}

/** The requests sparkline's text alternative. */
export function requestsLabel(s: StatsRow): string {
  return s.requests === 0 ? 'no requests in the last hour' : `peak ${rateText(s.peakRps)}/s, now ${rateText(s.nowRps)}/s`;
}

/** The latency sparkline's text alternative. */
export function latencyLabel(s: StatsRow): string {
  if (s.p50Now === null) return 'no requests in the last hour';
  const peak = Math.max(...s.p99Ms.map((v) => v ?? 0));
  return `latest p50 ${msText(s.p50Now)}, p99 ${msText(s.p99Now)}; highest p99 ${msText(peak)}`;
}

function lastIndexWhere<T>(a: readonly T[], ok: (v: T) => boolean): number {
  for (let i = a.length - 1; i >= 0; i--) if (ok(a[i]!)) return i;
  return -1;
}

/** Rows matching every word of the query (case-insensitive, anywhere in name, project, revisions, URL, image, labels). */
export function searchRows(rows: readonly ServiceRow[], query: string): ServiceRow[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return words.length === 0 ? [...rows] : rows.filter((r) => words.every((w) => r.haystack.includes(w)));
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** Sorted by the key, ties broken by name (so the order never depends on the API's). Requests (in the
 *  window) and cold starts: a row without stats yet counts as less than zero. */
export function sortRows(rows: readonly ServiceRow[], key: SortKey, direction: SortDirection): ServiceRow[] {
  const sign = direction === 'ascending' ? 1 : -1;
  const compare = (a: ServiceRow, b: ServiceRow): number => {
    const byKey =
      key === 'instances' ? a.totalInstances - b.totalInstances
      : key === 'requests' ? (a.stats?.requests ?? -1) - (b.stats?.requests ?? -1)
      : key === 'coldStarts' ? (a.stats?.coldStarts ?? -1) - (b.stats?.coldStarts ?? -1)
      : collator.compare(a[key], b[key]);
    return byKey * sign || collator.compare(a.name, b.name) || collator.compare(a.project, b.project);
  };
  return [...rows].sort(compare);
}
