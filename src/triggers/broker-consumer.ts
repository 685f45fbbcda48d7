// triggers/broker-consumer: one broker trigger's consumer. It keeps a connection to the broker
// (reconnecting with back-off, its state visible in describe), takes at most as many messages as it has
// free delivery slots (the backpressure: the broker keeps the rest), and turns each into a binary
// CloudEvent sent to the service through the gateway.
//   direct (JetStream, RabbitMQ, Redis Streams): the message is acked once the service answered 2xx,
//          or once it was dead-lettered after its attempts; retries wait here with back-off and
//          jitter. A crash before the ack leaves the message with the broker: at least once.
//   queued (MQTT, NATS core): the message is written to Skiff's durable invocation queue, then acked;
//          the invocation worker delivers it with the same retries and dead letters. For NATS core,
//          which never redelivers, this is what makes a received message survive a crash; for MQTT
//          it lets many messages be delivered at once (mqtt.js acks one at a time).
import { setMaxListeners } from 'node:events';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { BrokerSource as BrokerSourceSpec, InvocationRequest, ServiceTarget, TriggerRecord } from '../core/events.ts';
import type { Invoker } from './ports.ts';
import type { BrokerMessage, BrokerSource } from './brokers/source.ts';
import { binaryEvent } from './cloudevent.ts';
import { delivered, retryDelayMs } from './retry.ts';

export interface ConsumerState {
  status: 'connecting' | 'running' | 'reconnecting' | 'stopped';
  /** why it is reconnecting */
  error?: string;
  /** clock ms of the last change */
  since: number;
  /** connections lost since the consumer started (this daemon's life) */
  disconnects: number;
}

export interface BrokerConsumerDeps {
  /** a broker trigger always feeds a service (a job target is a cron trigger's only) */
  trigger: TriggerRecord & { source: BrokerSourceSpec; target: ServiceTarget };
  source: BrokerSource;
  mode: 'direct' | 'queued';
  invoker: Invoker;
  /** queued mode: stores the event as an invocation of the trigger (idempotency key `msg:<id>`) */
  enqueue(request: InvocationRequest, eventId: string): Promise<void>;
  /** each attempt's outcome, for the trigger's counters */
  settled(outcome: 'succeeded' | 'retrying' | 'failed', error?: string): void;
  /** a broker error (connection lost, refused): shown in the trigger's last errors */
  failed(error: string): void;
  deadLetter(request: InvocationRequest, attempts: number, error: string): Promise<void>;
  clock: Clock;
  log: Logger;
  random?: () => number;
  /** deliveries in flight at most (the service's concurrency × max scale, bounded) */
  inFlight: number;
}

/** reconnect back-off: 1 s doubling to 30 s */
const RECONNECT_MS = [1000, 2000, 4000, 8000, 16_000, 30_000];
/** how often a message under retry is reported as still being worked on (JetStream ack_wait) */
const EXTEND_MS = 10_000;

export class BrokerConsumer {
  private state: ConsumerState;
  private readonly abort = new AbortController();
  private readonly running = new Set<Promise<void>>();
  private slotFreed: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly d: BrokerConsumerDeps) {
    this.state = { status: 'connecting', since: d.clock.now(), disconnects: 0 };
    // every delivery in flight listens for the stop: as many listeners as slots
    setMaxListeners(0, this.abort.signal);
  }

  get current(): ConsumerState {
    return this.state;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.slotFreed?.();
    await this.loop?.catch(() => undefined);
    await Promise.allSettled([...this.running]);
    await this.d.source.close().catch(() => undefined);
    this.set({ status: 'stopped' });
  }

  /** the service it delivers to */
  get service(): string {
    return this.d.trigger.target.service;
  }

  backlog(): Promise<number | undefined> {
    return this.d.source.backlog().catch(() => undefined);
  }

  private set(s: Omit<ConsumerState, 'since' | 'disconnects'>, lost = false): void {
    this.state = { ...s, since: this.d.clock.now(), disconnects: this.state.disconnects + (lost ? 1 : 0) };
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    for (let failures = 0; !signal.aborted; ) {
      try {
        if (failures > 0) await this.d.source.close().catch(() => undefined);
        await this.d.source.open();
        this.set({ status: 'running' });
        failures = 0;
        while (!signal.aborted) {
          const free = this.d.inFlight - this.running.size;
          if (free <= 0) {
            await new Promise<void>((r) => (this.slotFreed = r));
            continue;
          }
          for (const m of await this.d.source.take(free, signal)) this.track(this.handle(m));
        }
      } catch (err) {
        if (signal.aborted) break;
        const wait = RECONNECT_MS[Math.min(failures, RECONNECT_MS.length - 1)]!;
        failures++;
        const message = (err as Error).message;
        this.set({ status: 'reconnecting', error: message }, true);
        this.d.log.warn({ trigger: this.d.trigger.name, err: message, retryInMs: wait }, 'broker connection lost; reconnecting');
        this.d.failed(`broker: ${message} (reconnecting in ${wait / 1000}s)`);
        await this.sleep(wait);
      }
    }
  }

  private track(p: Promise<void>): void {
    this.running.add(p);
    void p.finally(() => {
      this.running.delete(p);
      this.slotFreed?.();
      this.slotFreed = undefined;
    });
  }

  private request(m: BrokerMessage): InvocationRequest {
    const t = this.d.trigger;
    const src = t.source;
    const event = binaryEvent(
      { id: m.id, source: `/skiff/triggers/${t.name}`, type: `dev.skiff.${src.kind}.message`, subject: m.subject, time: new Date(this.d.clock.now()).toISOString(), ...(m.contentType ? { contentType: m.contentType } : {}) },
      m.data,
    );
    return { method: t.target.method, path: t.target.path, headers: event.headers, body: event.body.toString('base64') };
  }

  /** the tail of each ordering key's chain of deliveries (orderedBy) */
  private readonly chains = new Map<string, Promise<void>>();

  private async handle(m: BrokerMessage): Promise<void> {
    const key = orderingKey(this.d.trigger.delivery.orderedBy, m);
    if (key === undefined) return this.handleNow(m);
    // one after the other per key, in the order the broker handed them over; other keys go on meanwhile
    const previous = this.chains.get(key) ?? Promise.resolve();
    const mine = previous.then(() => this.handleNow(m));
    this.chains.set(key, mine);
    await mine;
    if (this.chains.get(key) === mine) this.chains.delete(key);
  }

  private async handleNow(m: BrokerMessage): Promise<void> {
    const req = this.request(m);
    try {
      if (this.d.mode === 'queued') {
        await this.d.enqueue(req, m.id);
        await m.ack();
        return;
      }
      await this.deliver(m, req);
    } catch (err) {
      // the broker keeps what was not acked and delivers it again
      this.d.log.warn({ trigger: this.d.trigger.name, message: m.id, err: (err as Error).message }, 'a message was left unacked');
    }
  }

  private async deliver(m: BrokerMessage, req: InvocationRequest): Promise<void> {
    const { delivery } = this.d.trigger;
    const signal = this.abort.signal;
    let error = '';
    for (let attempt = 1; attempt <= delivery.maxAttempts; attempt++) {
      let status: number | undefined;
      try {
        status = (await this.d.invoker.invoke({ service: this.d.trigger.target.service, method: req.method, path: req.path, headers: req.headers, body: Buffer.from(req.body, 'base64'), signal })).status;
      } catch (err) {
        if (signal.aborted) return; // stopping: unacked, the broker delivers it again
        error = `no answer: ${(err as Error).message}`;
      }
      if (status !== undefined && delivered(status)) {
        // an ack that fails (the connection went) leaves the message to the broker: handle() logs it
        this.d.settled('succeeded');
        await m.ack();
        return;
      }
      if (status !== undefined) error = `the service answered HTTP ${status}`;
      error = `${error} (attempt ${attempt} of ${delivery.maxAttempts})`;
      if (attempt === delivery.maxAttempts) break;
      this.d.settled('retrying', error);
      await this.sleep(retryDelayMs(delivery, attempt, (this.d.random ?? Math.random)()), () => m.extend());
      if (signal.aborted) return;
    }
    if (delivery.deadLetter === 'broker' && m.reject) {
      await m.reject(error);
    } else {
      await this.d.deadLetter(req, delivery.maxAttempts, error);
      await m.ack();
    }
    this.d.settled('failed', error);
  }

  /** Waits `ms` of clock time (less if stopped), calling `tick` every EXTEND_MS meanwhile. */
  private async sleep(ms: number, tick?: () => void): Promise<void> {
    const signal = this.abort.signal;
    for (let left = ms; left > 0 && !signal.aborted; left -= EXTEND_MS) {
      tick?.();
      await new Promise<void>((resolve) => {
        const stop = () => (cancel(), resolve());
        const cancel = this.d.clock.after(Math.min(left, EXTEND_MS), () => (signal.removeEventListener('abort', stop), resolve()));
        signal.addEventListener('abort', stop, { once: true });
      });
    }
  }
}

/** The message's ordering key under `orderedBy` (subject | header:NAME | json:$.a.b); undefined: none
 *  (no ordering asked, or the message has no such header or field: delivered without waiting). */
export function orderingKey(orderedBy: string | undefined, m: Pick<BrokerMessage, 'subject' | 'headers' | 'data'>): string | undefined {
  if (orderedBy === undefined) return undefined;
  if (orderedBy === 'subject') return m.subject;
  if (orderedBy.startsWith('header:')) return m.headers?.[orderedBy.slice(7).toLowerCase()];
  let value: unknown;
  try {
    value = JSON.parse(m.data.toString('utf8'));
  } catch {
    return undefined;
  }
  for (const part of orderedBy.slice('json:$.'.length).split('.')) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  return value === undefined || value === null ? undefined : JSON.stringify(value);
}
