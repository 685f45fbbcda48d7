// Broker triggers end to end (docs/events.md): real brokers (test/helpers/brokers.ts), a daemon with
// real runc instances, the compiled CLI. For each of NATS core, JetStream, RabbitMQ, Redis Streams and
// MQTT: 1,000 messages to a service at min 0 all reach it (each body seen in its log), a poison message
// lands in the dead-letter store after its attempts while the others flow, the broker restarted
// mid-stream loses nothing that it kept, and the service scales back to zero afterwards. Bad broker
// settings are refused at `trigger add`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { AckPolicy, StorageType, connect as natsConnect } from 'nats';
import { createClient } from 'redis';
import { requireBroker, startMosquitto, startNats, startRabbitMQ, startRedis, type Broker } from '../helpers/brokers.ts';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { skiff, skiffOk as ok } from '../helpers/cli.ts';
import { runningCount, until } from '../helpers/serving.ts';
import { SkiffClient } from '../../src/api/client.ts';

const missing = (['nats', 'rabbitmq', 'redis', 'mosquitto'] as const).map((k) => requireBroker(k)).find(Boolean);
const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : missing ?? false;
const N = 1000;

/** Every body the service judged, from its log (kept after scale to zero). */
async function judged(client: SkiffClient, service: string): Promise<Set<string>> {
  let text = '';
  await client.logs(service, {}, (chunk) => (text += chunk));
  return new Set([...text.matchAll(/ stderr judged (\S+)$/gm)].map((m) => m[1]!));
}

interface Publisher {
  publish(body: string): Promise<void>;
  close(): Promise<void>;
}

test('broker triggers: 1,000 messages each, a poison message dead-lettered, a broker restart mid-stream, scale out and back to zero', { skip, timeout: 600_000 }, async (t) => {
  const d = await startTestDaemon(t);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const image = await pushHttpdImage(d, uniqueRepo('brokers'), 'v1');
  await ok(d, ['deploy', 'probe', '--image', image.reference, '--no-wait']);

  /** one service per broker, so each one's log and scale are its own */
  const deploySink = async (name: string) => {
    const file = path.join(d.dataDir, `${name}.yaml`);
    writeFileSync(file, `name: ${name}\nimage: ${image.reference}\nscaling: { min: 0, max: 3, concurrency: 4, window: 2s, idle: 1s, scaleToZeroGrace: 1s }\n`);
    await ok(d, ['deploy', '-f', file, '--no-wait']);
  };

  const run = async (kind: string, broker: Broker, flags: string[], publisher: () => Promise<Publisher>, o: { durableAcrossRestart: boolean }) => {
    const service = `sink-${kind}`;
    await deploySink(service);
    const added = await ok(d, ['trigger', 'add', kind, '--service', service, '--path', '/cgi-bin/judge', '--max-attempts', '3', '--backoff', '100ms', ...flags]);
    assert.match(added, new RegExp(`^added {5}${kind} → ${service}, consuming `, 'm'));
    let pub = await publisher();
    const bodies = Array.from({ length: N }, (_, i) => `${kind}-${i}`);
    // the first half, the poison among them
    for (const b of bodies.slice(0, N / 2)) await pub.publish(b);
    await pub.publish('poison');
    let peak = 0;
    const watch = setInterval(() => void runningCount(client, service).then((n) => (peak = Math.max(peak, n)), () => {}), 200);
    t.after(() => clearInterval(watch));
    // the broker restarts mid-stream; what it kept must arrive, and the consumer reconnects by itself
    await until(`${kind}: deliveries under way`, async () => (await client.trigger(kind)).stats.successes >= 50, 60_000);
    await pub.close();
    const restartedAt = Date.now();
    await broker.restart();
    // reconnected since the restart (a NATS core subscription misses what is published before that)
    await until(`${kind}: reconnected`, async () => {
      const state = (await client.trigger(kind)).state;
      return state?.status === 'running' && Date.parse(state.since) > restartedAt;
    }, 60_000);
    pub = await publisher();
    for (const b of bodies.slice(N / 2)) await pub.publish(b);
    await pub.close();

    await until(`${kind}: all ${N} delivered and the poison dead-lettered`, async () => {
      const v = await client.trigger(kind);
      return v.stats.deadLetters >= 1 && (await judged(client, service)).size >= N + 1;
    }, 120_000).catch(async (err: Error) => {
      const seen = await judged(client, service);
      const letters = (await client.deadLetters(kind)).deadLetters.map((l) => l.request.body);
      throw new Error(`${err.message}: ${seen.size} judged, missing ${bodies.filter((b) => !seen.has(b)).slice(0, 10).join(' ')}…; stats ${JSON.stringify((await client.trigger(kind)).stats)}; dead letters ${letters.join(' ')}`);
    });
    clearInterval(watch);
    const seen = await judged(client, service);
    const lost = bodies.filter((b) => !seen.has(b));
    if (o.durableAcrossRestart) assert.deepEqual(lost, [], `${kind}: every message reached the service`);
    const v = await client.trigger(kind);
    assert.equal(v.state?.status, 'running');
    assert.ok((v.state?.disconnects ?? 0) >= 1, `${kind}: the broker's restart is counted (${v.state?.disconnects})`);
    assert.match(await ok(d, ['trigger', 'describe', kind]), /^state {5}running since \S+ \(\d+ disconnects? since the daemon started\)$/m);
    // at least once: a dead letter whose ack was cut by the broker's restart is dead-lettered again
    const letters = (await client.deadLetters(kind)).deadLetters;
    assert.ok(letters.length >= 1 && letters.every((l) => l.request.body === 'poison'), `${JSON.stringify(v.stats)}: ${letters.map((l) => `${l.request.body} ${l.error}`).join('; ')}`);
    const letter = letters[0];
    assert.equal(letter!.request.body, 'poison');
    assert.equal(letter!.attempts, 3);
    assert.match(letter!.error, /HTTP 500 \(attempt 3 of 3\)/);
    assert.equal(letter!.request.headers['ce-type'], `dev.skiff.${flags[0]!.slice(2)}.message`);
    assert.ok(peak > 1, `${kind}: the service scaled out (peak ${peak} instances)`);
    await until(`${kind}: back to zero`, async () => (await runningCount(client, service)) === 0, 60_000).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify((await client.trigger(kind)).stats)}; ${(await client.service(service)).events.slice(-5).map((e) => e.message).join(' | ')}`);
    });
    await ok(d, ['trigger', 'rm', kind]);
  };

  await t.test('NATS JetStream', async () => {
    const broker = await startNats({ jetstream: true, t });
    const nc = await natsConnect({ servers: broker.url.replace('nats://', '') });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'], storage: StorageType.File });
    await jsm.consumers.add('ORDERS', { durable_name: 'skiff', ack_policy: AckPolicy.Explicit });
    await nc.close();
    // a consumer that does not exist: refused at add time
    const bad = await skiff(d, ['trigger', 'add', 'x', '--service', 'probe', '--nats', broker.url, '--stream', 'ORDERS', '--consumer', 'nope']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^skiff: error BAD_REQUEST: nats: stream ORDERS consumer nope on nats:\/\/127\.0\.0\.1:\d+: .*create them first/m);
    const unreachable = await skiff(d, ['trigger', 'add', 'x', '--service', 'probe', '--nats', 'nats://127.0.0.1:1', '--subject', 'a']);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /^skiff: error BAD_REQUEST: nats: cannot connect to nats:\/\/127\.0\.0\.1:1/m);
    const twoSources = await skiff(d, ['trigger', 'add', 'x', '--service', 'probe', '--nats', broker.url, '--subject', 'a', '--cron', '* * * * *']);
    assert.match(twoSources.stderr, /^skiff: error BAD_REQUEST: cron, nats: a trigger has exactly one source/m);
    await run('nats', broker, ['--nats', broker.url, '--stream', 'ORDERS', '--consumer', 'skiff'], async () => {
      const c = await natsConnect({ servers: broker.url.replace('nats://', '') });
      const js = c.jetstream();
      return { publish: async (b) => void (await js.publish('orders.new', Buffer.from(b))), close: () => c.drain() };
    }, { durableAcrossRestart: true });
  });

  await t.test('RabbitMQ', async () => {
    const broker = await startRabbitMQ({ t });
    const setup = await amqp.connect(broker.url);
    const ch = await setup.createChannel();
    await ch.assertQueue('orders', { durable: true });
    await setup.close();
    const noQueue = await skiff(d, ['trigger', 'add', 'x', '--service', 'probe', '--amqp', broker.url, '--queue', 'nope']);
    assert.equal(noQueue.code, 1);
    assert.match(noQueue.stderr, /^skiff: error BAD_REQUEST: amqp: queue nope on amqp:\/\/\S+:\*\*\*@/m);
    assert.ok(!noQueue.stderr.includes(broker.password), 'the password is never printed');
    const wrongPassword = await skiff(d, ['trigger', 'add', 'x', '--service', 'probe', '--amqp', broker.url.replace(`:${broker.password}@`, ':wrong@'), '--queue', 'orders']);
    assert.equal(wrongPassword.code, 1);
    assert.match(wrongPassword.stderr, /^skiff: error BAD_REQUEST: amqp: cannot connect to amqp:\/\/\S+:\*\*\*@.*(ACCESS_REFUSED|403)/m);
    await run('amqp', broker, ['--amqp', broker.url, '--queue', 'orders'], async () => {
      const c = await amqp.connect(broker.url);
      const pch = await c.createConfirmChannel();
      return {
        publish: async (b) => {
          pch.sendToQueue('orders', Buffer.from(b), { persistent: true });
          await pch.waitForConfirms();
        },
        close: () => c.close(),
      };
    }, { durableAcrossRestart: true });
  });

  await t.test('Redis Streams', async () => {
    const broker = await startRedis({ t });
    const r = createClient({ url: broker.url });
    await r.connect();
    await r.xGroupCreate('orders', 'skiff', '$', { MKSTREAM: true });
    await r.destroy();
    await run('redis', broker, ['--redis', broker.url, '--stream', 'orders', '--group', 'skiff'], async () => {
      const c = createClient({ url: broker.url });
      await c.connect();
      return { publish: async (b) => void (await c.xAdd('orders', '*', { data: b })), close: async () => void (await c.destroy()) };
    }, { durableAcrossRestart: true });
  });

  await t.test('MQTT', async () => {
    const broker = await startMosquitto({ t });
    await run('mqtt', broker, ['--mqtt', broker.url, '--topic', 'sensors/#'], async () => {
      const c = await mqtt.connectAsync(broker.url, { clientId: `pub-${process.pid}-${Date.now()}` });
      return { publish: async (b) => void (await c.publishAsync('sensors/kitchen', b, { qos: 1 })), close: () => c.endAsync() };
    }, { durableAcrossRestart: true });
  });

  await t.test('NATS core (queue group)', async () => {
    const broker = await startNats({ t });
    await run('natscore', broker, ['--nats', broker.url, '--subject', 'orders.>', '--queue-group', 'skiff'], async () => {
      const c = await natsConnect({ servers: broker.url.replace('nats://', '') });
      return { publish: async (b) => c.publish('orders.new', Buffer.from(b)), close: () => c.drain() };
    }, { durableAcrossRestart: true });
  });
});
