// web/pages/jobs: the Jobs page — every job with its latest execution (GET /api/v1/jobs), and on
// demand a job's recent executions with their status, tasks and duration (GET /api/v1/jobs/NAME).
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { JobView } from '../../../src/core/jobs.ts';
import type { PageProps } from '../page.ts';
import { getJson } from '../api.ts';
import { byName, executionRow, jobRow, search, type ExecutionRow, type JobRow } from '../resources-model.ts';
import { Count, ErrorLine, Heading, ListTable, SearchField, useList } from '../resources-view.tsx';

function Status(props: { e: ExecutionRow | undefined }) {
  if (!props.e) return <span class="muted">never run</span>;
  return <span class={`badge state-${props.e.status}`}>{props.e.status}</span>;
}

function Executions(props: { job: string; onSignedOut: () => void }) {
  const [rows, setRows] = useState<ExecutionRow[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    void getJson<JobView>(`/api/v1/jobs/${encodeURIComponent(props.job)}`).then((r) => {
      if (r.ok) setRows(r.value.executions.map(executionRow));
      else if (r.signedOut) props.onSignedOut();
      else setError(r.message);
    });
  }, [props.job]);
  if (error) return <ErrorLine message={error} />;
  if (!rows) return <p class="muted" role="status">Loading executions…</p>;
  if (rows.length === 0) return <p class="muted">No executions yet.</p>;
  return (
    <ListTable caption={`Recent executions of ${props.job}, newest first`} columns={['Execution', 'Status', 'Tasks', 'Started', 'Duration']}>
      {rows.map((e) => (
        <tr key={e.id}>
          <th scope="row" data-label="Execution"><code>{e.id}</code></th>
          <td data-label="Status"><span><Status e={e} />{e.message && <><br /><span class="error">{e.message}</span></>}</span></td>
          <td data-label="Tasks">{e.tasks}</td>
          <td data-label="Started">{e.started}</td>
          <td data-label="Duration">{e.duration}</td>
        </tr>
      ))}
    </ListTable>
  );
}

export function JobsPage(props: PageProps) {
  const list = useList<JobView>('/api/v1/jobs', 'jobs', ['job'], props.onSignedOut);
  const [query, setQuery] = useState('');
  const [open, setOpen] = useState<string | undefined>();
  const rows = useMemo(() => byName((list.items ?? []).map(jobRow)), [list.items]);
  const shown = useMemo(() => search(rows, query), [rows, query]);
  const row = (r: JobRow) => (
    <tr key={`${r.project}/${r.name}`}>
      <th scope="row" data-label="Name"><span>{r.name}<br /><span class="muted">{r.project}</span></span></th>
      <td data-label="Image"><code>{r.image}</code></td>
      <td data-label="Tasks">{r.shape}</td>
      <td data-label="Latest execution"><span>{r.latest ? <><code>{r.latest.id}</code><br />{r.latest.started}</> : '—'}</span></td>
      <td data-label="Status"><span><Status e={r.latest} />{r.latest && <><br /><span class="muted">{r.latest.tasks}</span></>}</span></td>
      <td data-label="Duration">{r.latest?.duration ?? '—'}</td>
      <td data-label="Executions">
        <button type="button" class="secondary small" aria-expanded={open === r.name ? 'true' : 'false'} aria-controls="job-executions" aria-label={`Executions of ${r.name}`}
          onClick={() => setOpen(open === r.name ? undefined : r.name)}>{open === r.name ? 'Hide' : 'Show'}</button>
      </td>
    </tr>
  );
  return (
    <section aria-labelledby="page-title">
      <Heading id="page-title" title="Jobs" state={list} />
      <SearchField id="job-search" value={query} placeholder="name, image, status…" onInput={setQuery} />
      <ErrorLine message={list.error} retry={() => void list.reload()} />
      <Count total={list.items?.length} shown={shown.length} one="job" many="jobs" />
      {list.items?.length === 0 && <p>No jobs yet. Create one with <code>skiff job create</code>.</p>}
      {shown.length > 0 && (
        <ListTable caption="Jobs, by name, with their latest execution" columns={['Name', 'Image', 'Tasks', 'Latest execution', 'Status', 'Duration', 'Executions']}>
          {shown.map(row)}
        </ListTable>
      )}
      {open && (
        <section id="job-executions" aria-labelledby="executions-title">
          <h2 id="executions-title">Executions of {open}</h2>
          <Executions key={`${open}-${list.items?.find((j) => j.name === open)?.executions[0]?.status ?? ''}`} job={open} onSignedOut={props.onSignedOut} />
        </section>
      )}
    </section>
  );
}
