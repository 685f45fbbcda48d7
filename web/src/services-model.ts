// web/services-model: what the Services page shows of each service, and its search and sort — pure
// functions of the API's ServiceView, so they are tested without a browser (test/web/services-model.test.ts).
import type { ServiceView } from '../../src/core/views.ts';

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
}

export type SortKey = 'name' | 'project' | 'serving' | 'instances' | 'url';
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

/** Rows matching every word of the query (case-insensitive, anywhere in name, project, revisions, URL, image, labels). */
export function searchRows(rows: readonly ServiceRow[], query: string): ServiceRow[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return words.length === 0 ? [...rows] : rows.filter((r) => words.every((w) => r.haystack.includes(w)));
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** Sorted by the key, ties broken by name (so the order never depends on the API's). */
export function sortRows(rows: readonly ServiceRow[], key: SortKey, direction: SortDirection): ServiceRow[] {
  const sign = direction === 'ascending' ? 1 : -1;
  const compare = (a: ServiceRow, b: ServiceRow): number => {
    const byKey = key === 'instances' ? a.totalInstances - b.totalInstances : collator.compare(a[key], b[key]);
    return byKey * sign || collator.compare(a.name, b.name) || collator.compare(a.project, b.project);
  };
  return [...rows].sort(compare);
}
