// web/services: the Services page — every service the session's token may see (GET /api/v1/services),
// with search and sort. A table on wide screens, one card per service on a phone (styles.css).
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { ServiceView } from '../../src/core/views.ts';
import { listServices } from './api.ts';
import { href } from './router.ts';
import { searchRows, sortRows, toRow, type SortDirection, type SortKey } from './services-model.ts';

const COLUMNS: Array<{ key: SortKey | undefined; label: string }> = [
  { key: 'name', label: 'Name' },
  { key: 'project', label: 'Project' },
  { key: 'serving', label: 'Serving revision' },
  { key: undefined, label: 'Traffic' },
  { key: 'instances', label: 'Instances' },
  { key: 'url', label: 'URL' },
];

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

  const rows = useMemo(() => (services ?? []).map(toRow), [services]);
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
        <table class="services">
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
                <td data-label="URL"><a href={r.url} rel="noreferrer noopener">{r.url}</a></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
