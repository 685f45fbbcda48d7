// web/live: live updates. One EventSource on GET /api/v1/stream (server-sent events, `event: change`,
// data: core/views ChangeEvent) is shared by every page; a page says which changes concern it and what
// to read again. EventSource reconnects by itself while the daemon is away (a network error); an
// answer that is not a stream (a 401 after a restart ended the session, a 429) closes it for good, so
// this module opens a new one itself, every RECONNECT_MS. On each reconnect every listener runs once,
// since changes made while the stream was down were not seen; a page's read then meets the 401 and
// the shell shows the sign-in form. useConnection() tells the shell whether the stream is down.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ChangeEvent } from '../../src/core/views.ts';

type Listener = { matches: (c: ChangeEvent) => boolean; run: () => void };

const RECONNECT_MS = 2000;
const listeners = new Set<Listener>();
const watchers = new Set<(lost: boolean) => void>();
let source: EventSource | undefined;
let retry: ReturnType<typeof setTimeout> | undefined;
let lost = false;

function setLost(value: boolean): void {
  if (lost === value) return;
  lost = value;
  for (const w of watchers) w(value);
}

function connect(): void {
  if (source || typeof EventSource === 'undefined') return;
  source = new EventSource('/api/v1/stream');
  source.addEventListener('change', (e) => {
    let change: ChangeEvent;
    try {
      change = JSON.parse((e as MessageEvent<string>).data) as ChangeEvent;
    } catch {
      return;
    }
    for (const l of listeners) if (l.matches(change)) l.run();
  });
  source.addEventListener('open', () => {
    if (!lost) return;
    setLost(false);
    for (const l of listeners) l.run();
  });
  source.addEventListener('error', () => {
    setLost(true);
    if (source?.readyState !== EventSource.CLOSED) return; // the browser retries by itself
    source = undefined;
    retry ??= setTimeout(() => {
      retry = undefined;
      if (listeners.size === 0) return;
      // the pages read again: a 401 takes the shell to the sign-in form, which stops the listeners
      for (const l of listeners) l.run();
      connect();
    }, RECONNECT_MS);
  });
}

function disconnectIfUnused(): void {
  if (listeners.size > 0 || !source) return;
  source.close();
  source = undefined;
  if (retry) clearTimeout(retry);
  retry = undefined;
  setLost(false);
}

/** Whether the live stream is down (the daemon stopped or restarting): the shell says so. */
export function useConnectionLost(): boolean {
  const [value, setValue] = useState(lost);
  useEffect(() => {
    watchers.add(setValue);
    setValue(lost);
    return () => void watchers.delete(setValue);
  }, []);
  return value;
}

/** Calls `onChange` (at most once per `debounceMs`, trailing) whenever a change `matches`, and after
 *  the stream comes back from a break. */
export function useChanges(matches: (c: ChangeEvent) => boolean, onChange: () => void, debounceMs = 300): void {
  const latest = useRef({ matches, onChange });
  latest.current = { matches, onChange };
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const listener: Listener = {
      matches: (c) => latest.current.matches(c),
      run: () => {
        if (timer) return;
        timer = setTimeout(() => {
          timer = undefined;
          latest.current.onChange();
        }, debounceMs);
      },
    };
    listeners.add(listener);
    connect();
    return () => {
      if (timer) clearTimeout(timer);
      listeners.delete(listener);
      disconnectIfUnused();
    };
  }, [debounceMs]);
}
