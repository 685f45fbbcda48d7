// bench/scale-up: a step from zero to sustained load. A busybox-httpd service scaled to zero
// (concurrency 10 per instance) gets `wrk` at C connections on a slow CGI path; the script records
// when the 1st, 2nd, … instance became ready, and wrk's throughput and errors (the goal is 0 errors).
//   node bin/run-ts.mjs bench/scale-up.ts [--connections 50] [--seconds 20] [--delay 0.05]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startChildDaemon } from '../test/helpers/child-daemon.ts';
import { pushHttpdImage } from '../test/helpers/images.ts';
import { SkiffClient } from '../src/api/client.ts';

const { values } = parseArgs({ options: { connections: { type: 'string', default: '50' }, seconds: { type: 'string', default: '20' }, delay: { type: 'string', default: '0.05' } } });
const connections = Number(values.connections);
const seconds = Number(values.seconds);

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-scaleup-'));
const daemon = await startChildDaemon(dataDir, { SKIFF_RUNTIME_EGRESS: 'false' });
const client = new SkiffClient({ baseUrl: daemon.url, token: daemon.token });
const cleanup = async () => {
  await client.deleteService('step').catch(() => {});
  for (let i = 0; i < 100 && (await client.listServices()).services.length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 2000));
  daemon.proc.kill('SIGTERM');
  await daemon.exited;
  rmSync(dataDir, { recursive: true, force: true });
};
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

try {
  const image = await pushHttpdImage(daemon, 'bench/step', 'v1');
  await client.deploy({ name: 'step', image: image.reference, scaling: { concurrency: 10, max: 20, window: '10s' } });
  const url = `${daemon.gatewayUrl}/s/step/cgi-bin/slow?${values.delay}`;
  const t0 = performance.now();
  const readyAt: number[] = [];
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const s = await client.service('step');
      const ready = s.revisions.flatMap((r) => r.instances).filter((i) => i.phase === 'ready').length;
      while (readyAt.length < ready) readyAt.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const wrk = spawn('wrk', ['-t2', `-c${connections}`, `-d${seconds}s`, '--latency', url]);
  let out = '';
  wrk.stdout.on('data', (b: Buffer) => (out += b));
  await new Promise((r) => wrk.once('exit', r));
  polling = false;
  await poll;
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1];
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const sockErr = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = sockErr ? sockErr.slice(1).reduce((a, v) => a + Number(v), 0) : 0;
  const p50 = /50%\s+(\S+)/.exec(out)?.[1];
  const p99 = /99%\s+(\S+)/.exec(out)?.[1];
  console.log(`wrk -c${connections} -d${seconds}s on /cgi-bin/slow?${values.delay}, concurrency 10 per instance`);
  console.log(`instances ready at (ms after the step): ${readyAt.map((t) => t.toFixed(0)).join(', ')}`);
  console.log(`requests/s ${rps}  latency p50 ${p50} p99 ${p99}`);
  console.log(`errors: non-2xx ${non2xx}, socket ${socketErrors}`);
  console.log(`time to ${readyAt.length} instances: ${(readyAt.at(-1) ?? NaN).toFixed(0)} ms; errors ${non2xx + socketErrors}`);
} finally {
  await cleanup();
}
