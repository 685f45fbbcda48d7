#!/usr/bin/env node
// `npm run build` (also run by `npm ci`/`npm install` as `prepare`, by `npm start` and by `npm test`):
// compiles the CLI and the daemon to JavaScript in dist/ with esbuild, so `skiff` starts as plain
// Node instead of compiling TypeScript with tsx at every start (see docs/benchmarks.md "CLI start").
// One ES module, dist/cli.mjs, plus chunks: each subcommand and the daemon (`skiff up`) are chunks of
// their own, loaded only when used (cli/main.ts).
// npm packages stay external (node_modules is there at run time; better-sqlite3 is native).
// Then the dashboard (scripts/build-web.mjs): web/ bundled for the browser into dist/web/, which the
// daemon serves at / (docs/dashboard.md).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { buildDashboard, describe, BUDGET_BYTES } from './build-web.mjs';

const root = path.resolve(import.meta.dirname, '..');
const out = path.join(root, 'dist');
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: { cli: 'src/daemon/entry.ts' },
  outdir: out,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  // core/version.ts reads package.json relative to its source file when this is not defined
  define: { SKIFF_BUILD_VERSION: JSON.stringify(version) },
  sourcemap: 'linked',
  logLevel: 'warning',
});
// files the code finds next to itself (new URL('./x', import.meta.url)): in dist/ they sit beside the chunks
// (the module using it may land in the entry or in a chunk, so both places)
for (const asset of ['src/runtime/runc/supervisor.pl']) {
  for (const dir of [out, path.join(out, 'chunks')]) copyFileSync(path.join(root, asset), path.join(dir, path.basename(asset)));
}

const dashboard = await buildDashboard({ root, out });
// the budget is a test's to enforce (test/web/dashboard-serving.test.ts); an install does not fail on it
(dashboard.gzipBytes > BUDGET_BYTES ? console.warn : console.log)(describe(dashboard));
