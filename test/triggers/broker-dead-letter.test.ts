// `deadLetter: broker` against the real brokers: a message that fails all its attempts is handed back
// to the broker's own dead-lettering instead of Skiff's store — RabbitMQ routes it to the queue's
// dead-letter exchange (x-death says why), JetStream terminates it and publishes a MSG_TERMINATED
// advisory — while the other messages flow and are acked. The service here is a stub invoker (the
// broker side is what is tested; the gateway path is test/events/brokers.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { AckPolicy, StorageType, StringCodec, connect as natsConnect } from 'nats';
import { requireBroker, startNats, startRabbitMQ } from '../helpers/brokers.ts';
import { systemClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { BrokerConsumer } from '../../src/triggers/broker-consumer.ts';
import { brokerSource } from '../../src/triggers/brokers/index.ts';
import { normaliseTrigger } from '../../src/triggers/spec.ts';
import type { BrokerSource as Spec, ServiceTarget, TriggerDocument, TriggerRecord } from '../../src/core/events.ts';
import { SkiffError } from '../../src/core/errors.ts';

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** a consumer of `doc` whose service answers 500 to the body `poison` and 200 to the rest */
function consume(doc: TriggerDocument) {
  const trigger = normaliseTrigger(doc, 'default', Date.now()) as TriggerRecord & { source: Spec; target: ServiceTarget };
  const { source, mode } = brokerSource(trigger.source, trigger.name, 8);
  const ok: string[] = [];
  const settled: string[] = [];
  const skiffLetters: string[] = [];
  const c = new BrokerConsumer({
    trigger, source, mode,
    invoker: { invoke: async (req) => { const body = req.body.toString(); if (body !== 'poison') ok.push(body); return { status: body === 'poison' ? 500 : 200, headers: {}, body: Buffer.alloc(0), truncated: false }; } },
    enqueue: async () => {}, settled: (s) => void settled.push(s), failed: () => {},
    deadLetter: async (req) => void skiffLetters.push(Buffer.from(req.body, 'base64').toString()),
    clock: systemClock, log: silentLogger, inFlight: 8, random: () => 0.5,
  });
  c.start();
  return { c, ok, settled, skiffLetters };
}

const DELIVERY = { maxAttempts: 2, backoff: '10ms', deadLetter: 'broker' as const };

test('deadLetter: broker — RabbitMQ rejects a poison message to the queue\'s dead-letter exchange', { skip: requireBroker('rabbitmq'), timeout: 120_000 }, async (t) => {
  const broker = await startRabbitMQ({ t });
  const conn = await amqp.connect(broker.url);
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue('orders.dead', { durable: true });
  await ch.assertQueue('orders', { durable: true, deadLetterExchange: '', deadLetterRoutingKey: 'orders.dead' });
  for (const b of ['a', 'poison', 'b']) ch.sendToQueue('orders', Buffer.from(b), { persistent: true });
  await ch.waitForConfirms();

  const { c, ok, settled, skiffLetters } = consume({ name: 'orders', service: 'svc', amqp: broker.url, queue: 'orders', ...DELIVERY });
  // closed before the broker stops (its own after-hook): a client of a stopped broker waits for it
  try {
    await until('the poison message given up', () => settled.includes('failed') && ok.length === 2);
    const got: amqp.GetMessage[] = [];
    await until('the poison message in the dead-letter queue', async () => {
      const m = await ch.get('orders.dead', { noAck: true });
      if (m) got.push(m);
      return got.length > 0;
    });
    const dead = got[0]!;
    assert.equal(dead.content.toString(), 'poison');
    const death = (dead.properties.headers?.['x-death'] as Array<{ reason: string; queue: string }>)[0]!;
    assert.deepEqual([death.reason, death.queue], ['rejected', 'orders']);
    assert.deepEqual(skiffLetters, [], "not in Skiff's store");
    await until('nothing left in the queue', async () => (await ch.checkQueue('orders')).messageCount === 0 && (await c.backlog()) === 0);
  } finally {
    await c.stop();
    await conn.close();
  }
});

test('deadLetter: broker — JetStream terminates a poison message (MSG_TERMINATED advisory)', { skip: requireBroker('nats'), timeout: 60_000 }, async (t) => {
  const broker = await startNats({ jetstream: true, t });
  const nc = await natsConnect({ servers: broker.url.replace('nats://', '') });
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'], storage: StorageType.File });
  await jsm.consumers.add('ORDERS', { durable_name: 'skiff', ack_policy: AckPolicy.Explicit });
  const advisories: Array<{ stream_seq: number }> = [];
  nc.subscribe('$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.ORDERS.skiff', { callback: (_e, m) => void advisories.push(JSON.parse(StringCodec().decode(m.data))) });
  const js = nc.jetstream();
  const seqs = new Map<string, number>();
  for (const b of ['a', 'poison', 'b']) seqs.set(b, (await js.publish('orders.new', StringCodec().encode(b))).seq);

  const { c, ok, skiffLetters } = consume({ name: 'orders', service: 'svc', nats: broker.url, stream: 'ORDERS', consumer: 'skiff', ...DELIVERY });
  try {
    await until('the advisory', () => advisories.length === 1 && ok.length === 2);
    assert.equal(advisories[0]!.stream_seq, seqs.get('poison'));
    assert.deepEqual(skiffLetters, []);
    await until('nothing pending', async () => (await c.backlog()) === 0);
  } finally {
    await c.stop();
    await nc.close();
  }
});

test('deadLetter: broker is refused where the broker has no dead-lettering of its own', () => {
  for (const doc of [
    { redis: 'redis://127.0.0.1:1', stream: 's', group: 'g' },
    { mqtt: 'mqtt://127.0.0.1:1', topic: 't' },
    { nats: 'nats://127.0.0.1:1', subject: 's' },
    { cron: '* * * * *' },
  ]) {
    assert.throws(() => normaliseTrigger({ name: 'x', service: 'svc', deadLetter: 'broker', ...doc }, 'default', 0), (e: unknown) => e instanceof SkiffError && e.code === 'BAD_REQUEST' && /^deadLetter: broker is for RabbitMQ/.test(e.message));
  }
});
