// triggers/brokers/amqp: RabbitMQ (AMQP 0-9-1) with amqplib. The queue must exist (checked at open: a
// clear error rather than a silent stall); it is consumed with manual acks and `prefetch` unacked at
// most, which is the backpressure: the broker pushes no more until Skiff acks. A connection lost leaves
// every unacked message with the broker, which delivers it again (at least once); amqplib does not
// reconnect, the consumer does (close + open with back-off).
import amqp from 'amqplib';
import { SkiffError } from '../../core/errors.ts';
import type { AmqpSource } from '../../core/events.ts';
import { Inbox, redactUrl, type BrokerSource } from './source.ts';

type Connection = Awaited<ReturnType<typeof amqp.connect>>;
type Channel = Awaited<ReturnType<Connection['createChannel']>>;

export function amqpSource(s: AmqpSource, name: string, prefetchDefault: number): BrokerSource {
  let conn: Connection | undefined;
  let ch: Channel | undefined;
  let inbox = new Inbox();
  /** delivered to Skiff and not acked yet: the broker's queue count leaves them out */
  let unacked = 0;
  const prefetch = s.prefetch ?? prefetchDefault;
  return {
    describe: `amqp ${redactUrl(s.url)} queue ${s.queue}`,
    async open() {
      try {
        conn = await amqp.connect(s.url, { timeout: 5000, clientProperties: { connection_name: `skiff-trigger-${name}` } });
      } catch (err) {
        throw new SkiffError('BAD_REQUEST', `amqp: cannot connect to ${redactUrl(s.url)}: ${(err as Error).message}`);
      }
      inbox = new Inbox();
      unacked = 0;
      const lost = (why: string) => inbox.fail(new Error(why));
      conn.on('error', (err: Error) => lost(`connection error: ${err.message}`));
      conn.on('close', () => lost('the connection closed'));
      try {
        // checkQueue closes the channel when the queue is missing: a fresh channel consumes
        const probe = await conn.createChannel();
        await probe.checkQueue(s.queue);
        await probe.close();
      } catch (err) {
        await conn.close().catch(() => undefined);
        throw new SkiffError('BAD_REQUEST', `amqp: queue ${s.queue} on ${redactUrl(s.url)}: ${(err as Error).message}`);
      }
      ch = await conn.createChannel();
      ch.on('error', (err: Error) => lost(`channel error: ${err.message}`));
      await ch.prefetch(prefetch);
      const channel = ch;
      await channel.consume(
        s.queue,
        (m) => {
          if (!m) return lost('the broker cancelled the consumer (queue deleted?)');
          unacked++;
          inbox.push({
            id: typeof m.properties.messageId === 'string' && m.properties.messageId ? m.properties.messageId : `${s.queue}-${m.fields.deliveryTag}-${Date.now()}`,
            subject: s.queue,
            data: m.content,
            ...(m.properties.contentType ? { contentType: String(m.properties.contentType) } : {}),
            ...(m.fields.redelivered ? { deliveries: 2 } : { deliveries: 1 }),
            ...(m.properties.headers ? { headers: Object.fromEntries(Object.entries(m.properties.headers as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), String(v)])) } : {}),
            ack: async () => {
              channel.ack(m);
              unacked = Math.max(0, unacked - 1);
            },
            reject: async () => {
              channel.nack(m, false, false);
              unacked = Math.max(0, unacked - 1);
            },
            extend: () => {},
          });
        },
        { noAck: false, consumerTag: `skiff-trigger-${name}-${process.pid}` },
      );
    },
    take: (max, signal) => inbox.take(max, signal),
    async backlog() {
      try {
        return (await ch!.checkQueue(s.queue)).messageCount + unacked;
      } catch {
        return undefined;
      }
    },
    async close() {
      await conn?.close().catch(() => undefined);
      conn = undefined;
      ch = undefined;
    },
  };
}
