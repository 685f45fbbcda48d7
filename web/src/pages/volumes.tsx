// web/pages/volumes: the Volumes page — each volume's size, what its filesystem holds now, and the
// services mounting it (GET /api/v1/volumes).
import { useMemo, useState } from 'preact/hooks';
import type { VolumeView } from '../../../src/core/views.ts';
import type { PageProps } from '../page.ts';
import { href } from '../router.ts';
import { byName, search, volumeRow } from '../resources-model.ts';
import { Count, ErrorLine, Heading, ListTable, SearchField, useList } from '../resources-view.tsx';

export function VolumesPage(props: PageProps) {
  const list = useList<VolumeView>('/api/v1/volumes', 'volumes', ['volume'], props.onSignedOut);
  const [query, setQuery] = useState('');
  const rows = useMemo(() => byName((list.items ?? []).map(volumeRow)), [list.items]);
  const shown = useMemo(() => search(rows, query), [rows, query]);
  return (
    <section aria-labelledby="page-title">
      <Heading id="page-title" title="Volumes" state={list} />
      <SearchField id="volume-search" value={query} placeholder="name or service…" onInput={setQuery} />
      <ErrorLine message={list.error} retry={() => void list.reload()} />
      <Count total={list.items?.length} shown={shown.length} one="volume" many="volumes" />
      {list.items?.length === 0 && <p>No volumes yet. Create one with <code>skiff volume create</code>.</p>}
      {shown.length > 0 && (
        <ListTable caption="Volumes, by name" columns={['Name', 'Size', 'Used', 'Used by', 'Shared', 'Mounted', 'Created']}>
          {shown.map((r) => (
            <tr key={r.name}>
              <th scope="row" data-label="Name">{r.name}</th>
              <td data-label="Size" class="num">{r.size}</td>
              <td data-label="Used">
                <span>{r.usedPercent !== undefined && <><meter min={0} max={100} value={r.usedPercent} aria-label={`${r.name} used`} /> </>}{r.used}</span>
              </td>
              <td data-label="Used by">
                {r.usedBy.length === 0 ? <span class="muted">no service</span> : (
                  <ul class="plain">{r.usedBy.map((s) => <li><a href={href({ page: 'service', name: s })}>{s}</a></li>)}</ul>
                )}
              </td>
              <td data-label="Shared">{r.shared ? 'yes' : 'no'}</td>
              <td data-label="Mounted">{r.mounted}</td>
              <td data-label="Created">{r.created}</td>
            </tr>
          ))}
        </ListTable>
      )}
    </section>
  );
}
