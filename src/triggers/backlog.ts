// triggers/backlog: how many events wait for each service outside the gateway, measured every few
// seconds — the messages each broker trigger's broker holds for it (queue depth, stream lag, pending
// consumer messages) plus the invocations due in Skiff's queue (async calls, cron fires, NATS core and
// MQTT messages stored for delivery). The scheduler scales on it (KEDA-style: a service at min 0
// scales out on a queue's backlog and back to zero once it is empty), and `trigger ls|describe` show
// each broker's figure from here, so neither waits on a broker that is slow to answer.
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { withTimeout } from '../core/timeout.ts';

/** one broker trigger, as the monitor polls it */
export interface BacklogSource {
  trigger: string;
  service: string;
  /** messages waiting in the broker; undefined when it cannot tell (or is unreachable) */
  backlog(): Promise<number | undefined>;
}

export interface BacklogDeps {
  sources(): Iterable<BacklogSource>;
  /** due invocations per service (the store's queue) */
  dueByService(now: number): Promise<Map<string, number>>;
  clock: Clock;
  log: Logger;
  /** how often it polls; a broker's answer later than this counts as unknown for that round */
  everyMs?: number;
}

export const BACKLOG_POLL_MS = 2000;

export class BacklogMonitor {
  private perService: ReadonlyMap<string, number> = new Map();
  private perTrigger = new Map<string, number>();
  private polling: Promise<void> | undefined;
  private stopPolling: (() => void) | undefined;

  constructor(private readonly d: BacklogDeps) {}

  start(): void {
    this.stopPolling = this.d.clock.every(this.d.everyMs ?? BACKLOG_POLL_MS, () => void this.poll());
    void this.poll();
  }

  stop(): void {
    this.stopPolling?.();
  }

  /** events waiting per service, as last measured */
  backlog(): ReadonlyMap<string, number> {
    return this.perService;
  }

  /** messages waiting in a trigger's broker, as last measured; undefined when unknown */
  brokerBacklog(trigger: string): number | undefined {
    return this.perTrigger.get(trigger);
  }

  /** One measurement (rounds never overlap: a poll while one runs joins it). */
  poll(): Promise<void> {
    this.polling ??= this.measure().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async measure(): Promise<void> {
    const limit = this.d.everyMs ?? BACKLOG_POLL_MS;
    const sources = [...this.d.sources()];
    const [brokers, due] = await Promise.all([
      // a failure is unknown too
      Promise.all(sources.map((s) => withTimeout(s.backlog().catch(() => undefined), limit))),
      this.d.dueByService(this.d.clock.now()).catch((err: unknown) => {
        this.d.log.warn({ err }, 'reading the invocation backlog failed');
        return new Map<string, number>();
      }),
    ]);
    const perService = new Map(due);
    const perTrigger = new Map<string, number>();
    sources.forEach((s, i) => {
      const n = brokers[i];
      if (n === undefined) return;
      perTrigger.set(s.trigger, n);
      perService.set(s.service, (perService.get(s.service) ?? 0) + n);
    });
    this.perService = perService;
    this.perTrigger = perTrigger;
  }
}
