// web/pages/registry: the Registry page — the repositories the session may pull from (GET
// /api/v1/registry/repositories), and one repository's tags, digests, sizes and referrers, with
// deleting a tag or a manifest behind a confirmation step (DELETE …/tags/TAG or …/manifests/DIGEST,
// the same as deleting through /v2). The dashboard cannot use /v2: its session cookie is for /api/v1.
import { useMemo, useRef, useState, useEffect } from 'preact/hooks';
import type { RegistryRepositoryDetail, RegistryRepositoryView } from '../../../src/core/registry-views.ts';
import type { PageProps } from '../page.ts';
import { call, getJson } from '../api.ts';
import { useChanges } from '../live.ts';
import { href } from '../router.ts';
import { search } from '../resources-model.ts';
import { confirmText, deletePath, manifestRow, repositoryPath, repositoryRow, REGISTRY_API } from '../registry-model.ts';
import { Count, ErrorLine, Heading, ListTable, SearchField, useList } from '../resources-view.tsx';

function Repositories(props: PageProps) {
  const list = useList<RegistryRepositoryView>(REGISTRY_API, 'repositories', ['registry'], props.onSignedOut);
  const [query, setQuery] = useState('');
  const rows = useMemo(() => (list.items ?? []).map(repositoryRow), [list.items]);
  const shown = useMemo(() => search(rows, query), [rows, query]);
  return (
    <section aria-labelledby="page-title">
      <Heading id="page-title" title="Registry" state={list} />
      <SearchField id="repository-search" value={query} placeholder="repository or project…" onInput={setQuery} />
      <ErrorLine message={list.error} retry={() => void list.reload()} />
      <Count total={list.items?.length} shown={shown.length} one="repository" many="repositories" />
      {list.items?.length === 0 && <p>No images yet. Push one with <code>docker push</code> or deploy with <code>skiff deploy</code>.</p>}
      {shown.length > 0 && (
        <ListTable caption="Repositories, by name" columns={['Repository', 'Project', 'Tags']}>
          {shown.map((r) => (
            <tr key={r.name}>
              <th scope="row" data-label="Repository"><a href={href({ page: 'registry', repository: r.name })}>{r.name}</a></th>
              <td data-label="Project">{r.project}</td>
              <td data-label="Tags" class="num">{r.tags}</td>
            </tr>
          ))}
        </ListTable>
      )}
    </section>
  );
}

type Pending = { reference: string; tags: string[] };

function Repository(props: PageProps & { name: string }) {
  const { name } = props;
  const [detail, setDetail] = useState<RegistryRepositoryDetail | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [loading, setLoading] = useState(false);
  const [pending, setPending] = useState<Pending | undefined>();
  const [deleting, setDeleting] = useState(false);
  const [notice, setNotice] = useState<string | undefined>();
  const [query, setQuery] = useState('');
  const confirmRef = useRef<HTMLButtonElement>(null);
  const noticeRef = useRef<HTMLParagraphElement>(null);
  /** the Delete button that opened the confirmation: Cancel gives the focus back to it */
  const opener = useRef<HTMLElement | null>(null);
  const ask = (p: Pending) => {
    opener.current = document.activeElement as HTMLElement | null;
    setPending(p);
  };
  const cancel = () => {
    setPending(undefined);
    opener.current?.focus();
  };

  const load = async () => {
    setLoading(true);
    const r = await getJson<RegistryRepositoryDetail>(repositoryPath(name));
    setLoading(false);
    if (r.ok) {
      setDetail(r.value);
      setError(undefined);
    } else if (r.signedOut) props.onSignedOut();
    else setError(r.status === 404 ? `No repository ${name} (or not one this token may see).` : r.message);
  };
  useEffect(() => {
    void load();
  }, [name]);
  useChanges((c) => c.kind === 'registry' && (c.name === undefined || c.name === name), () => void load());
  // the confirmation takes the focus, so a keyboard user lands on the choice it asks for
  useEffect(() => {
    if (pending) confirmRef.current?.focus();
  }, [pending]);

  const rows = useMemo(() => (detail?.manifests ?? []).map(manifestRow), [detail]);
  const shown = useMemo(() => search(rows, query), [rows, query]);

  const confirmDelete = async () => {
    if (!pending) return;
    setDeleting(true);
    const r = await call('DELETE', deletePath(name, pending.reference));
    setDeleting(false);
    if (r.ok) {
      setNotice(`Deleted ${pending.reference.includes(':') ? `manifest ${pending.reference}` : `tag ${pending.reference}`}.`);
      setPending(undefined);
      await load();
      // the button that asked is gone with its tag: the focus goes to what happened
      noticeRef.current?.focus();
    } else if (r.signedOut) props.onSignedOut();
    else {
      setPending(undefined);
      setError(`Could not delete ${pending.reference}: ${r.status === 403 ? 'this token may not delete images (it needs the push role or more).' : r.message}`);
    }
  };

  return (
    <section aria-labelledby="page-title">
      <p><a href={href({ page: 'registry' })}>← All repositories</a></p>
      <Heading id="page-title" title={name} state={{ loading, reload: load }} />
      {detail && <p class="muted">Project {detail.project}{detail.truncated ? ' · showing the first 1000 tags' : ''}</p>}
      <SearchField id="tag-search" value={query} placeholder="tag or digest…" onInput={setQuery} />
      <ErrorLine message={error} retry={() => void load()} />
      <p role="status" class="muted" ref={noticeRef} tabIndex={-1}>{notice}</p>
      {pending && (
        <div class="confirm" role="alertdialog" aria-labelledby="confirm-text" onKeyDown={(e) => e.key === 'Escape' && !deleting && cancel()}>
          <p id="confirm-text">{confirmText(name, pending.reference, pending.tags)}</p>
          <div class="actions">
            <button type="button" class="danger" ref={confirmRef} disabled={deleting} onClick={() => void confirmDelete()}>{deleting ? 'Deleting…' : 'Delete'}</button>
            <button type="button" class="secondary" disabled={deleting} onClick={cancel}>Cancel</button>
          </div>
        </div>
      )}
      <Count total={detail?.manifests.length} shown={shown.length} one="manifest" many="manifests" />
      {detail && detail.manifests.length === 0 && <p>No tagged images in this repository.</p>}
      {shown.length > 0 && (
        <ListTable caption={`Tagged manifests of ${name}, newest first`} columns={['Digest', 'Tags', 'Kind', 'Size', 'Pushed', 'Referrers', 'Delete']}>
          {shown.map((m) => (
            <tr key={m.digest}>
              <th scope="row" data-label="Digest"><code title={m.digest}>{m.short}</code></th>
              <td data-label="Tags">
                <ul class="plain">
                  {m.tags.map((t) => (
                    <li key={t}>
                      <code>{t}</code>{' '}
                      <button type="button" class="secondary small" aria-label={`Delete tag ${t}`} onClick={() => ask({ reference: t, tags: [] })}>Delete tag</button>
                    </li>
                  ))}
                </ul>
              </td>
              <td data-label="Kind">{m.kind}</td>
              <td data-label="Size" class="num">{m.size}</td>
              <td data-label="Pushed">{m.pushed}</td>
              <td data-label="Referrers">
                {m.referrers.length === 0 ? <span class="muted">none</span> : (
                  <ul class="plain">{m.referrers.map((r) => <li key={r.digest}><code title={r.digest}>{r.short}</code> {r.what} ({r.size})</li>)}</ul>
                )}
              </td>
              <td data-label="Delete">
                <button type="button" class="secondary small" aria-label={`Delete manifest ${m.short}`} onClick={() => ask({ reference: m.digest, tags: m.tags })}>Delete manifest</button>
              </td>
            </tr>
          ))}
        </ListTable>
      )}
    </section>
  );
}

export function RegistryPage(props: PageProps & { repository?: string | undefined }) {
  return props.repository ? <Repository name={props.repository} onSignedOut={props.onSignedOut} /> : <Repositories onSignedOut={props.onSignedOut} />;
}
