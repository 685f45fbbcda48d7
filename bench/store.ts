// bench/store: the metadata store under the control API — SQLite (embedded default) against
// PostgreSQL (a local server with fsync and synchronous commit on, as production runs it), in the
// same run. For each store a child `skiff up` (fresh data dir, a network of its own, the pre-created
// pool off so no instance runs) gets N services deployed one after another through the API (each
// deploy resolves the image, records a revision and an event, and tells the scheduler), then lists
// them all (GET /api/v1/services) and describes one (GET /api/v1/services/NAME) repeatedly.
// Prints p50/p99 per operation and the PostgreSQL/SQLite ratios. Needs root (runc prepares the
// image) and the postgresql package.
//   node bin/run-ts.mjs bench/store.ts [--services 500] [--lists 20] [--describes 200]
import { parseArgs } from 'node:util';
import { pushHttpdImage } from '../test/helpers/images.ts';
import { startPostgres, type PostgresServer } from '../test/helpers/postgres.ts';
import { SkiffClient } from '../src/api/client.ts';
import { intFlag, median, pct } from './lib/measure.ts';
import { Cleanups, startIdleDaemon } from './lib/idle-daemon.ts';

const { values } = parseArgs({ options: { services: { type: 'string', default: '500' }, lists: { type: 'string', default: '20' }, describes: { type: 'string', default: '200' } } });
const services = intFlag(values.services, '--services');
const lists = intFlag(values.lists, '--lists');
const describes = intFlag(values.describes, '--describes');
const TAG = process.pid.toString(16);
const net = { driver: 'runc' as const, bridge: `skst-${TAG}`.slice(0, 15), subnet: `10.212.${process.pid % 250}.0/24`, chainPrefix: `SKST-${TAG}`, egress: false, writableLayerBytes: 512 * 1024 ** 2 };

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

interface Result {
  store: string;
  deploy: number[];
  list: number[];
  describe: number[];
}

const cleanups = new Cleanups();

async function measure(store: string, storeUrl: string): Promise<Result> {
  const { daemon, stop } = await startIdleDaemon(`store-${store}`, net, cleanups, { SKIFF_STORE_URL: storeUrl });
  const client = new SkiffClient({ baseUrl: daemon.url, token: daemon.token });
  const image = (await pushHttpdImage({ url: daemon.url, token: daemon.token }, 'bench/store', 'v1')).reference;
  const result: Result = { store, deploy: [], list: [], describe: [] };
  for (let i = 0; i < services; i++) result.deploy.push(await timed(() => client.deploy({ name: `svc-${i}`, image })));
  for (let i = 0; i < lists; i++) result.list.push(await timed(() => client.listServices()));
  for (let i = 0; i < describes; i++) result.describe.push(await timed(() => client.service(`svc-${i % services}`)));
  const listed = (await client.listServices()).services.length;
  if (listed !== services) throw new Error(`${store}: listed ${listed} services, deployed ${services}`);
  await stop();
  return result;
}

let pg: PostgresServer | undefined;
try {
  pg = await startPostgres({ durable: true });
  cleanups.push(() => pg!.stop());
  const runs = [await measure('sqlite', ''), await measure('postgres', await pg.createDatabase())];
  const fmt = (ms: number) => ms.toFixed(ms < 10 ? 2 : 1).padStart(8);
  console.log(`\n${services} services; ms per operation (p50 / p99), one client at a time`);
  console.log(`${'store'.padEnd(10)} ${'deploy p50'.padStart(10)} ${'p99'.padStart(8)} ${'total s'.padStart(8)} ${'list p50'.padStart(9)} ${'p99'.padStart(8)} ${'describe'.padStart(9)} ${'p99'.padStart(8)}`);
  for (const r of runs) {
    const total = r.deploy.reduce((a, b) => a + b, 0) / 1000;
    console.log(`${r.store.padEnd(10)} ${fmt(median(r.deploy)).padStart(10)} ${fmt(pct(r.deploy, 99))} ${total.toFixed(1).padStart(8)} ${fmt(median(r.list)).padStart(9)} ${fmt(pct(r.list, 99))} ${fmt(median(r.describe)).padStart(9)} ${fmt(pct(r.describe, 99))}`);
  }
  const [sqlite, postgres] = runs as [Result, Result];
  const ratio = (k: 'deploy' | 'list' | 'describe') => (median(postgres[k]) / median(sqlite[k])).toFixed(2);
  console.log(`store: PostgreSQL/SQLite p50 — deploy ${ratio('deploy')}×, list of ${services} ${ratio('list')}×, describe ${ratio('describe')}×`);
} finally {
  await cleanups.run();
}
