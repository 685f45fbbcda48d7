// Fences are tests: each module under src/ may import only the modules DESIGN.md allows.
// Type-only imports count too: a module boundary is about knowledge, not just runtime code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const ALLOWED: Record<string, string[]> = {
  core: [],
  config: ['core'],
  store: ['core'],
  registry: ['core', 'store'],
  images: ['core'],
  runtime: ['core'],
  autoscaler: ['core'],
  scheduler: ['core'],
  gateway: ['core'],
  triggers: ['core'],
  metering: ['core', 'store'],
  // the API exposes ports; it reads principal types from store and the settings shape from config
  api: ['core', 'store', 'config'],
  daemon: ['*'],
  // the CLI talks to the daemon only through the API client; `up` is the one command that starts the daemon
  cli: ['core', 'api', 'config', 'daemon'],
};

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function importsOf(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm), ...src.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!);
}

test('every src module imports only what DESIGN.md allows', () => {
  const violations: string[] = [];
  for (const file of walk('src')) {
    const module = file.split(path.sep)[1]!;
    const allowed = ALLOWED[module];
    assert.ok(allowed, `src/${module} is not in the module table of DESIGN.md (add it there and here)`);
    for (const spec of importsOf(file)) {
      if (!spec.startsWith('.')) continue;
      const target = path.relative('src', path.resolve(path.dirname(file), spec)).split(path.sep)[0]!;
      if (target === module || allowed.includes('*') || allowed.includes(target)) continue;
      violations.push(`${file} imports ${spec} (module ${target})`);
    }
  }
  assert.deepEqual(violations, []);
});

test('the gateway hot path stays free of heavy dependencies', () => {
  const heavy = ['better-sqlite3', 'fastify', 'pino', 'yaml', 'commander'];
  const files = (() => {
    try {
      return walk('src/gateway');
    } catch {
      return [];
    }
  })();
  for (const file of files) {
    for (const spec of importsOf(file)) assert.ok(!heavy.includes(spec), `${file} imports ${spec}`);
  }
});
