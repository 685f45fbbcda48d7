// bench/registry: Skiff's registry vs CNCF distribution 2.8 (Debian `docker-registry`) on the same
// machine in the same run. Pushes and pulls one ~200 MiB multi-layer image with skopeo, R rounds,
// interleaved (the order of the two registries alternates every round) after one uncounted warm-up
// round, and prints per-round wall times and server CPU seconds, median throughput, and last the ratio
// Skiff/distribution (above 1 means Skiff is faster).
//
//   node bin/run-ts.mjs bench/registry.ts [--rounds 5] [--warmup 1] [--size-mb 200] [--cache-dir DIR]
//
// Each push goes to a fresh repository and skopeo runs with an empty blob-info cache, so every layer
// is really uploaded (no "already exists", no cross-repository mount). MiB = 2^20 bytes throughout.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBenchImage, type BenchImage } from './lib/oci-image.ts';
import { startDistribution, startSkiff, type RunningRegistry } from './lib/registry-servers.ts';
import { cleanupOnExit } from './lib/process.ts';
import { intFlag, median } from './lib/measure.ts';

const MiB = 1024 * 1024;
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    'size-mb': { type: 'string', default: '200' },
    'cache-dir': { type: 'string', default: path.join(os.tmpdir(), 'skiff-bench-registry-cache') },
  },
});
const rounds = intFlag(args.rounds, '--rounds');
const sizeMiB = intFlag(args['size-mb'], '--size-mb');
const warmup = intFlag(args.warmup, '--warmup', 0);

const workDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-registry-'));
const servers: RunningRegistry[] = [];
let running: ChildProcess | undefined;
let cleaned = false;
function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  running?.kill('SIGKILL');
  for (const s of servers) s.stop();
  // Retries: a just-killed child may still be finishing a file write inside it.
  rmSync(workDir, { recursive: true, force: true, maxRetries: 5 });
}
cleanupOnExit(cleanup);

/** Wall seconds of each skopeo copy, and CPU seconds the server spent during it. */
interface Sample { push: number; pull: number; pushCpu: number; pullCpu: number }

async function main(): Promise<void> {
  const image = await ensureBenchImage(args['cache-dir']!, sizeMiB);
  console.log(`image: ${image.layers} gzip'd layers of random data, ${(image.totalBytes / MiB).toFixed(1)} MiB, layout ${image.layoutDir}`);
  const policy = path.join(workDir, 'policy.json');
  writeFileSync(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));

  servers.push(await startSkiff(workDir), await startDistribution(workDir));
  const samples = new Map<string, Sample[]>(servers.map((s) => [s.name, []]));
  for (let round = 1 - warmup; round <= rounds; round++) {
    const order = round % 2 === 1 ? servers : [...servers].reverse();
    for (const reg of order) {
      const sample = await pushPull(reg, image, policy, round);
      if (round > 0) samples.get(reg.name)!.push(sample);
      console.log(
        `${round > 0 ? `round ${round}` : 'warm-up'}  ${reg.name.padEnd(12)}` +
          `  push ${sample.push.toFixed(2)} s (${mibps(image, sample.push)} MiB/s, server cpu ${sample.pushCpu.toFixed(2)} s)` +
          `  pull ${sample.pull.toFixed(2)} s (${mibps(image, sample.pull)} MiB/s, server cpu ${sample.pullCpu.toFixed(2)} s)`,
      );
    }
  }

  const medians = new Map([...samples].map(([name, s]) => {
    const m = (key: keyof Sample) => median(s.map((x) => x[key]));
    return [name, { push: m('push'), pull: m('pull'), pushCpu: m('pushCpu'), pullCpu: m('pullCpu') }];
  }));
  console.log(`\nmedians over ${rounds} round(s):`);
  console.log(`  ${'registry'.padEnd(14)}${'push MiB/s'.padStart(12)}${'pull MiB/s'.padStart(12)}${'push cpu s'.padStart(12)}${'pull cpu s'.padStart(12)}`);
  for (const [name, m] of medians) {
    const cells = [mibps(image, m.push), mibps(image, m.pull), m.pushCpu.toFixed(2), m.pullCpu.toFixed(2)];
    console.log(`  ${name.padEnd(14)}${cells.map((c) => c.padStart(12)).join('')}`);
  }
  const skiff = medians.get('skiff')!;
  const dist = medians.get('distribution')!;
  // Throughput ratio = inverse time ratio: above 1.00 means Skiff moved the image faster.
  console.log(`ratio skiff/distribution: push ${(dist.push / skiff.push).toFixed(2)}x  pull ${(dist.pull / skiff.pull).toFixed(2)}x`);
}

async function pushPull(reg: RunningRegistry, image: BenchImage, policy: string, round: number): Promise<Sample> {
  const ref = `docker://${reg.host}/bench/r${round + warmup}-${reg.name}:latest`;
  const creds = (flag: string) => (reg.creds ? [flag, reg.creds] : []);
  const cpu0 = reg.cpuSeconds();
  const push = await skopeo(['--policy', policy, 'copy', '--dest-tls-verify=false', ...creds('--dest-creds'), `oci:${image.layoutDir}:bench`, ref]);
  const cpu1 = reg.cpuSeconds();
  const pullDir = path.join(workDir, `pull-${reg.name}-${round + warmup}`);
  const pull = await skopeo(['--policy', policy, 'copy', '--src-tls-verify=false', ...creds('--src-creds'), ref, `oci:${pullDir}:bench`]);
  const cpu2 = reg.cpuSeconds();
  rmSync(pullDir, { recursive: true, force: true });
  return { push, pull, pushCpu: cpu1 - cpu0, pullCpu: cpu2 - cpu1 };
}

/** Runs skopeo and returns its wall time in seconds. */
async function skopeo(argv: string[]): Promise<number> {
  // A nonzero "rootless" uid makes skopeo keep its blob-info cache under XDG_DATA_HOME instead of
  // /var/lib/containers; a fresh one per run means it knows no other repository to mount blobs from.
  const xdg = mkdtempSync(path.join(workDir, 'xdg-'));
  const env = { ...process.env, _CONTAINERS_ROOTLESS_UID: '1000', XDG_DATA_HOME: xdg, HOME: xdg };
  const started = process.hrtime.bigint();
  const child = spawn('skopeo', argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  running = child;
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (err) => reject(new Error(`cannot run skopeo (Debian package skopeo): ${err.message}`)));
    child.once('exit', resolve);
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  running = undefined;
  rmSync(xdg, { recursive: true, force: true });
  if (code !== 0) throw new Error(`skopeo ${argv.slice(2).join(' ')} failed (${code}):\n${stderr}`);
  return seconds;
}

function mibps(image: BenchImage, seconds: number): string {
  return (image.totalBytes / MiB / seconds).toFixed(1);
}



main().then(
  () => cleanup(),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    cleanup();
    process.exitCode = 1;
  },
);
