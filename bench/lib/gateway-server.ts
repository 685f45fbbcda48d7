// bench/lib/gateway-server: Skiff's Gateway alone, for bench/gateway.ts. One static route (Host
// "127.0.0.1", any port) to one revision with one endpoint, the backend given on the command line; no
// daemon, store or containers. Prints "listening PORT" once every process listens.
// --workers N > 1 forks N node:cluster workers sharing the port, each with its own Gateway (its own
// pool and counters: fine here, the route has no concurrency limit; see docs/benchmarks.md for what
// the activator would need).
//
// --slow-path turns the raw fast path off (every connection on the node:http path), for comparison.
// --metering counts per instance as a metering daemon does (requests, busy spells rounded to 100 ms,
// egress) and takes the counts once a second as the meter does (src/metering/meter.ts), for the
// metering on/off comparison of bench/gateway.ts.
//
// --tls-cert FILE --tls-key FILE (bench/tls.ts) also open the gateway's TLS port, with that certificate
// for --tls-host (default localhost) made a custom domain of the route's service, as `skiff domain add
// --cert --key` does; --h2-prototype adds an HTTP/2 TLS port (bench/lib/h2-prototype.ts). Then it
// prints "listening PORT tls PORT [h2 PORT]". One process only.
//
//   node bin/run-ts.mjs bench/lib/gateway-server.ts --backend 127.0.0.1:PORT [--port 0] [--workers 1] [--slow-path]
//        [--tls-cert FILE --tls-key FILE [--tls-host localhost] [--h2-prototype]]
import cluster from 'node:cluster';
import { once } from 'node:events';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Gateway } from '../../src/gateway/gateway.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { listenH2Prototype } from './h2-prototype.ts';
import { roundUpBusy } from '../../src/metering/billing.ts';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string' },
    port: { type: 'string', default: '0' },
    workers: { type: 'string', default: '1' },
    'slow-path': { type: 'boolean', default: false },
    metering: { type: 'boolean', default: false },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'tls-host': { type: 'string', default: 'localhost' },
    'h2-prototype': { type: 'boolean', default: false },
  },
});
const [host, port] = (args.backend ?? '').split(':');
if (!host || !port) throw new Error('--backend HOST:PORT is required');
const workers = Number(args.workers);
const tls = args['tls-cert'] && args['tls-key'] ? { chain: readFileSync(args['tls-cert'], 'utf8'), key: readFileSync(args['tls-key'], 'utf8') } : undefined;
if (tls && workers > 1) throw new Error('--tls-cert: one process only (--workers 1)');

async function serve(listenPort: number): Promise<number | string> {
  const gw = new Gateway({ requestCapacity: () => {} }, silentLogger, { fastPath: !args['slow-path'], ...(args.metering ? { roundBusy: roundUpBusy } : {}) });
  // the meter's once-a-second reading (its cgroup reads and store writes are off the gateway's process in effect: not here)
  if (args.metering) setInterval(() => { for (const pool of gw.revisionPools()) pool.takeUsage(); }, 1000).unref();
  gw.setRevision('bench-1', { concurrency: 0, queueLimit: 10_000, timeoutMs: 30_000 });
  gw.setEndpoints('bench-1', [{ id: 'backend', host: host!, port: Number(port) }]);
  gw.setRoutes([{ service: 'bench', hosts: ['127.0.0.1'], targets: [{ revision: 'bench-1', percent: 100 }] }]);
  process.once('SIGTERM', () => void gw.close().then(() => process.exit(0)));
  const plain = (await gw.listen('127.0.0.1', listenPort)).port;
  if (!tls) return plain;
  const domain = args['tls-host']!;
  gw.setDomains([{ host: domain, service: 'bench', redirectHttp: false }]);
  gw.certificates.set(domain, tls);
  const secure = (await gw.listenTls('127.0.0.1', 0)).port;
  const h2 = args['h2-prototype'] ? ` h2 ${await listenH2Prototype(gw, '127.0.0.1', 0)}` : '';
  return `${plain} tls ${secure}${h2}`;
}

if (workers <= 1) {
  console.log(`listening ${await serve(Number(args.port))}`);
} else if (cluster.isPrimary) {
  // Workers run this file again through the tsx loader, as this process was started.
  cluster.setupPrimary({ exec: path.join(import.meta.dirname, '../../bin/run-ts.mjs'), args: [import.meta.filename, ...process.argv.slice(2)] });
  // node:cluster shares one listening handle per (address, port): even port 0 is one port for all.
  const forked = Array.from({ length: workers }, () => cluster.fork());
  const [first] = await Promise.all(forked.map(async (w) => ((await once(w, 'message')) as [{ port: number }])[0]));
  process.once('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    process.exit(0);
  });
  console.log(`listening ${first!.port}`);
} else {
  process.send!({ port: await serve(Number(args.port)) });
}
