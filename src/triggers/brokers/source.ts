// triggers/brokers/source: what the broker consumer (../broker-consumer.ts) needs of a broker. Each
// adapter (nats.ts, amqp.ts, redis.ts, mqtt.ts) turns its client library's delivery model into one:
// take up to N messages (never more than asked: that is the backpressure), then settle each one —
// ack once the service answered 2xx or the message was dead-lettered, so a crash before that leaves it
// with the broker, which delivers it again (at least once).

export interface BrokerMessage {
  /** stable across redeliveries where the broker has such an id (JetStream stream sequence, Redis
   *  entry id, AMQP message-id): the CloudEvent's ce-id */
  id: string;
  /** where it was published: subject, queue, stream or topic (the CloudEvent's ce-subject) */
  subject: string;
  data: Buffer;
  contentType?: string;
  /** the message's own headers (NATS, AMQP) or fields (Redis), lower-case names: ordering keys */
  headers?: Record<string, string>;
  /** how many times the broker delivered it (1 the first time), where it counts */
  deliveries?: number;
  /** the broker may forget it */
  ack(): Promise<void>;
  /** Gives the message up at the broker, which dead-letters it its own way (`deadLetter: broker`):
   *  RabbitMQ nacks it without requeue (to the queue's dead-letter exchange), JetStream terminates it
   *  (a MSG_TERMINATED advisory names it). Absent where the broker has no such thing. */
  reject?(reason: string): Promise<void>;
  /** the message stays ours a while longer (JetStream: working, so ack_wait does not expire while
   *  Skiff retries it); no-op where the broker has no such timer */
  extend(): void;
}

export interface BrokerSource {
  /** e.g. `nats://host:4222 subject orders.>` (never a password) */
  readonly describe: string;
  /** Connects and checks the subscription exists (queue, stream, consumer group…): a clear error when
   *  the broker is unreachable, refuses the credentials, or has no such thing. */
  open(): Promise<void>;
  /** Up to `max` (≥ 1) messages as soon as at least one is there; [] when `signal` aborts. Rejects when
   *  the connection is lost (the consumer reconnects with back-off). */
  take(max: number, signal: AbortSignal): Promise<BrokerMessage[]>;
  /** messages the broker holds for this subscription — waiting, or delivered and not yet acked — where
   *  the broker can tell: the trigger's backlog (an autoscaler input, like KEDA's queue length) */
  backlog(): Promise<number | undefined>;
  close(): Promise<void>;
}

/** `scheme://user:***@host…`: a URL as shown in describe, errors and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(an unparsable URL)';
  }
}

/** A FIFO of pushed messages that `take` drains; for brokers that push (AMQP, MQTT, NATS core). */
export class Inbox {
  private readonly items: BrokerMessage[] = [];
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;

  push(m: BrokerMessage): void {
    this.items.push(m);
    this.waiter?.();
  }

  /** the connection is gone: the next take rejects with `err` */
  fail(err: Error): void {
    this.failure = err;
    this.waiter?.();
  }

  get size(): number {
    return this.items.length;
  }

  async take(max: number, signal: AbortSignal): Promise<BrokerMessage[]> {
    while (this.items.length === 0 && !this.failure && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.waiter = undefined;
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.waiter = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
    if (this.items.length === 0 && this.failure) throw this.failure;
    return this.items.splice(0, max);
  }
}
