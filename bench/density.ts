// bench/density: what idle services cost. Deploys N scaled-to-zero services (one image, so layers
// are cached after the first) to a child `skiff up`, then measures the daemon's RSS and its CPU use
// over an idle period — the platform's overhead when nothing is being served.
//   node bin/run-ts.mjs bench/density.ts [--services 500] [--idle-seconds 20]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startChildDaemon } from '../test/helpers/child-daemon.ts';
import { pushHttpdImage } from '../test/helpers/images.ts';
import { SkiffClient } from '../src/api/client.ts';

const { values } = parseArgs({ options: { services: { type: 'string', default: '500' }, 'idle-seconds': { type: 'string', default: '20' } } });
const services = Number(values.services);
const idleSeconds = Number(values['idle-seconds']);
const TICKS_PER_SECOND = 100; // Linux USER_HZ

function rssMiB(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return kb / 1024;
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-density-'));
const daemon = await startChildDaemon(dataDir, { SKIFF_RUNTIME_EGRESS: 'false' });
const pid = daemon.proc.pid!;
const client = new SkiffClient({ baseUrl: daemon.url, token: daemon.token });
try {
  const baseline = rssMiB(pid);
  const image = await pushHttpdImage(daemon, 'bench/density', 'v1');
  const t0 = performance.now();
  for (let i = 0; i < services; i++) await client.deploy({ name: `svc-${i}`, image: image.reference });
  const deploySeconds = (performance.now() - t0) / 1000;
  // Let the pre-created pool (bounded node-wide by coldStart.poolMax) fill before measuring idle.
  await new Promise((r) => setTimeout(r, 15_000));
  const cpu0 = cpuSeconds(pid);
  const idle0 = performance.now();
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  const cpuPct = ((cpuSeconds(pid) - cpu0) / ((performance.now() - idle0) / 1000)) * 100;
  const rss = rssMiB(pid);
  console.log(`${services} services deployed in ${deploySeconds.toFixed(1)} s (${((deploySeconds * 1000) / services).toFixed(1)} ms each)`);
  console.log(`daemon RSS: ${baseline.toFixed(0)} MiB empty, ${rss.toFixed(0)} MiB with ${services} idle services (${(((rss - baseline) * 1024) / services).toFixed(1)} KiB each)`);
  console.log(`daemon CPU while idle: ${cpuPct.toFixed(2)} % of one core over ${idleSeconds} s`);
} finally {
  // Instances (pre-created or running) outlive a daemon by design: delete the services first.
  for (const svc of (await client.listServices()).services) await client.deleteService(svc.name);
  await new Promise((r) => setTimeout(r, 5000));
  daemon.proc.kill('SIGTERM');
  await daemon.exited;
  rmSync(dataDir, { recursive: true, force: true });
}
