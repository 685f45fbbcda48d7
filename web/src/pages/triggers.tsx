// web/pages/triggers: the Triggers page — every trigger the session may see (GET /api/v1/triggers):
// source kind, target, schedule or subscription, state, next fire and counters (deliveries, failures,
// dead letters), with pause and resume (POST /api/v1/triggers/NAME/pause|resume, as `skiff trigger
// pause`). Refreshed live on trigger changes.
import { useMemo, useState } from 'preact/hooks';
import type { TriggerView } from '../../../src/core/events.ts';
import type { PageProps } from '../page.ts';
import { call } from '../api.ts';
import { byName, search, triggerRow, type TriggerRow } from '../resources-model.ts';
import { Count, ErrorLine, Heading, ListTable, SearchField, useList } from '../resources-view.tsx';

export function TriggersPage(props: PageProps) {
  const list = useList<TriggerView>('/api/v1/triggers', 'triggers', ['trigger'], props.onSignedOut);
  const [query, setQuery] = useState('');
  const [busy, setBusy] = useState<string | undefined>();
  const [actionError, setActionError] = useState<string | undefined>();
  const rows = useMemo(() => byName((list.items ?? []).map(triggerRow)), [list.items]);
  const shown = useMemo(() => search(rows, query), [rows, query]);

  const setPaused = async (r: TriggerRow, paused: boolean) => {
    setBusy(r.name);
    setActionError(undefined);
    const res = await call<TriggerView>('POST', `/api/v1/triggers/${encodeURIComponent(r.name)}/${paused ? 'pause' : 'resume'}`);
    setBusy(undefined);
    if (res.ok) await list.reload();
    else if (res.signedOut) props.onSignedOut();
    else setActionError(`Could not ${paused ? 'pause' : 'resume'} ${r.name}: ${res.message}`);
  };

  return (
    <section aria-labelledby="page-title">
      <Heading id="page-title" title="Triggers" state={list} />
      <SearchField id="trigger-search" value={query} placeholder="name, kind, target, schedule…" onInput={setQuery} />
      <ErrorLine message={list.error} retry={() => void list.reload()} />
      <ErrorLine message={actionError} />
      <Count total={list.items?.length} shown={shown.length} one="trigger" many="triggers" />
      {list.items?.length === 0 && <p>No triggers yet. Add one with <code>skiff trigger add</code>.</p>}
      {shown.length > 0 && (
        <ListTable caption="Triggers, by name" columns={['Name', 'Source', 'Target', 'Schedule or subscription', 'State', 'Next fire', 'Deliveries', 'Failures', 'Dead letters', 'Actions']}>
          {shown.map((r) => (
            <tr key={`${r.project}/${r.name}`}>
              <th scope="row" data-label="Name"><span>{r.name}<br /><span class="muted">{r.project}</span></span></th>
              <td data-label="Source">{r.kind}</td>
              <td data-label="Target">{r.target}</td>
              <td data-label="Schedule"><code>{r.schedule || '—'}</code></td>
              <td data-label="State"><span><span class={`badge state-${r.status}`}>{r.status}</span>{r.lastError && <><br /><span class="error">{r.lastError}</span></>}</span></td>
              <td data-label="Next fire">{r.nextFire}</td>
              <td data-label="Deliveries" class="num">{r.deliveries}</td>
              <td data-label="Failures" class="num">{r.failures}</td>
              <td data-label="Dead letters" class="num">{r.deadLetters}</td>
              <td data-label="Actions">
                <span class="actions">
                  <button type="button" class="secondary small" disabled={busy === r.name} aria-label={`${r.paused ? 'Resume' : 'Pause'} trigger ${r.name}`}
                    onClick={() => void setPaused(r, !r.paused)}>{busy === r.name ? '…' : r.paused ? 'Resume' : 'Pause'}</button>
                </span>
              </td>
            </tr>
          ))}
        </ListTable>
      )}
    </section>
  );
}
