// web/resources-view: what the list pages (triggers, jobs, domains, volumes, secrets, registry) share —
// reading a list from the API and reading it again on a live change (live.ts) or a button, a 401
// handing back to the sign-in form, errors said in a role=alert, and the search field with its
// polite count. Each page keeps its own columns; resources.css lays the tables out as cards on a phone.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ChangeEvent } from '../../src/core/views.ts';
import { getJson } from './api.ts';
import { useChanges } from './live.ts';
import './resources.css';

export interface ListState<T> {
  /** undefined until the first answer */
  items: T[] | undefined;
  error: string | undefined;
  loading: boolean;
  reload: () => Promise<void>;
}

/**
 * GET `path` and take `key` of its answer; read again when a change of one of `kinds` arrives. A
 * newer read wins over an older one still in flight (a slow answer never overwrites a fresher list).
 */
export function useList<T>(path: string, key: string, kinds: ReadonlyArray<ChangeEvent['kind']>, onSignedOut: () => void): ListState<T> {
  const [items, setItems] = useState<T[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [loading, setLoading] = useState(false);
  const latest = useRef(0);
  const reload = async () => {
    const mine = ++latest.current;
    setLoading(true);
    const r = await getJson<Record<string, T[]>>(path);
    if (mine !== latest.current) return;
    setLoading(false);
    if (r.ok) {
      setItems(r.value[key] ?? []);
      setError(undefined);
    } else if (r.signedOut) onSignedOut();
    else setError(r.message);
  };
  useEffect(() => {
    void reload();
  }, [path]);
  useChanges((c) => kinds.includes(c.kind), () => void reload());
  return { items, error, loading, reload };
}

/** The page's title with a Refresh button (live updates also refresh; the button is for a doubt). */
export function Heading(props: { id: string; title: string; state: { loading: boolean; reload: () => Promise<void> } }) {
  return (
    <div class="heading">
      <h1 id={props.id}>{props.title}</h1>
      <button type="button" onClick={() => void props.state.reload()} disabled={props.state.loading} aria-busy={props.state.loading ? 'true' : undefined}>
        {props.state.loading ? 'Refreshing…' : 'Refresh'}
      </button>
    </div>
  );
}

export function SearchField(props: { id: string; value: string; placeholder: string; onInput: (v: string) => void }) {
  return (
    <div class="toolbar">
      <div class="field">
        <label for={props.id}>Search</label>
        <input id={props.id} type="search" value={props.value} placeholder={props.placeholder} autocomplete="off"
          onInput={(e) => props.onInput((e.currentTarget as HTMLInputElement).value)} />
      </div>
    </div>
  );
}

/** "3 triggers" / "1 of 3 triggers", announced politely as the search narrows the list. */
export function Count(props: { total: number | undefined; shown: number; one: string; many: string }) {
  const { total, shown } = props;
  return (
    <p class="muted" role="status" aria-live="polite">
      {total === undefined ? 'Loading…' : total === shown ? `${total} ${total === 1 ? props.one : props.many}` : `${shown} of ${total} ${props.many}`}
    </p>
  );
}

export function ErrorLine(props: { message: string | undefined; retry?: () => void }) {
  if (!props.message) return null;
  return (
    <p class="error" role="alert">
      {props.message} {props.retry && <button type="button" class="secondary" onClick={props.retry}>Try again</button>}
    </p>
  );
}

/** A table that becomes one card per row on a phone (each cell under its column's name: data-label). */
export function ListTable(props: { caption: string; columns: string[]; children: ComponentChildren; class?: string }) {
  return (
    <table class={`list${props.class ? ` ${props.class}` : ''}`}>
      <caption class="visually-hidden">{props.caption}</caption>
      <thead>
        <tr>{props.columns.map((c) => <th scope="col">{c}</th>)}</tr>
      </thead>
      <tbody>{props.children}</tbody>
    </table>
  );
}
