// bench/unpack: Skiff's layer unpack (LayerCache.ensureImage: digest + diffID check, hostile-entry
// checks, parallel layers, one syncfs per layer) vs `umoci unpack` (Debian `umoci`) on the same ~200 MiB
// image, R rounds interleaved (the order alternates every round) after one uncounted warm-up round.
// Prints per-round times, median MiB/s of uncompressed layer bytes, and last the ratio Skiff/umoci
// (above 1 means Skiff is faster).
//
//   node bin/run-ts.mjs bench/unpack.ts [--rounds 3] [--size-mb 200] [--cache-dir DIR]
//
// The image is built once by umoci itself (`umoci insert`, one layer per tree) from generated trees of
// many small and medium files, half random (incompressible) and half text-like, and cached by size.
// umoci applies the layers into one rootfs and writes an mtree manifest; Skiff unpacks each layer into
// its own cache directory. Both read warm blobs from the page cache. Needs root (ownership, mknod).
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LayerCache } from '../src/images/layer-cache.ts';

const MiB = 1024 * 1024;
const LAYERS = 4;
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    'size-mb': { type: 'string', default: '200' },
    'cache-dir': { type: 'string', default: path.join(os.tmpdir(), 'skiff-bench-unpack-cache') },
  },
});
const rounds = Number(args.rounds);
const sizeMiB = Number(args['size-mb']);
if (!(rounds >= 1 && sizeMiB >= 1)) throw new Error('--rounds and --size-mb must be positive numbers');

function run(cmd: string, argv: string[]): void {
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.error || r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: ${r.error?.message ?? r.stderr.toString()} (apt-get install ${cmd})`);
}

const WORDS = Array.from({ length: 512 }, () => randomBytes(3 + (randomBytes(1)[0]! % 6)).toString('base64url'));
function textLike(bytes: number): Buffer {
  const parts: string[] = [];
  let n = 0;
  while (n < bytes) {
    const w = WORDS[Math.floor(Math.random() * WORDS.length)]!;
    parts.push(w);
    n += w.length + 1;
  }
  return Buffer.from(parts.join(' ').slice(0, bytes));
}

/** Builds (once) an OCI layout with LAYERS layers of ~sizeMiB/LAYERS MiB each; returns its path. */
function ensureImage(cacheDir: string): string {
  const layout = path.join(cacheDir, `image-${sizeMiB}mib`);
  if (existsSync(path.join(layout, 'index.json'))) return layout;
  const tmp = `${layout}.tmp-${process.pid}`;
  const trees = `${layout}.trees-${process.pid}`;
  run('umoci', ['init', '--layout', tmp]);
  run('umoci', ['new', '--image', `${tmp}:bench`]);
  for (let l = 0; l < LAYERS; l++) {
    const tree = path.join(trees, `l${l}`);
    let left = (sizeMiB * MiB) / LAYERS;
    for (let i = 0; left > 0; i++) {
      const dir = path.join(tree, `d${i % 40}`, `s${i % 7}`);
      mkdirSync(dir, { recursive: true });
      const size = Math.min(left, 1024 + Math.floor(Math.random() * 160 * 1024));
      writeFileSync(path.join(dir, `f${i}`), i % 2 ? randomBytes(size) : textLike(size));
      left -= size;
    }
    run('umoci', ['insert', '--image', `${tmp}:bench`, tree, `/layer${l}`]);
  }
  rmSync(trees, { recursive: true, force: true });
  rmSync(layout, { recursive: true, force: true });
  spawnSync('mv', [tmp, layout]);
  return layout;
}

function blobPath(layout: string, digest: string): string {
  return path.join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length));
}

const cacheDir = args['cache-dir']!;
mkdirSync(cacheDir, { recursive: true });
const layout = ensureImage(cacheDir);
const index = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
const manifest = JSON.parse(readFileSync(blobPath(layout, index.manifests[0]!.digest), 'utf8')) as { layers: { digest: string }[] };
const layers = manifest.layers.map((l) => l.digest);
const work = mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-unpack-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

let uncompressed = 0;
async function skiff(round: number): Promise<number> {
  const dir = path.join(work, `skiff-${round}`);
  const cache = new LayerCache({ dir, blobs: { open: async (d) => createReadStream(blobPath(layout, d)) } });
  await cache.init();
  const t0 = performance.now();
  const unpacked = await cache.ensureImage(layers);
  const ms = performance.now() - t0;
  uncompressed = unpacked.reduce((n, l) => n + l.size, 0);
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

async function umoci(round: number): Promise<number> {
  const bundle = path.join(work, `umoci-${round}`);
  const t0 = performance.now();
  run('umoci', ['unpack', '--image', `${layout}:bench`, bundle]);
  const ms = performance.now() - t0;
  rmSync(bundle, { recursive: true, force: true });
  return ms;
}

const times = { skiff: [] as number[], umoci: [] as number[] };
for (let r = 0; r <= rounds; r++) {
  const order = r % 2 ? (['umoci', 'skiff'] as const) : (['skiff', 'umoci'] as const);
  for (const who of order) {
    const ms = who === 'skiff' ? await skiff(r) : await umoci(r);
    if (r === 0) continue; // warm-up
    times[who].push(ms);
    console.log(`round ${r} ${who.padEnd(5)} ${(ms / 1000).toFixed(2)} s`);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mibps = (ms: number): number => uncompressed / MiB / (ms / 1000);
console.log(`image: ${layers.length} layers, ${(uncompressed / MiB).toFixed(1)} MiB uncompressed tar; ${os.cpus().length} cpus, ${os.cpus()[0]?.model}`);
console.log(`skiff median ${mibps(median(times.skiff)).toFixed(1)} MiB/s, umoci median ${mibps(median(times.umoci)).toFixed(1)} MiB/s`);
console.log(`ratio skiff/umoci ${(median(times.umoci) / median(times.skiff)).toFixed(2)}`);
