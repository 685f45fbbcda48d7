// triggers/brokers/nats: NATS with the official client (nats.js v2). Core subjects (with an optional
// queue group) are push, at most once in NATS itself: what arrives while no Skiff is subscribed is
// gone, and the inbox is unbounded as NATS has no flow control (a slow consumer is cut off by the
// server: reconnected with back-off). With `stream` + `consumer`, a JetStream durable pull consumer:
// messages are pulled at most `max` at a time, acked only when delivered or dead-lettered, and a crash
// leaves them to JetStream's redelivery (at least once). The client reconnects by itself, forever.
import { connect, type ConsumerMessages, type NatsConnection, type Subscription, type JsMsg, type Consumer, type Msg } from 'nats';
import { SkiffError } from '../../core/errors.ts';
import type { NatsSource } from '../../core/events.ts';
import { Inbox, redactUrl, type BrokerMessage, type BrokerSource } from './source.ts';

export function natsSource(s: NatsSource, name: string): BrokerSource {
  const jetstream = s.stream !== undefined;
  let nc: NatsConnection | undefined;
  let sub: Subscription | undefined;
  let consumer: Consumer | undefined;
  let messages: ConsumerMessages | undefined;
  let inbox = new Inbox();
  let closed = false;
  /** how many messages the consumer can take now (JetStream pulls no more) */
  let demand = 0;
  let wakePump: (() => void) | undefined;
  const where = `${redactUrl(s.url)} ${jetstream ? `stream ${s.stream} consumer ${s.consumer}` : `subject ${s.subject}${s.queueGroup ? ` queue group ${s.queueGroup}` : ''}`}`;

  const fromCore = (m: Msg): BrokerMessage => ({
    id: `${name}-${m.sid}-${Date.now()}-${Math.random().toString(16).slice(2, 10)}`,
    subject: m.subject,
    data: Buffer.from(m.data),
    ...(m.headers?.get('content-type') ? { contentType: m.headers.get('content-type') } : {}),
    ack: async () => {},
    extend: () => {},
  });
  const fromJs = (m: JsMsg): BrokerMessage => ({
    id: `${s.stream}-${m.seq}`,
    subject: m.subject,
    data: Buffer.from(m.data),
    ...(m.headers?.get('content-type') ? { contentType: m.headers.get('content-type') } : {}),
    deliveries: m.info.redeliveryCount,
    ...(m.headers ? { headers: Object.fromEntries([...m.headers.keys()].map((k) => [k.toLowerCase(), m.headers!.get(k)])) } : {}),
    ack: async () => void (await m.ackAck()),
    // plain +TERM: servers before 2.10 do not know `+TERM reason` and leave the message unacked; the
    // advisory names the stream sequence, and the trigger's last errors say why
    reject: async () => m.term(),
    extend: () => m.working(),
  });

  return {
    describe: `nats ${where}`,
    async open() {
      const u = new URL(s.url);
      try {
        nc = await connect({
          servers: `${u.hostname}:${u.port || 4222}`,
          ...(u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : {}),
          name: `skiff-trigger-${name}`,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 1000,
          timeout: 5000,
        });
      } catch (err) {
        throw new SkiffError('BAD_REQUEST', `nats: cannot connect to ${redactUrl(s.url)}: ${(err as Error).message}`);
      }
      inbox = new Inbox();
      const box = inbox;
      // A lost connection is the consumer's to handle (close, reopen with back-off, shown in describe):
      // the client would reconnect by itself, but silently, and a core subscription misses what is
      // published until it is back.
      void (async () => {
        for await (const st of nc!.status()) if (st.type === 'disconnect') box.fail(new Error(`disconnected from ${redactUrl(s.url)}`));
      })().catch(() => undefined);
      if (!jetstream) {
        sub = nc.subscribe(s.subject!, s.queueGroup ? { queue: s.queueGroup } : {});
        void (async () => {
          for await (const m of sub!) inbox.push(fromCore(m));
        })().catch((err: unknown) => inbox.fail(err as Error));
        return;
      }
      try {
        consumer = await nc.jetstream().consumers.get(s.stream!, s.consumer!);
        await consumer.info();
      } catch (err) {
        await nc.close();
        throw new SkiffError('BAD_REQUEST', `nats: stream ${s.stream} consumer ${s.consumer} on ${redactUrl(s.url)}: ${(err as Error).message} (create them first: nats stream add / nats consumer add, durable, explicit ack)`);
      }
      closed = false;
      // Pulls only what the consumer asked for (demand): JetStream holds the rest, so Skiff never
      // holds more than it can deliver. Each message is handed on as it arrives, not at the batch's end.
      void (async () => {
        while (!closed) {
          const want = demand - inbox.size;
          if (want <= 0) {
            await new Promise<void>((r) => (wakePump = r));
            continue;
          }
          messages = await consumer!.fetch({ max_messages: want, expires: 5000 });
          for await (const m of messages) inbox.push(fromJs(m));
        }
      })().catch((err: unknown) => inbox.fail(err as Error));
    },
    async take(max, signal) {
      if (jetstream) {
        demand = max;
        wakePump?.();
        wakePump = undefined;
      }
      const got = await inbox.take(max, signal);
      demand = 0; // until the next take says how many it can deliver
      return got;
    },
    async backlog() {
      if (!jetstream) return inbox.size;
      try {
        // fresh, not the cached copy from the consumer's creation: this is the live backlog
        const info = await consumer!.info(false);
        return info.num_pending + info.num_ack_pending;
      } catch {
        return undefined;
      }
    },
    async close() {
      closed = true;
      wakePump?.();
      messages?.stop();
      sub?.unsubscribe();
      await nc?.close().catch(() => undefined);
      nc = undefined;
    },
  };
}
