// web/pages/secrets: the Secrets page — names, versions and key names of the session's project's
// secrets (GET /api/v1/secrets). The API never answers a value (core/secrets.ts SecretView), and this
// page has nowhere to show one: setting a secret stays with `skiff secret set`.
import { useMemo, useState } from 'preact/hooks';
import type { SecretView } from '../../../src/core/secrets.ts';
import type { PageProps } from '../page.ts';
import { byName, search, secretRow } from '../resources-model.ts';
import { Count, ErrorLine, Heading, ListTable, SearchField, useList } from '../resources-view.tsx';

export function SecretsPage(props: PageProps) {
  const list = useList<SecretView>('/api/v1/secrets', 'secrets', ['secret'], props.onSignedOut);
  const [query, setQuery] = useState('');
  const rows = useMemo(() => byName((list.items ?? []).map(secretRow)), [list.items]);
  const shown = useMemo(() => search(rows, query), [rows, query]);
  return (
    <section aria-labelledby="page-title">
      <Heading id="page-title" title="Secrets" state={list} />
      <p class="muted">Names and versions only: values are never sent to the dashboard. Set them with <code>skiff secret set</code>.</p>
      <SearchField id="secret-search" value={query} placeholder="name or key…" onInput={setQuery} />
      <ErrorLine message={list.error} retry={() => void list.reload()} />
      <Count total={list.items?.length} shown={shown.length} one="secret" many="secrets" />
      {list.items?.length === 0 && <p>No secrets yet.</p>}
      {shown.length > 0 && (
        <ListTable caption="Secrets, by name" columns={['Name', 'Version', 'Keys', 'Updated']}>
          {shown.map((r) => (
            <tr key={r.name}>
              <th scope="row" data-label="Name">{r.name}</th>
              <td data-label="Version" class="num">v{r.version}</td>
              <td data-label="Keys"><span>{r.keys.map((k, i) => <>{i > 0 && ', '}<code>{k}</code></>)}</span></td>
              <td data-label="Updated">{r.updated}</td>
            </tr>
          ))}
        </ListTable>
      )}
    </section>
  );
}
