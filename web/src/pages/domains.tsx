// web/pages/domains: the Domains page — each custom domain's host, service and certificate: where it
// comes from, its state and expiry, the next renewal and the last error (GET /api/v1/domains).
import { useMemo, useState } from 'preact/hooks';
import type { DomainView } from '../../../src/core/domains.ts';
import type { PageProps } from '../page.ts';
import { href } from '../router.ts';
import { byName, domainRow, search } from '../resources-model.ts';
import { Count, ErrorLine, Heading, ListTable, SearchField, useList } from '../resources-view.tsx';

export function DomainsPage(props: PageProps) {
  const list = useList<DomainView>('/api/v1/domains', 'domains', ['domain'], props.onSignedOut);
  const [query, setQuery] = useState('');
  const rows = useMemo(() => byName((list.items ?? []).map((d) => domainRow(d, Date.now()))), [list.items]);
  const shown = useMemo(() => search(rows, query), [rows, query]);
  return (
    <section aria-labelledby="page-title">
      <Heading id="page-title" title="Domains" state={list} />
      <SearchField id="domain-search" value={query} placeholder="host, service, state…" onInput={setQuery} />
      <ErrorLine message={list.error} retry={() => void list.reload()} />
      <Count total={list.items?.length} shown={shown.length} one="domain" many="domains" />
      {list.items?.length === 0 && <p>No custom domains yet. Add one with <code>skiff domain add</code>.</p>}
      {shown.length > 0 && (
        <ListTable caption="Custom domains, by host" columns={['Host', 'Service', 'Certificate', 'Issuer', 'Expires', 'Renews']}>
          {shown.map((r) => (
            <tr key={r.name}>
              <th scope="row" data-label="Host"><span>{r.url ? <a href={r.url} rel="noreferrer noopener">{r.name}</a> : r.name}</span></th>
              <td data-label="Service"><a href={href({ page: 'service', name: r.service })}>{r.service}</a></td>
              <td data-label="Certificate"><span><span class={`badge state-${r.status}`}>{r.status}</span> <span class="muted">{r.source}</span>{r.lastError && <><br /><span class="error">{r.lastError}</span></>}</span></td>
              <td data-label="Issuer">{r.issuer}</td>
              <td data-label="Expires">{r.expires}</td>
              <td data-label="Renews">{r.renews}</td>
            </tr>
          ))}
        </ListTable>
      )}
    </section>
  );
}
