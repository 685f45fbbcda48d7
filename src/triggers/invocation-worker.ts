// triggers/invocation-worker: delivers the durable invocation queue (store: invocations) — async HTTP
// calls, cron fires, replayed dead letters — to their services through the gateway, at least once:
//   claim    a due row is marked running (attempts + 1) before its request is sent
//   deliver  2xx: succeeded, with the response kept (body up to INVOCATION_BODY_LIMIT)
//   retry    anything else, or no answer: queued again after an exponential back-off with jitter
//   give up  after delivery.maxAttempts attempts: failed, with the last error (a trigger's own
//            invocation is then dead-lettered by its owner through onSettled)
// A daemon killed mid-delivery leaves rows running; start() queues them again, so an accepted
// invocation is never lost (it may be delivered twice). Bounded: at most maxInFlight requests at once
// and perService per service, so a burst waits here rather than overflowing the gateway's queue.
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { INVOCATION_BODY_LIMIT, type InvocationRecord, type InvocationResponse, type InvocationView } from '../core/events.ts';
import type { CallbackPort, EventsRecords, Invoker } from './ports.ts';
import { delivered, retryDelayMs } from './retry.ts';

export type Settled = { outcome: 'succeeded'; response: InvocationResponse } | { outcome: 'retrying'; error: string; retryInMs: number } | { outcome: 'failed'; error: string } | { outcome: 'cancelled' };

export interface InvocationWorkerDeps {
  records: Pick<EventsRecords, 'dueInvocations' | 'nextDueAt' | 'updateInvocation' | 'requeueRunning' | 'getInvocation' | 'purgeFinished'>;
  invoker: Invoker;
  callbacks: CallbackPort;
  clock: Clock;
  log: Logger;
  random?: () => number;
  /** every attempt's end (triggers count them and dead-letter what failed for good) */
  onSettled?: (invocation: InvocationRecord, settled: Settled) => void | Promise<void>;
  maxInFlight?: number;
  perService?: number;
  /** the queue is read at least this often even when nothing woke it (default 5 s) */
  pollMs?: number;
  /** an ended invocation stays readable this long, then is deleted (default 7 days) */
  retentionMs?: number;
}

/** ended invocations are looked for this often */
const PURGE_EVERY_MS = 3600_000;

/** headers of the original request that are the gateway's or this worker's business, not the app's */
const DROPPED = new Set(['prefer', 'x-skiff-callback', 'host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'upgrade']);

export class InvocationWorker {
  private readonly inFlight = new Map<string, { service: string; abort: AbortController }>();
  private readonly perService = new Map<string, number>();
  private pumping = false;
  private pumpAgain = false;
  private cancelTimer: (() => void) | undefined;
  private stopPolling: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly d: InvocationWorkerDeps) {}

  async start(): Promise<void> {
    const requeued = await this.d.records.requeueRunning(this.d.clock.now());
    if (requeued) this.d.log.info({ requeued }, 'invocations interrupted by the last stop are queued again');
    const poll = this.d.clock.every(this.d.pollMs ?? 5000, () => this.wake());
    const purge = this.d.clock.every(PURGE_EVERY_MS, () => void this.purge());
    this.stopPolling = () => (poll(), purge());
    void this.purge();
    this.wake();
  }

  /** Stops taking work. Requests in flight are abandoned: their rows stay running and are queued
   *  again at the next start (at least once). */
  stop(): void {
    this.stopped = true;
    this.stopPolling?.();
    this.cancelTimer?.();
    for (const f of this.inFlight.values()) f.abort.abort();
  }

  /** Deletes ended invocations past their retention: the queue does not grow without bound. */
  private async purge(): Promise<void> {
    const before = this.d.clock.now() - (this.d.retentionMs ?? 7 * 86_400_000);
    const n = await this.d.records.purgeFinished(before).catch((err: unknown) => (this.d.log.warn({ err }, 'purging ended invocations failed'), 0));
    if (n) this.d.log.info({ purged: n }, 'ended invocations past their retention deleted');
  }

  /** Something was queued (or is due): read the queue now. */
  wake(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void this.pump()
      .catch((err: unknown) => this.d.log.error({ err }, 'reading the invocation queue failed'))
      .finally(() => {
        this.pumping = false;
        if (this.pumpAgain) {
          this.pumpAgain = false;
          this.wake();
        }
      });
  }

  /** Aborts the invocation if it is being delivered now (a cron trigger's replace policy). */
  cancel(id: string): boolean {
    const f = this.inFlight.get(id);
    if (!f) return false;
    f.abort.abort(new Error('cancelled'));
    return true;
  }

  private async pump(): Promise<void> {
    const max = this.d.maxInFlight ?? 64;
    const perService = this.d.perService ?? 32;
    const free = max - this.inFlight.size;
    if (free > 0) {
      // services at their bound are left out of the read: their backlog must not fill the page and
      // starve the other services' invocations (one busy service cannot take every slot)
      const busy = [...this.perService].filter(([, n]) => n >= perService).map(([s]) => s);
      const due = await this.d.records.dueInvocations(this.d.clock.now(), free * 2, busy);
      for (const inv of due) {
        if (this.stopped || this.inFlight.size >= max) break;
        if (this.inFlight.has(inv.id) || (this.perService.get(inv.service) ?? 0) >= perService) continue;
        this.begin(inv);
      }
    }
    this.cancelTimer?.();
    const next = await this.d.records.nextDueAt();
    if (next !== undefined && !this.stopped) this.cancelTimer = this.d.clock.after(Math.max(0, next - this.d.clock.now()), () => this.wake());
  }

  private begin(inv: InvocationRecord): void {
    const abort = new AbortController();
    this.inFlight.set(inv.id, { service: inv.service, abort });
    this.perService.set(inv.service, (this.perService.get(inv.service) ?? 0) + 1);
    void this.attempt(inv, abort.signal)
      .catch((err: unknown) => this.d.log.error({ err, invocation: inv.id }, 'an invocation attempt failed unexpectedly'))
      .finally(() => {
        this.inFlight.delete(inv.id);
        const n = (this.perService.get(inv.service) ?? 1) - 1;
        if (n > 0) this.perService.set(inv.service, n);
        else this.perService.delete(inv.service);
        this.wake();
      });
  }

  private async attempt(inv: InvocationRecord, signal: AbortSignal): Promise<void> {
    const attempts = inv.attempts + 1;
    await this.d.records.updateInvocation(inv.id, { status: 'running', attempts }, this.d.clock.now());
    let settled: Settled;
    let response: InvocationResponse | null = null;
    try {
      const r = await this.d.invoker.invoke({
        service: inv.service,
        method: inv.request.method,
        path: inv.request.path,
        headers: Object.fromEntries(Object.entries(inv.request.headers).filter(([k]) => !DROPPED.has(k))),
        body: Buffer.from(inv.request.body, 'base64'),
        signal,
      });
      response = { status: r.status, headers: r.headers, body: r.body.subarray(0, INVOCATION_BODY_LIMIT).toString('base64'), truncated: r.truncated || r.body.length > INVOCATION_BODY_LIMIT };
      settled = delivered(r.status) ? { outcome: 'succeeded', response } : this.failure(inv, attempts, `the service answered HTTP ${r.status}`);
    } catch (err) {
      if (signal.aborted && !this.stopped) settled = { outcome: 'cancelled' };
      else if (this.stopped) return; // abandoned at stop: the row stays running and is queued again at the next start
      else settled = this.failure(inv, attempts, `no answer: ${(err as Error).message}`);
    }
    const now = this.d.clock.now();
    if (settled.outcome === 'succeeded') await this.d.records.updateInvocation(inv.id, { status: 'succeeded', response, lastError: null }, now);
    else if (settled.outcome === 'retrying') await this.d.records.updateInvocation(inv.id, { status: 'queued', nextAttemptAt: now + settled.retryInMs, response, lastError: settled.error }, now);
    else if (settled.outcome === 'failed') await this.d.records.updateInvocation(inv.id, { status: 'failed', response, lastError: settled.error }, now);
    else await this.d.records.updateInvocation(inv.id, { status: 'cancelled', lastError: 'cancelled (replaced by a newer fire)' }, now);
    await this.d.onSettled?.({ ...inv, attempts }, settled);
    if (settled.outcome !== 'retrying' && inv.callback) await this.callback(inv.id, inv.callback);
  }

  private failure(inv: InvocationRecord, attempts: number, error: string): Settled {
    if (attempts >= inv.delivery.maxAttempts) return { outcome: 'failed', error: `${error} (attempt ${attempts} of ${inv.delivery.maxAttempts})` };
    return { outcome: 'retrying', error: `${error} (attempt ${attempts} of ${inv.delivery.maxAttempts})`, retryInMs: retryDelayMs(inv.delivery, attempts, (this.d.random ?? Math.random)()) };
  }

  private async callback(id: string, url: string): Promise<void> {
    const final = await this.d.records.getInvocation(id);
    if (!final) return;
    // one try: the result stays readable at its Location whatever happens to the callback
    await this.d.callbacks.post(url, invocationView(final)).catch((err: unknown) => this.d.log.warn({ err: (err as Error).message, invocation: id }, 'the invocation callback failed'));
  }
}

/** What GET /api/v1/invocations/ID and a callback show of an invocation. */
export function invocationView(i: InvocationRecord): InvocationView {
  return {
    id: i.id,
    service: i.service,
    ...(i.trigger ? { trigger: i.trigger } : {}),
    status: i.status,
    attempts: i.attempts,
    maxAttempts: i.delivery.maxAttempts,
    ...(i.status === 'queued' && i.attempts > 0 ? { nextAttemptAt: new Date(i.nextAttemptAt).toISOString() } : {}),
    ...(i.lastError ? { lastError: i.lastError } : {}),
    ...(i.response
      ? { response: { status: i.response.status, headers: i.response.headers, body: Buffer.from(i.response.body, 'base64').toString('utf8'), bodyBase64: i.response.body, truncated: i.response.truncated } }
      : {}),
    createdAt: new Date(i.createdAt).toISOString(),
    updatedAt: new Date(i.updatedAt).toISOString(),
  };
}
