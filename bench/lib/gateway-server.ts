// bench/lib/gateway-server: Skiff's Gateway alone, for bench/gateway.ts. One static route (Host
// "127.0.0.1", any port) to one revision with one endpoint, the backend given on the command line; no
// daemon, store or containers. Prints "listening PORT" once every process listens.
// --workers N > 1 forks N node:cluster workers sharing the port, each with its own Gateway (its own
// pool and counters: fine here, the route has no concurrency limit; see docs/benchmarks.md for what
// the activator would need).
//
// --slow-path turns the raw fast path off (every connection on the node:http path), for comparison.
//
//   node bin/run-ts.mjs bench/lib/gateway-server.ts --backend 127.0.0.1:PORT [--port 0] [--workers 1] [--slow-path]
import cluster from 'node:cluster';
import { once } from 'node:events';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Gateway } from '../../src/gateway/gateway.ts';
import { silentLogger } from '../../src/core/logger.ts';

const { values: args } = parseArgs({
  options: { backend: { type: 'string' }, port: { type: 'string', default: '0' }, workers: { type: 'string', default: '1' }, 'slow-path': { type: 'boolean', default: false } },
});
const [host, port] = (args.backend ?? '').split(':');
if (!host || !port) throw new Error('--backend HOST:PORT is required');
const workers = Number(args.workers);

async function serve(listenPort: number): Promise<number> {
  const gw = new Gateway({ requestCapacity: () => {} }, silentLogger, { fastPath: !args['slow-path'] });
  gw.setRevision('bench-1', { concurrency: 0, queueLimit: 10_000, timeoutMs: 30_000 });
  gw.setEndpoints('bench-1', [{ id: 'backend', host: host!, port: Number(port) }]);
  gw.setRoutes([{ service: 'bench', hosts: ['127.0.0.1'], targets: [{ revision: 'bench-1', percent: 100 }] }]);
  process.once('SIGTERM', () => void gw.close().then(() => process.exit(0)));
  return (await gw.listen('127.0.0.1', listenPort)).port;
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
