// web/services: the Services page — every service the session's token may see (GET /api/v1/services),
// with search and sort, and each one's requests/s, latency and cold starts of the last hour (GET
// /api/v1/stats/services: one request for the whole list). A table on wide screens, one card per
// service on a phone (styles.css).
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ServicesStatsView, ServiceView } from '../../src/core/views.ts';
import { getJson, listServices } from './api.ts';
import { useChanges } from './live.ts';
import { href } from './router.ts';
import { latencyLabel, msText, rateText, requestsLabel, searchRows, sortRows, statsRows, toRow, withStats, type SortDirection, type SortKey, type StatsRow } from './services-model.ts';
import { Sparkline } from './sparkline.tsx';

/** the stats are read again this often, and on live changes at most every STATS_MIN_GAP_MS (a busy
 *  service changes its instances often; the history only moves once per 10 s step anyway) */
const STATS_REFRESH_MS = 30_000;
const STATS_MIN_GAP_MS = 5_000;

const COLUMNS: Array<{ key: SortKey | undefined; label: string }> = [
  { key: 'name', label: 'Name' },
  { key: 'project', label: 'Project' },
  { key: 'serving', label: 'Serving revision' },
  { key: undefined, label: 'Traffic' },
  { key: 'instances', label: 'Instances' },
  { key: 'requests', label: 'Requests/s' },
  { key: undefined, label: 'Latency p50/p99' },
  { key: 'coldStarts', label: 'Cold starts (1 h)' },
  { key: 'url', label: 'URL' },
];

/**
 * GET /api/v1/stats/services on load, every 30 s while the browser tab is visible, and when `poke`d
 * (live changes), at most once per 5 s. Never awaited by the table: until it answers, the columns say
 * "…". A failure (or a daemon without the route) leaves what was shown; a 401 is the list's to handle.
 */
function useServiceStats(): { stats: Map<string, StatsRow> | undefined; poke: () => void } {
  const [stats, setStats] = useState<Map<string, StatsRow> | undefined>();
  const state = useRef({ last: 0, inFlight: false, timer: undefined as ReturnType<typeof setTimeout> | undefined, abort: new AbortController() });
  const fetchNow = async () => {
    const s = state.current;
    if (s.inFlight) return;
    s.inFlight = true;
    s.last = Date.now();
    try {
      const r = await getJson<ServicesStatsView>('/api/v1/stats/services?window=1h', s.abort.signal);
      if (r.ok) setStats(statsRows(r.value));
    } catch {
      // aborted: the page was left
    } finally {
      s.inFlight = false;
    }
  };
  const poke = () => {
    const s = state.current;
    if (s.timer) return;
    s.timer = setTimeout(() => {
      s.timer = undefined;
      void fetchNow();
    }, Math.max(0, s.last + STATS_MIN_GAP_MS - Date.now()));
  };
  useEffect(() => {
    void fetchNow();
    const every = setInterval(() => {
      if (document.visibilityState === 'visible') void fetchNow();
    }, STATS_REFRESH_MS);
    return () => {
      clearInterval(every);
      if (state.current.timer) clearTimeout(state.current.timer);
      state.current.abort.abort();
    };
  }, []);
  return { stats, poke };
}

/** a stats cell before the stats arrived */
const Pending = () => <span class="muted"><span aria-hidden="true">…</span><span class="visually-hidden">not read yet</span></span>;

export function ServicesPage(props: { initial?: ServiceView[] | undefined; onSignedOut: () => void }) {
  const [services, setServices] = useState<ServiceView[] | undefined>(props.initial);
  const [error, setError] = useState<string | undefined>();
  const [loading, setLoading] = useState(false);
  const [query, setQuery] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; direction: SortDirection }>({ key: 'name', direction: 'ascending' });

  const load = async () => {
    setLoading(true);
    const r = await listServices();
    setLoading(false);
    if (r.ok) {
      setServices(r.value);
      setError(undefined);
    } else if (r.signedOut) props.onSignedOut();
    else setError(r.message);
  };
  useEffect(() => {
    if (!props.initial) void load();
  }, []);
  // a service deployed, changed or removed anywhere (the CLI too) shows without a reload
  const { stats, poke } = useServiceStats();
  useChanges((c) => c.kind === 'service', () => {
    void load();
    poke();
  });

  const rows = useMemo(() => withStats((services ?? []).map(toRow), stats), [services, stats]);
  const shown = useMemo(() => sortRows(searchRows(rows, query), sort.key, sort.direction), [rows, query, sort]);
  const sortBy = (key: SortKey) => setSort((s) => ({ key, direction: s.key === key && s.direction === 'ascending' ? 'descending' : 'ascending' }));

  return (
    <section aria-labelledby="services-title">
      <div class="heading">
        <h1 id="services-title">Services</h1>
        <button type="button" onClick={() => void load()} disabled={loading} aria-busy={loading ? 'true' : undefined}>{loading ? 'Refreshing…' : 'Refresh'}</button>
      </div>
      <div class="toolbar">
        <div class="field">
          <label for="service-search">Search</label>
          <input id="service-search" type="search" value={query} placeholder="name, project, revision, URL…" autocomplete="off"
            onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="service-sort">Sort by</label>
          <select id="service-sort" value={`${sort.key} ${sort.direction}`}
            onChange={(e) => {
              const [key, direction] = (e.currentTarget as HTMLSelectElement).value.split(' ') as [SortKey, SortDirection];
              setSort({ key, direction });
            }}>
            {COLUMNS.flatMap((c) => c.key ? [
              <option key={`${c.key}-a`} value={`${c.key} ascending`}>{c.label} ↑</option>,
              <option key={`${c.key}-d`} value={`${c.key} descending`}>{c.label} ↓</option>,
            ] : [])}
          </select>
        </div>
      </div>
      {error && <p class="error" role="alert">{error} <button type="button" onClick={() => void load()}>Try again</button></p>}
      <p class="muted" role="status" aria-live="polite">
        {services === undefined ? 'Loading…' : rows.length === shown.length ? `${rows.length} ${rows.length === 1 ? 'service' : 'services'}` : `${shown.length} of ${rows.length} services`}
      </p>
      {services !== undefined && rows.length === 0 && <p>No services yet. Deploy one with <code>skiff deploy</code>.</p>}
      {shown.length > 0 && (
        <table class="services service-list">
          <caption class="visually-hidden">Services, sorted by {COLUMNS.find((c) => c.key === sort.key)?.label.toLowerCase()} ({sort.direction})</caption>
          <thead>
            <tr>
              {COLUMNS.map((c) => (
                <th scope="col" aria-sort={c.key && c.key === sort.key ? sort.direction : undefined}>
                  {c.key ? <button type="button" class="sort" onClick={() => sortBy(c.key!)}>{c.label}<span aria-hidden="true" class="arrow">{c.key === sort.key ? (sort.direction === 'ascending' ? ' ↑' : ' ↓') : ''}</span></button> : c.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <tr key={`${r.project}/${r.name}`}>
                <th scope="row" data-label="Name"><a href={href({ page: 'service', name: r.name })}>{r.name}</a></th>
                <td data-label="Project">{r.project}</td>
                <td data-label="Serving revision"><code>{r.serving}</code></td>
                <td data-label="Traffic">{r.traffic}</td>
                <td data-label="Instances">{r.instances.length === 0 ? <span class="muted">none</span> : (
                  <ul class="phases">{r.instances.map(([phase, count]) => <li class={`phase phase-${phase}`}>{count} {phase}</li>)}</ul>
                )}</td>
                <td data-label="Requests/s">{r.stats ? (
                  <span class="spark-cell">
                    <Sparkline series={[r.stats.rps]} label={`Requests per second, last hour: ${requestsLabel(r.stats)}`} />
                    <span aria-hidden="true">{rateText(r.stats.nowRps)}/s</span>
                  </span>
                ) : <Pending />}</td>
                <td data-label="Latency p50/p99">{r.stats ? (
                  <span class="spark-cell">
                    <Sparkline series={[r.stats.p99Ms, r.stats.p50Ms]} classes={['spark-line spark-p99', 'spark-line']} label={`Latency, last hour: ${latencyLabel(r.stats)}`} />
                    <span aria-hidden="true">{r.stats.p50Now === null ? '—' : `${msText(r.stats.p50Now)} / ${msText(r.stats.p99Now)}`}</span>
                  </span>
                ) : <Pending />}</td>
                <td data-label="Cold starts (1 h)">{r.stats ? r.stats.coldStarts : <Pending />}</td>
                <td data-label="URL"><a href={r.url} rel="noreferrer noopener">{r.url}</a></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
