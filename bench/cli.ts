// bench/cli: how fast the `skiff` command starts, against docker's and podman's clients and Node
// itself, in one run: `skiff --version` vs `docker --version` / `podman --version` / `node -e 0`, and
// `skiff ls` (one API round trip to a daemon started in this process, as tests start one) vs `podman ps`
// (podman reads its own store; it has no daemon). Skiff runs as users run it: bin/skiff.mjs, the
// compiled dist/ (`npm run build` first; this bench builds it), and, for comparison, from source
// (SKIFF_FROM_SOURCE=1: tsx compiling the TypeScript at start, as before issue 11). Interleaved rounds
// after one untimed warm-up each; prints medians and the ratios Skiff/peer (below 1 = Skiff is faster).
//
//   node bin/run-ts.mjs bench/cli.ts [--rounds 15]
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startTestDaemon } from '../test/helpers/daemon.ts';
import { intFlag, median, timedCommand } from './lib/measure.ts';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '15' } } });
const rounds = intFlag(args.rounds, '--rounds');
const ROOT = path.resolve(import.meta.dirname, '..');
const SKIFF = path.join(ROOT, 'bin/skiff.mjs');

const built = spawnSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { stdio: 'inherit' });
if (built.status !== 0) throw new Error('scripts/build.mjs failed');

const cleanups: Array<() => unknown> = [];
const d = await startTestDaemon({ after: (fn: () => unknown) => void cleanups.push(fn) });
try {
  const env = { ...process.env, SKIFF_TOKEN: d.token, SKIFF_API: d.url };
  const fromSource = { ...env, SKIFF_FROM_SOURCE: '1' };
  const sides: Record<string, [string, string[], NodeJS.ProcessEnv?]> = {
    'skiff --version': [process.execPath, [SKIFF, '--version'], env],
    'skiff --version (source, tsx)': [process.execPath, [SKIFF, '--version'], fromSource],
    'docker --version': ['/usr/bin/docker', ['--version']],
    'podman --version': ['podman', ['--version']],
    'node -e 0': [process.execPath, ['-e', '0']],
    'skiff ls': [process.execPath, [SKIFF, 'ls'], env],
    'skiff ls (source, tsx)': [process.execPath, [SKIFF, 'ls'], fromSource],
    'podman ps': ['podman', ['ps']],
  };
  const names = Object.keys(sides);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) await timedCommand(...sides[n]!); // warm-up: page cache, podman's store
  for (let r = 0; r < rounds; r++) {
    // rotate the order so no side always runs right after the same other one
    for (let i = 0; i < names.length; i++) {
      const n = names[(i + r) % names.length]!;
      times[n]!.push(await timedCommand(...sides[n]!));
    }
  }
  const m = Object.fromEntries(names.map((n) => [n, median(times[n]!)]));
  console.log(`cli bench: ${rounds} rounds, medians of wall time per command (ms)`);
  for (const n of names) console.log(`  ${n.padEnd(32)} ${m[n]!.toFixed(0).padStart(6)}`);
  const ratio = (a: string, b: string) => console.log(`  ${`${a} / ${b}`.padEnd(52)} ${(m[a]! / m[b]!).toFixed(2)}`);
  console.log('ratios (below 1: Skiff is faster)');
  ratio('skiff --version', 'docker --version');
  ratio('skiff --version', 'podman --version');
  ratio('skiff --version', 'node -e 0');
  ratio('skiff --version', 'skiff --version (source, tsx)');
  ratio('skiff ls', 'podman ps');
  ratio('skiff ls', 'skiff ls (source, tsx)');
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
