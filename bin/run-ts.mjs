#!/usr/bin/env node
// Runs one TypeScript file (bench scripts, tools) with the tsx loader: `node bin/run-ts.mjs FILE [ARGS]`.
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
register();
const file = process.argv[2];
if (!file) { console.error('usage: run-ts.mjs FILE [ARGS...]'); process.exit(2); }
process.argv.splice(1, 2, path.resolve(file));
await import(pathToFileURL(path.resolve(file)).href);
