// The brokers the event triggers will consume from, each a private instance (test/helpers/brokers.ts)
// driven by the client library the triggers will use: NATS core and JetStream (`nats`), RabbitMQ
// (`amqplib`), Redis Streams (`redis`), MQTT 3.1.1 and 5 on mosquitto (`mqtt`). For each, the features a
// trigger relies on, and a broker restart mid-stream that loses no durable message while the client
// reconnects. Under CI=true a missing broker fails the file (requireBroker) instead of skipping.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import amqp, { type ConsumeMessage, type GetMessage } from 'amqplib';
import mqtt, { type IClientOptions, type IConnackPacket, type IPublishPacket, type MqttClient } from 'mqtt';
import { AckPolicy, Events, StorageType, connect as natsConnect, nanos, type JsMsg, type NatsConnection } from 'nats';
import { createClient } from 'redis';
import { requireBroker, startMosquitto, startNats, startRabbitMQ, startRedis, type Broker, type RabbitMQBroker } from '../helpers/brokers.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** polls `cond` every 10 ms; fails naming `what` after `timeoutMs` */
async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

// ---------------------------------------------------------------------------------------------------

describe('NATS', { skip: requireBroker('nats') }, () => {
  let broker: Broker;
  before(async () => {
    broker = await startNats({ jetstream: true });
  });
  after(() => broker?.stop());

  const connect = async (t: { after(fn: () => unknown): unknown }, extra = {}): Promise<NatsConnection> => {
    const nc = await natsConnect({ servers: broker.url, ...extra });
    t.after(() => nc.close());
    return nc;
  };

  test('core: a subscription on orders.> sees every order subject; a queue group splits them between two workers', async (t) => {
    const nc = await connect(t);
    const [workerA, workerB] = [await connect(t), await connect(t)];
    const seen: string[] = [];
    nc.subscribe('orders.>', { callback: (err, m) => !err && seen.push(m.subject) });
    const shares: Record<'a' | 'b', string[]> = { a: [], b: [] };
    workerA.subscribe('orders.>', { queue: 'triggers', callback: (err, m) => !err && shares.a.push(m.string()) });
    workerB.subscribe('orders.>', { queue: 'triggers', callback: (err, m) => !err && shares.b.push(m.string()) });
    // the server has every SUB once each connection's PING is answered
    await Promise.all([nc.flush(), workerA.flush(), workerB.flush()]);

    const subjects = ['orders.eu.created', 'orders.us.paid.v2', ...Array.from({ length: 30 }, (_, i) => `orders.n.${i}`)];
    for (const s of subjects) nc.publish(s, s);
    // `>` needs at least one more token, and order.x is another subject
    nc.publish('orders', 'not matched');
    nc.publish('order.x', 'not matched');
    await nc.flush();

    await waitFor(() => seen.length >= subjects.length && shares.a.length + shares.b.length >= subjects.length, 'every order');
    await sleep(50);
    assert.deepEqual(seen, subjects, 'the plain subscriber sees each matching subject once, in order, and nothing else');
    assert.deepEqual([...shares.a, ...shares.b].sort(), [...subjects].sort(), 'each message went to exactly one queue member');
    assert.ok(shares.a.length > 0 && shares.b.length > 0, `both workers got a share (a ${shares.a.length}, b ${shares.b.length})`);
  });

  test('JetStream: a durable pull consumer fetches and acks; a message not acked is redelivered after ack_wait', async (t) => {
    const nc = await connect(t);
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'], storage: StorageType.File });
    await jsm.consumers.add('ORDERS', { durable_name: 'trigger', ack_policy: AckPolicy.Explicit, ack_wait: nanos(500) });
    const js = nc.jetstream();
    const seqs: number[] = [];
    for (let i = 1; i <= 3; i++) {
      const ack = await js.publish(`orders.eu.${i}`, `order ${i}`);
      assert.equal(ack.stream, 'ORDERS');
      seqs.push(ack.seq);
    }

    const consumer = await js.consumers.get('ORDERS', 'trigger');
    // the server delivers after this, so its ack_wait runs out no sooner than 500 ms from here
    const fetched = Date.now();
    const batch: JsMsg[] = [];
    for await (const m of await consumer.fetch({ max_messages: 3, expires: 2000 })) batch.push(m);
    assert.deepEqual(
      batch.map((m) => [m.seq, m.subject, m.string(), m.redelivered]),
      seqs.map((s, i) => [s, `orders.eu.${i + 1}`, `order ${i + 1}`, false]),
    );
    // acked and confirmed by the server (ackAck), except the second
    await batch[0]!.ackAck();
    await batch[2]!.ackAck();

    const again = await consumer.next({ expires: 5000 });
    assert.ok(again, 'the unacked message comes back');
    assert.equal(again.seq, seqs[1]);
    assert.equal(again.string(), 'order 2');
    assert.equal(again.redelivered, true);
    assert.equal(again.info.redeliveryCount, 2);
    const waited = Date.now() - fetched;
    assert.ok(waited >= 490, `redelivered once ack_wait ran out, not at once (${waited} ms after the fetch)`);
    await again.ackAck();

    const info = await consumer.info();
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.num_pending, 0);
    assert.equal(info.ack_floor.stream_seq, seqs[2]);
  });

  test('restart mid-stream: the stream, the durable consumer and its acks survive; the client reconnects by itself', async (t) => {
    const nc = await connect(t, { reconnectTimeWait: 50, maxReconnectAttempts: -1 });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'EVENTS', subjects: ['events.>'], storage: StorageType.File });
    await jsm.consumers.add('EVENTS', { durable_name: 'restart', ack_policy: AckPolicy.Explicit, ack_wait: nanos(1000) });
    const js = nc.jetstream();
    for (let i = 1; i <= 4; i++) await js.publish(`events.${i}`, `event ${i}`);
    const consumer = await js.consumers.get('EVENTS', 'restart');
    for await (const m of await consumer.fetch({ max_messages: 2, expires: 2000 })) await m.ackAck();
    // delivered, never acked: in flight when the broker goes
    const inFlight = await consumer.next({ expires: 2000 });
    assert.equal(inFlight?.string(), 'event 3');

    const reconnected = (async () => {
      for await (const s of nc.status()) if (s.type === Events.Reconnect) return;
    })();
    const oldPid = broker.pid;
    await broker.restart();
    assert.notEqual(broker.pid, oldPid);
    await reconnected;

    await js.publish('events.5', 'event 5');
    const after: JsMsg[] = [];
    while (after.length < 3) {
      const m = await consumer.next({ expires: 5000 });
      assert.ok(m, `message ${after.length + 1} after the restart`);
      after.push(m);
      await m.ackAck();
    }
    // event 3 comes back once its ack_wait runs out, so possibly after the newer ones
    assert.deepEqual(
      after.sort((a, b) => a.seq - b.seq).map((m) => [m.string(), m.redelivered]),
      [
        ['event 3', true],
        ['event 4', false],
        ['event 5', false],
      ],
    );
    const stream = await jsm.streams.info('EVENTS');
    assert.equal(stream.state.messages, 5);
    assert.equal((await consumer.info()).num_ack_pending, 0);
  });
});

// ---------------------------------------------------------------------------------------------------

describe('RabbitMQ', { skip: requireBroker('rabbitmq') }, () => {
  let broker: RabbitMQBroker;
  before(
    async () => {
      broker = await startRabbitMQ();
    },
    { timeout: 120_000 },
  );
  after(() => broker?.stop());

  test('a durable queue: prefetch bounds the unacked deliveries, ack, nack requeues (redelivered)', { timeout: 30_000 }, async (t) => {
    const conn = await amqp.connect(broker.url);
    conn.on('error', () => {});
    t.after(() => conn.close().catch(() => {}));
    const pub = await conn.createConfirmChannel();
    const q = await pub.assertQueue('orders', { durable: true });
    assert.equal(q.messageCount, 0);
    for (let i = 1; i <= 5; i++) pub.sendToQueue('orders', Buffer.from(`order ${i}`), { persistent: true, contentType: 'text/plain' });
    await pub.waitForConfirms();

    const ch = await conn.createChannel();
    await ch.prefetch(2);
    const deliveries: ConsumeMessage[] = [];
    const { consumerTag } = await ch.consume('orders', (m) => m && deliveries.push(m), { noAck: false });
    await waitFor(() => deliveries.length >= 2, 'the first two deliveries');
    await sleep(200);
    assert.equal(deliveries.length, 2, 'no third delivery while two are unacked (prefetch 2)');

    ch.ack(deliveries[0]!);
    await waitFor(() => deliveries.length >= 3, 'a third delivery once one is acked');
    assert.equal(deliveries[2]!.content.toString(), 'order 3');

    ch.nack(deliveries[1]!, false, true);
    await waitFor(() => deliveries.length >= 4, 'the nacked message again');
    const back = deliveries[3]!;
    assert.equal(back.content.toString(), 'order 2');
    assert.equal(back.fields.redelivered, true);
    assert.equal(deliveries[1]!.fields.redelivered, false);

    // ack the rest as it comes
    const acked = new Set(['order 1']);
    let next = 2;
    while (acked.size < 5) {
      await waitFor(() => deliveries.length > next, `delivery ${next + 1}`);
      const m = deliveries[next++]!;
      if (m === deliveries[1]) continue;
      ch.ack(m);
      acked.add(m.content.toString());
    }
    assert.deepEqual([...acked].sort(), ['order 1', 'order 2', 'order 3', 'order 4', 'order 5']);
    await ch.cancel(consumerTag);
    await ch.close();
    assert.equal((await pub.checkQueue('orders')).messageCount, 0, 'nothing left: every message acked once');
  });

  test('restart mid-stream: persistent messages in a durable queue survive, the unacked one comes back; the connection recovers', { timeout: 60_000 }, async (t) => {
    const conn = await amqp.connect(broker.url, { recovery: { initialDelay: 100, maxDelay: 500, factor: 1.5 } });
    conn.on('error', () => {});
    let connects = 0;
    conn.on('connect', () => connects++);
    t.after(() => conn.close().catch(() => {}));
    const pub = await conn.createConfirmChannel();
    await pub.assertQueue('events', { durable: true });
    for (let i = 1; i <= 3; i++) pub.sendToQueue('events', Buffer.from(`event ${i}`), { persistent: true });
    await pub.waitForConfirms();
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    const inFlight = await ch.get('events', { noAck: false });
    assert.ok(inFlight && inFlight.content.toString() === 'event 1', 'event 1 delivered and never acked');

    const before = connects;
    await broker.restart();
    await waitFor(() => connects > before, 'the recovering connection to reconnect', 15_000);

    const after = await conn.createConfirmChannel();
    after.sendToQueue('events', Buffer.from('event 4'), { persistent: true });
    await after.waitForConfirms();
    const got: GetMessage[] = [];
    for (;;) {
      const m = await after.get('events', { noAck: false });
      if (!m) break;
      got.push(m);
      after.ack(m);
    }
    assert.deepEqual(
      got.map((m) => m.content.toString()),
      ['event 1', 'event 2', 'event 3', 'event 4'],
    );
    assert.equal(got[0]!.fields.redelivered, true, 'the message in flight at the restart is marked redelivered');
    assert.equal(got[3]!.fields.redelivered, false);
  });
});

// ---------------------------------------------------------------------------------------------------

/** XREADGROUP's reply, one stream: node-redis 6 types it as a RESP2/RESP3 union in which the entries
 *  lose their type, while at run time (RESP2, the default) it is this v4/v5 shape */
type StreamEntry = { id: string; message: Record<string, string> };
function entriesOf(reply: unknown): StreamEntry[] {
  return (reply as Array<{ name: string; messages: StreamEntry[] }> | null)?.[0]?.messages ?? [];
}

describe('Redis Streams', { skip: requireBroker('redis') }, () => {
  let broker: Broker;
  before(async () => {
    broker = await startRedis();
  });
  after(() => broker?.stop());

  const client = async (t: { after(fn: () => unknown): unknown }) => {
    const c = createClient({ url: broker.url, socket: { reconnectStrategy: () => 50 } });
    c.on('error', () => {});
    await c.connect();
    t.after(() => c.destroy());
    return c;
  };

  test('XADD, XGROUP CREATE, XREADGROUP, XACK; XAUTOCLAIM takes over what a dead consumer left pending', async (t) => {
    const c = await client(t);
    assert.equal(await c.xGroupCreate('orders', 'triggers', '0', { MKSTREAM: true }), 'OK');
    const ids: string[] = [];
    for (let i = 1; i <= 4; i++) ids.push(await c.xAdd('orders', '*', { order: String(i), region: 'eu' }));

    // the consumer that dies reads two and never acks them
    const dead = await c.xReadGroup('triggers', 'dead', { key: 'orders', id: '>' }, { COUNT: 2 });
    assert.deepEqual(entriesOf(dead).map((m) => m.id), ids.slice(0, 2));
    // the live one reads the rest and acks them
    const live = await c.xReadGroup('triggers', 'live', { key: 'orders', id: '>' }, { COUNT: 10, BLOCK: 100 });
    assert.deepEqual(entriesOf(live).map((m) => [m.id, m.message]), [
      [ids[2], { order: '3', region: 'eu' }],
      [ids[3], { order: '4', region: 'eu' }],
    ]);
    assert.equal(await c.xAck('orders', 'triggers', ids.slice(2)), 2);

    const pending = await c.xPending('orders', 'triggers');
    assert.equal(pending.pending, 2);
    assert.deepEqual(pending.consumers?.map((x) => x.name), ['dead']);

    // not idle long enough yet: nothing to claim
    const early = await c.xAutoClaim('orders', 'triggers', 'live', 60_000, '0-0', { COUNT: 10 });
    assert.deepEqual(early.messages, []);
    await sleep(120);
    const claimed = await c.xAutoClaim('orders', 'triggers', 'live', 100, '0-0', { COUNT: 10 });
    assert.equal(claimed.nextId, '0-0', 'the whole pending list was scanned');
    assert.deepEqual(claimed.messages.map((m) => [m?.id, m?.message.order]), [
      [ids[0], '1'],
      [ids[1], '2'],
    ]);
    assert.deepEqual(claimed.deletedMessages, []);
    assert.equal(await c.xAck('orders', 'triggers', ids.slice(0, 2)), 2);
    assert.equal((await c.xPending('orders', 'triggers')).pending, 0);

    // a blocking read (on its own connection: BLOCK holds the connection) wakes on the next XADD
    const blocking = await client(t);
    const read = blocking.xReadGroup('triggers', 'live', { key: 'orders', id: '>' }, { COUNT: 1, BLOCK: 5000 });
    await sleep(50);
    const id5 = await c.xAdd('orders', '*', { order: '5', region: 'us' });
    const woke = await read;
    assert.deepEqual(entriesOf(woke).map((m) => m.id), [id5]);
  });

  test('restart mid-stream (SIGKILL): the stream, the group and its pending entries survive in the AOF; the client reconnects', async (t) => {
    const c = await client(t);
    let readies = 0;
    c.on('ready', () => readies++);
    await c.xGroupCreate('events', 'g', '0', { MKSTREAM: true });
    const ids: string[] = [];
    for (let i = 1; i <= 3; i++) ids.push(await c.xAdd('events', '*', { n: String(i) }));
    const first = await c.xReadGroup('g', 'c1', { key: 'events', id: '>' }, { COUNT: 1 });
    assert.deepEqual(entriesOf(first).map((m) => m.id), [ids[0]]);

    await broker.restart({ kill: true });
    await waitFor(() => readies > 0, 'the client to reconnect');

    assert.equal(await c.xLen('events'), 3);
    const pending = await c.xPending('events', 'g');
    assert.equal(pending.pending, 1, 'the delivered, unacked entry is still pending');
    const rest = await c.xReadGroup('g', 'c2', { key: 'events', id: '>' }, { COUNT: 10 });
    assert.deepEqual(entriesOf(rest).map((m) => m.id), ids.slice(1), 'the group resumes after its last delivered id');
    assert.equal(await c.xAck('events', 'g', ids.slice(1)), 2);
    const claimed = await c.xAutoClaim('events', 'g', 'c2', 0, '0-0');
    assert.deepEqual(claimed.messages.map((m) => m?.id), [ids[0]], 'what c1 had in flight at the restart');
    assert.equal(await c.xAck('events', 'g', ids[0]!), 1);
    assert.equal((await c.xPending('events', 'g')).pending, 0);
  });
});

// ---------------------------------------------------------------------------------------------------

interface MqttSession {
  client: MqttClient;
  connack: IConnackPacket;
  messages: IPublishPacket[];
}

/** connects with the 'message' listener in place before the CONNACK: a persistent session's queued
 *  messages follow it at once */
function mqttSession(url: string, opts: IClientOptions): Promise<MqttSession> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    const messages: IPublishPacket[] = [];
    client.on('message', (_topic, _payload, packet) => messages.push(packet));
    client.once('connect', (connack) => resolve({ client, connack, messages }));
    client.once('error', reject);
  });
}

describe('MQTT (mosquitto)', { skip: requireBroker('mosquitto') }, () => {
  let broker: Broker;
  before(async () => {
    broker = await startMosquitto();
  });
  after(() => broker?.stop());

  for (const version of [4, 5] as const) {
    const label = version === 4 ? '3.1.1' : '5';
    // MQTT 5 keeps a session past the connection only with a session expiry interval
    const persistent: IClientOptions =
      version === 4 ? { protocolVersion: 4, clean: false } : { protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 3600 } };

    test(`MQTT ${label}: QoS 1 on sensors/# with a persistent session gets what was published while it was away`, async (t) => {
      const clientId = `trigger-v${version}`;
      const sub = await mqttSession(broker.url, { clientId, ...persistent });
      assert.equal(sub.connack.sessionPresent, false);
      const granted = await sub.client.subscribeAsync('sensors/#', { qos: 1 });
      assert.deepEqual(
        granted.map((g) => [g.topic, g.qos]),
        [['sensors/#', 1]],
      );
      const pub = await mqtt.connectAsync(broker.url, { clientId: `publisher-v${version}`, protocolVersion: version, reconnectPeriod: 0 });
      t.after(() => pub.endAsync());

      await pub.publishAsync('sensors/kitchen/temp', '21.5', { qos: 1 });
      await pub.publishAsync('other/kitchen/temp', 'not matched', { qos: 1 });
      await waitFor(() => sub.messages.length >= 1, 'the live message');
      await sub.client.endAsync();

      // while the subscriber is away: PUBACK means the broker has it queued for the session
      for (let i = 1; i <= 3; i++) await pub.publishAsync(`sensors/hall/${i}`, `reading ${i}`, { qos: 1 });

      const back = await mqttSession(broker.url, { clientId, ...persistent });
      t.after(() => back.client.endAsync());
      assert.equal(back.connack.sessionPresent, true, 'the broker kept the session');
      await waitFor(() => back.messages.length >= 3, 'the queued messages');
      await sleep(50);
      assert.deepEqual(
        [...sub.messages, ...back.messages].map((p) => [p.topic, p.payload.toString(), p.qos]),
        [
          ['sensors/kitchen/temp', '21.5', 1],
          ['sensors/hall/1', 'reading 1', 1],
          ['sensors/hall/2', 'reading 2', 1],
          ['sensors/hall/3', 'reading 3', 1],
        ],
      );
    });
  }

  test('restart mid-stream: queued QoS 1 messages of an offline persistent session survive; the publisher reconnects by itself', async (t) => {
    const clientId = 'trigger-restart';
    const sub = await mqttSession(broker.url, { clientId, protocolVersion: 4, clean: false });
    await sub.client.subscribeAsync('sensors/#', { qos: 1 });
    await sub.client.endAsync();

    const pub = await mqtt.connectAsync(broker.url, { clientId: 'publisher-restart', protocolVersion: 4, reconnectPeriod: 100 });
    t.after(() => pub.endAsync());
    let connects = 0;
    pub.on('connect', () => connects++);
    for (let i = 1; i <= 2; i++) await pub.publishAsync(`sensors/door/${i}`, `before ${i}`, { qos: 1 });

    await broker.restart();
    await waitFor(() => connects > 0, 'the publisher to reconnect');
    await pub.publishAsync('sensors/door/3', 'after', { qos: 1 });

    const back = await mqttSession(broker.url, { clientId, protocolVersion: 4, clean: false });
    t.after(() => back.client.endAsync());
    assert.equal(back.connack.sessionPresent, true, 'the session came back from mosquitto.db');
    await waitFor(() => back.messages.length >= 3, 'the queued messages');
    assert.deepEqual(
      back.messages.map((p) => p.payload.toString()),
      ['before 1', 'before 2', 'after'],
    );
  });
});
