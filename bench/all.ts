// bench/all: `npm run bench` — every benchmark in turn with its defaults (each against its named peer,
// in the same run), its output passed through, and at the end the last line of each: its ratio or
// headline. One after another, never in parallel: they would measure each other.
//
//   node bin/run-ts.mjs bench/all.ts [--only cold-start,gateway]
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';

const BENCHES = ['registry', 'unpack', 'instance-start', 'run', 'cold-start', 'gateway', 'tls', 'bridge', 'scale-up', 'density', 'store', 'dashboard-first-paint', 'cluster'];

const { values: args } = parseArgs({ options: { only: { type: 'string' } } });
const chosen = args.only ? args.only.split(',').map((s) => s.trim()) : BENCHES;
const unknown = chosen.filter((b) => !BENCHES.includes(b));
if (unknown.length > 0) {
  console.error(`unknown bench ${unknown.join(', ')}; one of ${BENCHES.join(', ')}`);
  process.exit(2);
}

const root = path.resolve(import.meta.dirname, '..');
const results: Array<{ bench: string; last: string; ok: boolean }> = [];
for (const bench of chosen) {
  console.log(`\n=== bench/${bench}.ts ===`);
  const result = await new Promise<{ last: string; ok: boolean }>((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'bin/run-ts.mjs'), path.join(root, `bench/${bench}.ts`)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let tail = '';
    child.stdout.on('data', (b: Buffer) => {
      process.stdout.write(b);
      tail = (tail + b.toString()).slice(-4096);
    });
    child.on('close', (code) => resolve({ last: tail.trim().split('\n').at(-1) ?? '', ok: code === 0 }));
  });
  results.push({ bench, ...result });
}

console.log('\n=== summary (each bench\'s last line) ===');
for (const r of results) console.log(`${r.bench.padEnd(15)} ${r.ok ? r.last : `FAILED (see its output above)`}`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
