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
const concurrency = process.env.SKIFF_TEST_CONCURRENCY ?? '1';
const run = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(run.status ?? 1);
