#!/usr/bin/env node
// `npm test`: builds dist/ (scripts/build.mjs), type-checks (src and test, then web/), then runs every test/**/*.test.ts under node:test (one process per file,
// as node --test does). Node 20's --test has no glob support, so the file list is built here.
// Pass file paths or substrings to run a subset: `npm test -- registry`.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.ts') ? [p] : [];
  });
}

const filters = process.argv.slice(2);
const files = walk('test').sort().filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
// The CLI tests run bin/skiff.mjs as a user would: the compiled dist/, so build it from these sources.
const built = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
if (built.status !== 0) { console.error('build failed'); process.exit(1); }
if (filters.length === 0) {
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.', '--noEmit'], { stdio: 'inherit' });
  if (tsc.status !== 0) { console.error('typecheck failed'); process.exit(1); }
  // the dashboard (browser code, its own compiler options)
  const tscWeb = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'web', '--noEmit'], { stdio: 'inherit' });
  if (tscWeb.status !== 0) { console.error('typecheck of web/ failed'); process.exit(1); }
}
// Two files at a time: most files wait on processes, brokers, timers and the network far more than
// they compute, so on this 2-core machine the suite takes much less time with two in flight
// (README, "Tests": the measured figures). A file whose assertions depend on having the machine to itself
// (CPU-time measurements, autoscaling on CPU, the keep-alive's timings, kill -9 at a chosen instant,
// churn whose cleanup is timed) is listed in EXCLUSIVE and runs after the others, alone.
const EXCLUSIVE = [
  'test/metering/accuracy.test.ts',
  'test/metering/durability.test.ts',
  'test/security/lifecycle.test.ts',
  'test/serving/job-crash.test.ts',
  'test/serving/metric-scaling.test.ts',
  'test/serving/warm.test.ts',
];
const concurrency = process.env.SKIFF_TEST_CONCURRENCY ?? '2';
const exclusive = (f) => EXCLUSIVE.some((e) => f.startsWith(e));
const lanes = [
  { files: files.filter((f) => !exclusive(f)), concurrency },
  { files: files.filter(exclusive), concurrency: '1' },
].filter((l) => l.files.length > 0);
let status = 0;
for (const lane of lanes) {
  if (lanes.length > 1) console.log(`\n# ${lane.files.length} test files, ${lane.concurrency} at a time\n`);
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', `--test-concurrency=${lane.concurrency}`, '--test-reporter=spec', ...lane.files],
    { stdio: 'inherit' },
  );
  if (run.status !== 0) status = run.status ?? 1;
}
process.exit(status);
