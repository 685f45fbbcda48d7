// bench/events: what a trigger costs, against a named peer in the same run.
//
// 1. Broker throughput and added latency (Redis Streams). The backend is one instance of the busybox
//    test image (min 1, max 1, concurrency C), the CGI /cgi-bin/judge, which logs "judged BODY" — the
//    instance's log timestamps each arrival. Skiff: a trigger (--redis … --stream skiff --group g),
//    C delivery slots, through the gateway. Peer: a plain consumer in this process using the same
//    client library (node-redis XREADGROUP COUNT C, C requests in flight) that POSTs each entry straight
//    to the instance's address and XACKs it. Each side gets N entries whose body carries the publish
//    time; throughput = N / (last arrival − first publish), latency = arrival − publish (p50, p99).
// 2. Cron fire delay for a service at min 0 that scaled to zero between fires: arrival of the fire's
//    request (instance log) − its scheduled instant (ce-time), with and without the pre-warm ahead of
//    the fire (events.cronPrewarm), F fires each, every 10 s.
//
//   node bin/run-ts.mjs bench/events.ts [--messages 2000] [--concurrency 8] [--fires 5]
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createClient } from 'redis';
import { SkiffClient } from '../src/api/client.ts';
import { startTestDaemon, type TestDaemon } from '../test/helpers/daemon.ts';
import { pushHttpdImage } from '../test/helpers/images.ts';
import { startRedis } from '../test/helpers/brokers.ts';
import { skiff } from '../test/helpers/cli.ts';
import { intFlag, pct } from './lib/measure.ts';

const { values: args } = parseArgs({ options: { messages: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '8' }, fires: { type: 'string', default: '5' } } });
const N = intFlag(args.messages, '--messages');
const C = intFlag(args.concurrency, '--concurrency');
const FIRES = intFlag(args.fires, '--fires');

const cleanups: Array<() => unknown> = [];
const after = { after: (fn: () => unknown) => void cleanups.push(fn) };

async function ok(d: TestDaemon, argv: string[]): Promise<string> {
  const r = await skiff(d, argv);
  if (r.code !== 0) throw new Error(`skiff ${argv.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** arrival time (epoch ms) of each judged body, from the service's log */
async function arrivals(client: SkiffClient, service: string): Promise<Map<string, number>> {
  let text = '';
  await client.logs(service, {}, (c) => (text += c));
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^\S+ (\S+) stderr judged (\S+)$/gm)) if (!out.has(m[2]!)) out.set(m[2]!, Date.parse(m[1]!));
  return out;
}

async function until(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function summary(name: string, publishedAt: Map<string, number>, arrived: Map<string, number>): { rate: number; p50: number; p99: number } {
  const lat = [...publishedAt].map(([body, t]) => arrived.get(body)! - t);
  const first = Math.min(...publishedAt.values());
  const last = Math.max(...[...publishedAt.keys()].map((b) => arrived.get(b)!));
  const rate = (publishedAt.size * 1000) / (last - first);
  console.log(`${name.padEnd(58)} ${rate.toFixed(0).padStart(6)} msg/s   latency p50 ${pct(lat, 50).toFixed(0)} ms, p99 ${pct(lat, 99).toFixed(0)} ms`);
  return { rate, p50: pct(lat, 50), p99: pct(lat, 99) };
}

try {
  const d = await startTestDaemon(after, { settings: (s) => (s.events.cronPrewarm = true) });
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const image = await pushHttpdImage(d, `bench-events-${process.pid}`, 'v1');
  const broker = await startRedis({ t: after });
  const r = createClient({ url: broker.url });
  r.on('error', () => {});
  await r.connect();
  cleanups.push(() => r.destroy());

  // ---- 1. throughput
  await ok(d, ['deploy', 'backend', '--image', image.reference, '--min', '1', '--max', '1', '--concurrency', String(C)]);
  const instance = (await client.service('backend')).revisions[0]!.instances.find((i) => i.phase === 'ready')!;
  const [host, port] = instance.address!.split(':') as [string, string];
  for (const stream of ['skiff', 'peer']) await r.xGroupCreate(stream, 'g', '$', { MKSTREAM: true });
  await ok(d, ['trigger', 'add', 'bench', '--service', 'backend', '--path', '/cgi-bin/judge', '--redis', broker.url, '--stream', 'skiff', '--group', 'g']);

  /** `count` entries, as fast as possible or at `perSecond` */
  const publish = async (stream: string, prefix: string, count: number, perSecond?: number) => {
    const at = new Map<string, number>();
    const start = Date.now();
    for (let i = 0; i < count; i++) {
      if (perSecond) await new Promise((res) => setTimeout(res, Math.max(0, start + (i * 1000) / perSecond - Date.now())));
      const body = `${prefix}-${i}`;
      at.set(body, Date.now());
      await r.xAdd(stream, '*', { data: body });
    }
    return at;
  };

  // peer: the same client library, straight to the instance
  const peerClient = r.duplicate();
  peerClient.on('error', () => {});
  await peerClient.connect();
  cleanups.push(() => peerClient.destroy());
  const agent = new http.Agent({ keepAlive: true, maxSockets: C });
  let peerRunning = true;
  const post = (body: string) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request({ host, port: Number(port), method: 'POST', path: '/cgi-bin/judge', agent, headers: { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', reject);
      req.end(body);
    });
  const peer = (async () => {
    const inFlight = new Set<Promise<void>>();
    while (peerRunning) {
      while (inFlight.size >= C) await Promise.race(inFlight);
      const res = (await peerClient.xReadGroup('g', 'peer-1', { key: 'peer', id: '>' }, { COUNT: C - inFlight.size, BLOCK: 500 })) as Array<{ messages: Array<{ id: string; message: Record<string, string> }> }> | null;
      for (const e of res?.[0]?.messages ?? []) {
        const p = post(e.message.data!).then(() => void r.xAck('peer', 'g', e.id));
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
    }
  })();

  const label = (side: string, what: string) => `${side === 'skiff' ? `Skiff trigger (redis, ${C} slots, gateway)` : `plain consumer (node-redis, ${C} in flight)`}, ${what}`;
  const results: Record<string, { rate: number; p50: number; p99: number }> = {};
  // a burst of N (throughput; its latency is mostly the queue), then 20 msg/s (latency, no queue)
  for (const [phase, count, perSecond] of [['burst', N, undefined], ['20/s', 200, 20]] as const) {
    for (const side of ['skiff', 'peer']) {
      const published = await publish(side, `${side}${phase === 'burst' ? 'b' : 'r'}`, count, perSecond);
      await until(async () => {
        const a = await arrivals(client, 'backend');
        return [...published.keys()].every((b) => a.has(b));
      }, 300_000, `${side}: every message arrived`);
      results[`${side} ${phase}`] = summary(label(side, phase === 'burst' ? `burst of ${N}` : '20 msg/s'), published, await arrivals(client, 'backend'));
    }
  }
  peerRunning = false;
  await peer;
  agent.destroy();
  console.log(`throughput ratio Skiff/peer ${(results['skiff burst']!.rate / results['peer burst']!.rate).toFixed(2)}; at 20 msg/s added latency p50 ${(results['skiff 20/s']!.p50 - results['peer 20/s']!.p50).toFixed(0)} ms, p99 ${(results['skiff 20/s']!.p99 - results['peer 20/s']!.p99).toFixed(0)} ms`);

  // ---- 2. cron fire delay, service at zero between fires
  const file = path.join(d.dataDir, 'cron.yaml');
  writeFileSync(file, `name: cronsvc\nimage: ${image.reference}\nscaling: { min: 0, max: 1, window: 2s, idle: 1s, scaleToZeroGrace: 1s, keepAlive: fixed }\n`);
  await ok(d, ['deploy', '-f', file, '--no-wait']);
  const delays: Record<string, number[]> = {};
  for (const prewarm of [false, true]) {
    d.settings.events.cronPrewarm = prewarm; // read at each pre-warm (events-wiring)
    const name = prewarm ? 'warm' : 'cold';
    await ok(d, ['trigger', 'add', name, '--service', 'cronsvc', '--cron', '*/10 * * * * *', '--path', '/cgi-bin/judge', '--body', name]);
    const before = Date.now();
    await until(async () => (await client.trigger(name)).stats.successes >= FIRES + 1, (FIRES + 3) * 10_000, `${name}: ${FIRES + 1} fires`);
    await ok(d, ['trigger', 'rm', name]);
    let text = '';
    await client.logs('cronsvc', {}, (c) => (text += c));
    // the first fire may find the service warm from the deploy: dropped
    const arrivalsOf = [...text.matchAll(/^\S+ (\S+) stderr judged (\S+)$/gm)].filter((m) => m[2] === name && Date.parse(m[1]!) > before).map((m) => Date.parse(m[1]!));
    delays[name] = arrivalsOf.slice(1).map((t) => t % 10_000);
    console.log(`cron fire delay, min 0, ${prewarm ? 'pre-warmed' : 'no pre-warm'}`.padEnd(44) + ` p50 ${pct(delays[name]!, 50).toFixed(0)} ms, p99 ${pct(delays[name]!, 99).toFixed(0)} ms (${delays[name]!.length} fires)`);
    await until(async () => (await client.service('cronsvc')).revisions.every((rev) => rev.instances.every((i) => i.phase === 'pre-created')), 30_000, 'back to zero');
  }
  console.log(`machine: ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
} finally {
  for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
}
