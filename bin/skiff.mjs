#!/usr/bin/env node
// The `skiff` command. Runs the compiled CLI (dist/cli.mjs, made by `npm run build`, which `npm ci`,
// `npm start` and `npm test` run) so a command starts as plain Node; without a build, or with
// SKIFF_FROM_SOURCE=1 (while editing src/), it registers the tsx loader and runs the TypeScript sources.
// `skiff up` (the daemon) goes through the same entry, src/daemon/entry.ts.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli.mjs', import.meta.url);
if (existsSync(compiled) && !process.env.SKIFF_FROM_SOURCE) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/daemon/entry.ts');
}
