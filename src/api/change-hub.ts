// api/change-hub: who is told that something the dashboard shows changed (GET /api/v1/stream). Two
// kinds of publisher feed it: every successful state-changing API request (stream-routes.ts derives
// the resource from the route) and the scheduler (instance phases, service events: daemon/ plugs it
// in). Each subscriber has a filter (the projects its token may see) and a send.
//
// Bursts are coalesced per resource: the first change of a resource goes out at once, the ones that
// follow within `coalesceMs` become one more change at the end of that window — a scale-up of ten
// instances is two reads for the dashboard, not forty. Time is the injected clock's.
//
// ChangeStreams (below) is the set of open streams: counted per token for the route's cap, ended
// together when the daemon stops so none holds up its shutdown.
import type { ServerResponse } from 'node:http';
import type { Clock } from '../core/clock.ts';
import type { ChangeEvent } from '../core/views.ts';

export interface ChangeSubscriber {
  /** whether this change is this subscriber's to see (its project, and a kind its role may list) */
  sees(change: ChangeEvent): boolean;
  send(change: ChangeEvent): void;
}

export class ChangeHub {
  private readonly subscribers = new Set<ChangeSubscriber>();
  /** resources changed within the window: whether another change came since the last one sent */
  private readonly windows = new Map<string, { change: ChangeEvent; again: boolean }>();

  constructor(
    private readonly clock: Pick<Clock, 'after'>,
    private readonly coalesceMs = 250,
  ) {}

  publish(change: ChangeEvent): void {
    if (this.subscribers.size === 0) return; // nobody listens: nothing to coalesce either
    const key = `${change.kind}\u0000${change.project}\u0000${change.name ?? ''}`;
    const open = this.windows.get(key);
    if (open) {
      open.again = true;
      return;
    }
    this.deliver(change);
    const window = { change, again: false };
    this.windows.set(key, window);
    const close = () => {
      if (!window.again) return void this.windows.delete(key);
      window.again = false;
      this.deliver(window.change);
      this.clock.after(this.coalesceMs, close);
    };
    this.clock.after(this.coalesceMs, close);
  }

  subscribe(s: ChangeSubscriber): () => void {
    this.subscribers.add(s);
    return () => void this.subscribers.delete(s);
  }

  get size(): number {
    return this.subscribers.size;
  }

  private deliver(change: ChangeEvent): void {
    for (const s of this.subscribers) {
      if (!s.sees(change)) continue;
      try {
        s.send(change);
      } catch {
        // a subscriber whose connection broke is removed by its own close handler
      }
    }
  }
}

export const STREAM_RETRY_MS = 2000;
export const STREAM_PING_MS = 15_000;
export const STREAMS_PER_TOKEN = 8;

/** The open streams of this daemon (stream-routes.ts opens them): counted per token, ended together at shutdown. */
export class ChangeStreams {
  private readonly open = new Map<ServerResponse, string>();
  private closed = false;

  constructor(
    readonly hub: ChangeHub,
    readonly clock: Pick<Clock, 'every'>,
    readonly maxPerToken = STREAMS_PER_TOKEN,
    readonly pingMs = STREAM_PING_MS,
  ) {}

  /** most a stream may have written and the client not yet read: past it the client is not reading
   *  and its stream is ended (EventSource reconnects), rather than buffered without bound */
  static readonly MAX_UNREAD_BYTES = 64 * 1024;

  /** ends every stream now and refuses new ones (the daemon is stopping) */
  close(): void {
    this.closed = true;
    for (const res of [...this.open.keys()]) res.end();
  }

  countOf(token: string): number {
    let n = 0;
    for (const t of this.open.values()) if (t === token) n++;
    return n;
  }

  /** @internal the route's bookkeeping */
  add(res: ServerResponse, token: string): boolean {
    if (this.closed) return false;
    this.open.set(res, token);
    return true;
  }

  /** @internal */
  remove(res: ServerResponse): void {
    this.open.delete(res);
  }

  get size(): number {
    return this.open.size;
  }
}
