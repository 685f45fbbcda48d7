// web/live: live updates. One EventSource on GET /api/v1/stream (server-sent events, `event: change`,
// data: core/views ChangeEvent) is shared by every page; a page says which changes concern it and what
// to read again. EventSource reconnects by itself when the daemon restarts; on each reconnect every
// listener runs once, since changes made while the stream was down were not seen.
import { useEffect, useRef } from 'preact/hooks';
import type { ChangeEvent } from '../../src/core/views.ts';

type Listener = { matches: (c: ChangeEvent) => boolean; run: () => void };

const listeners = new Set<Listener>();
let source: EventSource | undefined;
let lost = false;

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
    lost = false;
    for (const l of listeners) l.run();
  });
  source.addEventListener('error', () => {
    lost = true;
  });
}

function disconnectIfUnused(): void {
  if (listeners.size > 0 || !source) return;
  source.close();
  source = undefined;
  lost = false;
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
