// web/service-logs: the live log tail — GET /api/v1/services/NAME/logs read as a stream (the
// response body's reader), following new lines (follow=true) or once, with pause, filters by revision,
// instance, stream and text, and the last MAX_LINES lines kept. Leaving the tab aborts the request. A
// followed stream that ends (the daemon restarted) is asked again from the last line held.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { TabProps } from './pages/service.tsx';
import { logsUrl } from './service-api.ts';
import { errorMessage } from './session.ts';
import { MAX_LINES, NO_FILTER, appendCapped, filterLines, newSince, parseLine, sinceFor, sourcesOf, splitChunk, type LogFilter, type LogLine } from './service-logs-model.ts';

/** lines each instance starts with: enough context, not a crash loop's whole history */
const TAIL = 200;
/** new lines are drawn at most this often: a chatty app must not re-render the page per line */
const FLUSH_MS = 200;
const RECONNECT_MS = 3000;

type Status = 'connecting' | 'waiting' | 'streaming' | 'done' | 'reconnecting' | 'error';

export function LogsTab(props: TabProps) {
  const name = props.service.name;
  const [follow, setFollow] = useState(true);
  const [paused, setPaused] = useState(false);
  const [filter, setFilter] = useState<LogFilter>(NO_FILTER);
  const [shown, setShown] = useState<LogLine[]>([]);
  const [status, setStatus] = useState<Status>('connecting');
  const [error, setError] = useState<string | undefined>();
  const [missed, setMissed] = useState(0);
  const [generation, setGeneration] = useState(0);
  const held = useRef<LogLine[]>([]);
  // the last lines received, kept through Clear: where a reconnect continues from
  const seen = useRef<LogLine[]>([]);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  const box = useRef<HTMLOListElement>(null);
  const atBottom = useRef(true);

  useEffect(() => {
    const ac = new AbortController();
    let seq = held.current.at(-1)?.seq ?? 0;
    let pending: LogLine[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      timer = undefined;
      if (pending.length === 0) return;
      held.current = appendCapped(held.current, pending);
      seen.current = appendCapped(seen.current, pending, 50);
      if (pausedRef.current) setMissed((n) => n + pending.length);
      else setShown(held.current);
      pending = [];
    };
    const read = async (since: string | undefined, dedupe: LogLine[] | undefined) => {
      const res = await fetch(logsUrl(name, { follow, tail: since ? undefined : TAIL, since }), { credentials: 'same-origin', cache: 'no-store', signal: ac.signal, headers: { accept: 'text/plain' } });
      if (res.status === 401) {
        props.onSignedOut();
        return 'stop';
      }
      if (!res.ok || !res.body) {
        setError(await errorMessage(res));
        setStatus('error');
        return 'stop';
      }
      setStatus(follow ? 'streaming' : 'done');
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let rest = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const split = splitChunk(rest, value);
        rest = split.rest;
        let lines = split.lines.filter((l) => l.length > 0).map((l) => parseLine(l, ++seq));
        if (dedupe) lines = newSince(dedupe, lines);
        pending.push(...lines);
        timer ??= setTimeout(flush, FLUSH_MS);
      }
      if (rest) pending.push(parseLine(rest, ++seq));
      flush();
      return 'ended';
    };
    void (async () => {
      setError(undefined);
      setStatus(follow ? 'waiting' : 'connecting');
      if (!follow) {
        held.current = [];
        seen.current = [];
        setShown([]);
      }
      let since: string | undefined;
      let dedupe: LogLine[] | undefined;
      // with follow, what was read is continued rather than read again whole
      if (follow && seen.current.length) {
        since = sinceFor(seen.current, Date.now());
        dedupe = seen.current;
      }
      for (;;) {
        try {
          const how = await read(since, dedupe);
          if (how === 'stop' || !follow) return;
        } catch (err) {
          if (ac.signal.aborted) return;
          void err; // the daemon went away mid-stream: try again below
        }
        setStatus('reconnecting');
        await new Promise((r) => setTimeout(r, RECONNECT_MS));
        if (ac.signal.aborted) return;
        since = sinceFor(seen.current, Date.now());
        dedupe = seen.current;
      }
    })();
    return () => {
      ac.abort();
      if (timer) clearTimeout(timer);
    };
  }, [name, follow, generation]);

  useEffect(() => {
    if (!paused) {
      setShown(held.current);
      setMissed(0);
    }
  }, [paused]);

  const visible = useMemo(() => filterLines(shown, filter), [shown, filter]);
  const sources = useMemo(() => sourcesOf(shown), [shown]);
  // keep the newest line in view while following, unless the reader scrolled up to look at something
  useLayoutEffect(() => {
    if (box.current && atBottom.current) box.current.scrollTop = box.current.scrollHeight;
  }, [visible]);

  const set = (k: keyof LogFilter) => (e: Event) => setFilter({ ...filter, [k]: (e.currentTarget as HTMLInputElement | HTMLSelectElement).value });
  const statusText: Record<Status, string> = {
    connecting: 'Reading…',
    waiting: 'Following: waiting for lines…',
    streaming: 'Following new lines',
    done: 'Not following: the lines there were',
    reconnecting: 'The log stream ended; connecting again…',
    error: 'Could not read the logs',
  };
  return (
    <div class="logs">
      <div class="toolbar log-controls">
        <div class="field check">
          <input id="log-follow" type="checkbox" checked={follow} onChange={(e) => { setPaused(false); setFollow((e.currentTarget as HTMLInputElement).checked); }} />
          <label for="log-follow">Follow</label>
        </div>
        <button type="button" class="secondary" aria-pressed={paused ? 'true' : 'false'} disabled={!follow} onClick={() => setPaused(!paused)}>{paused ? 'Resume' : 'Pause'}</button>
        <button type="button" class="secondary" onClick={() => { held.current = []; setShown([]); setMissed(0); }}>Clear</button>
        {!follow && <button type="button" class="secondary" onClick={() => setGeneration(generation + 1)}>Read again</button>}
      </div>
      <div class="log-filters">
        <div class="field">
          <label for="log-revision">Revision</label>
          <select id="log-revision" value={filter.revision} onChange={set('revision')}>
            <option value="">All revisions</option>
            {[...new Set([...props.service.revisions.map((r) => r.name), ...sources.revisions])].map((r) => <option value={r}>{r}</option>)}
          </select>
        </div>
        <div class="field">
          <label for="log-instance">Instance</label>
          <select id="log-instance" value={filter.instance} onChange={set('instance')}>
            <option value="">All instances</option>
            {sources.instances.filter((i) => !filter.revision || i.startsWith(`${filter.revision}-`)).map((i) => <option value={i}>{i}</option>)}
          </select>
        </div>
        <div class="field">
          <label for="log-stream">Stream</label>
          <select id="log-stream" value={filter.stream} onChange={set('stream')}>
            <option value="">stdout and stderr</option>
            <option value="stdout">stdout</option>
            <option value="stderr">stderr</option>
          </select>
        </div>
        <div class="field">
          <label for="log-text">Text</label>
          <input id="log-text" type="search" value={filter.text} onInput={set('text')} autocomplete="off" placeholder="contains…" />
        </div>
      </div>
      {error && <p class="error" role="alert">{error} <button type="button" class="small" onClick={() => setGeneration(generation + 1)}>Try again</button></p>}
      <p class="muted" role="status" aria-live="polite">
        {paused ? `Paused: ${missed} new ${missed === 1 ? 'line' : 'lines'} held back` : statusText[status]} · {visible.length === shown.length ? `${shown.length}` : `${visible.length} of ${shown.length}`} {shown.length === 1 ? 'line' : 'lines'} (the last {MAX_LINES} are kept)
      </p>
      <ol class="log" ref={box} tabIndex={0} aria-label="Log lines, oldest first"
        onScroll={(e) => { const el = e.currentTarget as HTMLElement; atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24; }}>
        {visible.map((l) => (
          <li key={l.seq} class={l.stream === 'stderr' ? 'stderr' : undefined}>
            <time dateTime={l.time}>{l.time ? l.time.slice(11, 23) : ''}</time> <span class="src">{l.instance}</span> <span class="stream">{l.stream}</span> <span class="text">{l.text}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}
