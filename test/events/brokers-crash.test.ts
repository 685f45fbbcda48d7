// kill -9 of the daemon mid-stream, for each broker at once (docs/events.md "How each broker is
// consumed"): one `skiff up` child feeds five triggers, each to its own service — NATS JetStream (a
// durable consumer, explicit ack), RabbitMQ (a durable queue, persistent messages published with
// confirms), Redis Streams (a consumer group), MQTT (QoS 1, Skiff's persistent session) and NATS core (a
// queue group). Messages are published, deliveries get under way, the daemon is SIGKILLed, more
// messages are published to the four durable brokers while it is down (they wait in the broker; MQTT
// sends a resumed session's kept messages before it answers the new SUBSCRIBE), and it is started
// again.
//   durable brokers (JetStream, RabbitMQ, Redis, MQTT): every message reaches the service at least
//     once (each body "judged" in its log; duplicates allowed and counted), and at the end the broker
//     holds nothing for Skiff (JetStream nothing pending or unacked, RabbitMQ an empty queue, Redis
//     nothing pending in the group; MQTT: nothing left in Skiff's queue).
//   NATS core keeps nothing, so what is published while no daemon is subscribed is lost by design.
//     What Skiff promises is store-and-forward: a message is in its store (the invocations table)
//     before it counts as taken, and what is stored survives a crash. So all its messages are
//     published before the kill, the test waits until the store holds every one of them (read from
//     the SQLite file, the exact set Skiff holds), and every one must reach the service after the
//     restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { AckPolicy, StorageType, connect as natsConnect, nanos } from 'nats';
import { createClient } from 'redis';
import { requireBroker, startMosquitto, startNats, startRabbitMQ, startRedis } from '../helpers/brokers.ts';
import { childDaemonFixture } from '../helpers/child-daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { skiff } from '../helpers/cli.ts';
import { until } from '../helpers/serving.ts';
import { SkiffClient } from '../../src/api/client.ts';
import { SQLITE_FILE } from '../../src/store/sqlite.ts';

const missing = (['nats', 'rabbitmq', 'redis', 'mosquitto'] as const).map((k) => requireBroker(k)).find(Boolean);
const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : missing ?? false;
/** messages per broker */
const N = 200;
/** of them, published to each durable broker while the daemon is down */
const WHILE_DOWN = 50;
/** successes each trigger has before the kill */
const UNDER_WAY = 5;

const DURABLE = ['jetstream', 'amqp', 'redis', 'mqtt'] as const;
const KINDS = [...DURABLE, 'natscore'] as const;
type Kind = (typeof KINDS)[number];

interface Publisher {
  publish(body: string): Promise<void>;
}

const bodiesOf = (kind: Kind) => Array.from({ length: N }, (_, i) => `${kind}-${i}`);

/** `p`, or a rejection naming `what` after `ms` (a daemon that never comes up fails the test, not the file) */
function within<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms / 1000} s`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** how many times the service judged each body, from its log (kept across the daemon's restart) */
async function judged(client: SkiffClient, service: string): Promise<Map<string, number>> {
  let text = '';
  await client.logs(service, {}, (chunk) => (text += chunk));
  const seen = new Map<string, number>();
  for (const m of text.matchAll(/ stderr judged (\S+)$/gm)) seen.set(m[1]!, (seen.get(m[1]!) ?? 0) + 1);
  return seen;
}

test('kill -9 of the daemon mid-stream, five broker triggers at once: every message the brokers or Skiff kept reaches its service after a restart', { skip, timeout: 400_000 }, async (t) => {
  const began = Date.now();
  /** when each step ended, for the diagnostics */
  const marks: string[] = [];
  const mark = (what: string) => void marks.push(`${what} ${((Date.now() - began) / 1000).toFixed(1)} s`);
  // should a step hang past every timeout here, where it was (the runner only says the file timed out)
  const watchdog = setTimeout(() => console.error(`brokers-crash: still running after 380 s; done so far: ${marks.join(', ')}`), 380_000).unref();
  t.after(() => clearTimeout(watchdog));
  const tag = (process.pid % 200) + 40;
  const fixture = childDaemonFixture(t, { prefix: 'skiff-broker-crash', bridge: `skbc-${tag}`, subnet: `10.210.${tag}.0/24`, chainPrefix: `SKBC-${tag}` });
  const [js, core, rabbit, redis, mosq, first] = await Promise.all([
    startNats({ jetstream: true, t }),
    startNats({ t }),
    startRabbitMQ({ t }),
    startRedis({ t }),
    startMosquitto({ t }),
    within('skiff up', 60_000, fixture.start()),
  ]);
  mark('brokers and daemon up');
  let child = first;
  let client = new SkiffClient({ baseUrl: child.url, token: child.token });
  const storeFile = path.join(fixture.dataDir, SQLITE_FILE);
  assert.ok(existsSync(storeFile), `the daemon keeps its store in ${storeFile} (SQLite; unset SKIFF_STORE_URL)`);

  // the applications' side: streams, consumers, queues and groups exist before the triggers (Skiff
  // creates none), and a publisher per broker, kept for the whole test
  const jsConn = await natsConnect({ servers: js.url.replace('nats://', '') });
  t.after(() => within('closing', 5000, jsConn.close()).catch(() => undefined));
  const jsm = await jsConn.jetstreamManager();
  await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'], storage: StorageType.File });
  // ack_wait 10 s (30 s by default): what the killed daemon held unacked comes back sooner
  await jsm.consumers.add('ORDERS', { durable_name: 'skiff', ack_policy: AckPolicy.Explicit, ack_wait: nanos(10_000) });
  const jetstream = jsConn.jetstream();

  const amqpConn = await amqp.connect(rabbit.url);
  amqpConn.on('error', () => {}); // the broker may stop before this client in the after-hooks
  t.after(() => within('closing', 5000, amqpConn.close()).catch(() => undefined));
  const confirms = await amqpConn.createConfirmChannel();
  await confirms.assertQueue('orders', { durable: true });
  const inspect = await amqpConn.createChannel();

  const r = createClient({ url: redis.url });
  r.on('error', () => {});
  await r.connect();
  t.after(() => r.destroy());
  await r.xGroupCreate('orders', 'skiff', '$', { MKSTREAM: true });

  const mq = await mqtt.connectAsync(mosq.url, { clientId: `pub-${process.pid}-${Date.now()}` });
  mq.on('error', () => {});
  t.after(() => within('closing', 5000, mq.endAsync(true)).catch(() => undefined));

  const coreConn = await natsConnect({ servers: core.url.replace('nats://', '') });
  t.after(() => within('closing', 5000, coreConn.close()).catch(() => undefined));

  const publishers: Record<Kind, Publisher> = {
    jetstream: { publish: async (b) => void (await jetstream.publish('orders.new', Buffer.from(b))) },
    amqp: {
      publish: async (b) => {
        confirms.sendToQueue('orders', Buffer.from(b), { persistent: true });
        await confirms.waitForConfirms();
      },
    },
    redis: { publish: async (b) => void (await r.xAdd('orders', '*', { data: b })) },
    mqtt: { publish: async (b) => void (await mq.publishAsync('sensors/kitchen', b, { qos: 1 })) },
    natscore: { publish: async (b) => coreConn.publish('orders.new', Buffer.from(b)) },
  };
  const flags: Record<Kind, string[]> = {
    jetstream: ['--nats', js.url, '--stream', 'ORDERS', '--consumer', 'skiff'],
    amqp: ['--amqp', rabbit.url, '--queue', 'orders'],
    redis: ['--redis', redis.url, '--stream', 'orders', '--group', 'skiff'],
    mqtt: ['--mqtt', mosq.url, '--topic', 'sensors/#'],
    natscore: ['--nats', core.url, '--subject', 'orders.>', '--queue-group', 'skiff'],
  };

  // a service per trigger, so each one's log is its own
  const image = await pushHttpdImage(child, uniqueRepo('broker-crash'), 'v1');
  mark('image pushed');
  await Promise.all(KINDS.map(async (kind) => {
    const deployed = await skiff(child, ['deploy', `sink-${kind}`, '--image', image.reference, '--max', '2', '--concurrency', '2', '--no-wait']);
    assert.equal(deployed.code, 0, deployed.stderr);
    const added = await skiff(child, ['trigger', 'add', kind, '--service', `sink-${kind}`, '--path', '/cgi-bin/judge', ...flags[kind]]);
    assert.equal(added.code, 0, added.stderr);
  }));
  // subscribed (NATS core and MQTT get only what is published from then on), and each service warm,
  // so that the five streams of deliveries start together and the kill finds each of them mid-stream
  await until('every trigger connected', async () => (await Promise.all(KINDS.map((k) => client.trigger(k)))).every((v) => v.state?.status === 'running'), 30_000);
  mark('triggers added');
  await Promise.all(KINDS.map(async (kind) => {
    const res = await fetch(`${child.gatewayUrl}/s/sink-${kind}/cgi-bin/judge`, { method: 'POST', body: 'warm-up', signal: AbortSignal.timeout(90_000) });
    assert.equal(res.status, 200, `sink-${kind} warm-up: ${await res.text()}`);
  }));
  mark('services warm');

  // before the kill: everything to NATS core, all but the last WHILE_DOWN to the durable brokers. In
  // step, one message to each broker at a time: NATS core's and MQTT's messages then alternate in
  // Skiff's queue, and both services get deliveries from the start.
  for (let i = 0; i < N; i++) {
    await Promise.all(KINDS.filter((kind) => kind === 'natscore' || i < N - WHILE_DOWN).map((kind) => publishers[kind].publish(`${kind}-${i}`)));
  }
  await coreConn.flush();
  mark('published');

  /** the NATS core messages in Skiff's store: body → status */
  const storedCore = (): Map<string, string> => {
    const db = new Database(storeFile, { readonly: true, fileMustExist: true, timeout: 5000 });
    try {
      const rows = db.prepare('SELECT request, status FROM invocations WHERE trigger = ?').all('natscore') as Array<{ request: string; status: string }>;
      return new Map(rows.map((row) => [Buffer.from((JSON.parse(row.request) as { body: string }).body, 'base64').toString('utf8'), row.status]));
    } finally {
      db.close();
    }
  };
  const successes: Partial<Record<Kind, number>> = {};
  await until(`every NATS core message stored and ${UNDER_WAY} successes per trigger`, async () => {
    if (storedCore().size < N) return false;
    const views = await Promise.all(KINDS.map((k) => client.trigger(k)));
    views.forEach((v, i) => (successes[KINDS[i]!] = v.stats.successes));
    return views.every((v) => v.stats.successes >= UNDER_WAY);
  }, 60_000).catch(async (err: Error) => {
    throw new Error(`${err.message}: ${storedCore().size} NATS core messages stored; successes ${JSON.stringify(successes)}`);
  });
  const stored = storedCore();
  assert.deepEqual([...stored.keys()].sort(), bodiesOf('natscore').sort(), 'Skiff stored every NATS core message it was sent while subscribed');
  const undeliveredCore = [...stored.values()].filter((s) => s === 'queued' || s === 'running').length;

  child.proc.kill('SIGKILL');
  await child.exited;
  mark('killed');
  // while no daemon runs: the durable brokers keep these for Skiff (MQTT: its persistent session)
  await Promise.all(DURABLE.map(async (kind) => {
    for (const b of bodiesOf(kind).slice(N - WHILE_DOWN)) await publishers[kind].publish(b);
  }));
  child = await within('skiff up after the kill', 60_000, fixture.start());
  client = new SkiffClient({ baseUrl: child.url, token: child.token });
  mark('restarted');

  const seen: Partial<Record<Kind, Map<string, number>>> = {};
  const lost = (kind: Kind) => bodiesOf(kind).filter((b) => !seen[kind]?.has(b));
  await until('every message judged', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1000)); // reading five logs: not ten times a second
    for (const kind of KINDS) {
      if (lost(kind).length === 0) continue;
      seen[kind] = await judged(client, `sink-${kind}`);
      if (lost(kind).length === 0) mark(`${kind} all judged`);
    }
    return KINDS.every((kind) => lost(kind).length === 0);
  }, 120_000).catch(async (err: Error) => {
    const views = await Promise.all(KINDS.map((k) => client.trigger(k).catch((e: Error) => ({ name: k, error: e.message }))));
    throw new Error(`${err.message}: ${KINDS.map((k) => `${k}: ${lost(k).length} of ${N} not judged (${lost(k).slice(0, 5).join(' ')}…)`).join('; ')}\n${JSON.stringify(views, null, 1)}`);
  });

  // nothing left behind: in the brokers where they can tell, and in Skiff's own queue
  await until('nothing pending or unacked in JetStream', async () => {
    const info = await jsm.consumers.info('ORDERS', 'skiff');
    return info.num_pending === 0 && info.num_ack_pending === 0;
  }, 30_000).catch(async (err: Error) => {
    const info = await jsm.consumers.info('ORDERS', 'skiff');
    throw new Error(`${err.message}: num_pending ${info.num_pending}, num_ack_pending ${info.num_ack_pending}`);
  });
  await until('the RabbitMQ queue empty', async () => (await inspect.checkQueue('orders')).messageCount === 0, 30_000);
  const pendingInGroup = async () => ((await r.xInfoGroups('orders')) as Array<{ name: string; pending: number }>).find((g) => g.name === 'skiff')?.pending;
  await until('nothing pending in the Redis group', async () => (await pendingInGroup()) === 0, 30_000).catch(async (err: Error) => {
    throw new Error(`${err.message}: ${await pendingInGroup()} pending`);
  });
  await until("nothing left in Skiff's queue", async () => (await Promise.all(KINDS.map((k) => client.trigger(k)))).every((v) => v.stats.backlog === 0), 30_000);
  mark('nothing pending');

  const report: string[] = [];
  for (const kind of KINDS) {
    const v = await client.trigger(kind);
    assert.equal(v.state?.status, 'running', `${kind}: consuming again after the restart`);
    assert.equal(v.stats.deadLetters, 0, `${kind}: nothing dead-lettered: ${v.stats.lastErrors.map((e) => e.message).join('; ')}`);
    // the final count, from a read that has every body: a read racing an instance's deletion (its log
    // moving to the kept logs) can miss that instance's lines; else the full read above stands
    let counts = seen[kind]!;
    await until(`${kind}: a full read of the log`, async () => {
      const now = await judged(client, `sink-${kind}`);
      if (bodiesOf(kind).every((b) => now.has(b))) counts = now;
      return counts === now;
    }, 10_000).catch(() => undefined);
    const duplicates = bodiesOf(kind).reduce((sum, b) => sum + (counts.get(b)! - 1), 0);
    report.push(`${kind}: ${N} of ${N} judged (${duplicates} duplicates), ${successes[kind]} delivered before the kill`);
  }
  report.push(`natscore: ${N} stored before the kill, ${undeliveredCore} of them not yet delivered then`);
  mark('checked');
  report.push(`timings: ${marks.join(', ')}`);
  for (const line of report) t.diagnostic(line);
});
