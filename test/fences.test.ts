// Fences are tests: each module under src/ may import only the modules the module table of
// ../shared/DESIGN.md allows. The table is read from DESIGN.md itself, so the fence is exactly the
// design: its "may import" column, without the parenthesised remarks ("core (… through ports it
// declares)" allows core), "everything" for the composition root. Type-only imports count too: a
// module boundary is about knowledge, not just runtime code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const DESIGN = path.resolve('..', 'shared', 'DESIGN.md');

/** module → the modules it may import ('*' = any), from the "## Modules" table. */
export function moduleTable(markdown: string): Record<string, string[]> {
  const section = markdown.split(/^## /m).find((s) => s.startsWith('Modules'));
  assert.ok(section, 'DESIGN.md has a "## Modules" section');
  const rows = section
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|\s*-/.test(l))
    .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()))
    .slice(1); // the header row
  const modulesOf = (cell: string) => [...cell.matchAll(/`([a-z]+)\/?`/g)].map((m) => m[1]!);
  const known = new Set(rows.flatMap((r) => modulesOf(r[0]!)));
  const table: Record<string, string[]> = {};
  for (const [modules, , mayImport] of rows) {
    const plain = mayImport!.replace(/\([^)]*\)/g, ' ');
    const allowed = /\beverything\b/.test(plain) ? ['*'] : [...plain.matchAll(/[a-z]+/g)].map((m) => m[0]).filter((w) => known.has(w));
    for (const m of modulesOf(modules!)) table[m] = [...new Set(allowed)];
  }
  return table;
}

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

test('the module table is read from DESIGN.md as written', () => {
  assert.ok(existsSync(DESIGN), `${DESIGN} is missing: the fences follow the shared design`);
  const table = moduleTable(readFileSync(DESIGN, 'utf8'));
  // a few rows pinned, so a parser that reads nothing cannot pass the fence below
  assert.deepEqual(table.core, []);
  assert.deepEqual(table.registry, ['core', 'store']);
  assert.deepEqual(table.runtime, ['core', 'images']);
  assert.deepEqual(table.scheduler, ['core']);
  assert.deepEqual(table.api, ['core']);
  assert.deepEqual(table.cli, ['core', 'api']);
  assert.deepEqual(table.daemon, ['*']);
});

test('every src module imports only what DESIGN.md allows', () => {
  const table = moduleTable(readFileSync(DESIGN, 'utf8'));
  const violations: string[] = [];
  for (const file of walk('src')) {
    const module = file.split(path.sep)[1]!;
    const allowed = table[module];
    assert.ok(allowed, `src/${module} is not in the module table of DESIGN.md`);
    for (const spec of importsOf(file)) {
      if (!spec.startsWith('.')) continue;
      const target = path.relative('src', path.resolve(path.dirname(file), spec)).split(path.sep)[0]!;
      if (target === module || allowed.includes('*') || allowed.includes(target)) continue;
      violations.push(`${file} imports ${spec} (module ${target})`);
    }
  }
  assert.deepEqual(violations, []);
});

test('no import cycles inside src (a module reads top-down, and each file can be understood alone)', () => {
  const graph = new Map<string, string[]>();
  for (const file of walk('src')) {
    graph.set(file, importsOf(file).filter((s) => s.startsWith('.')).map((s) => path.relative('.', path.resolve(path.dirname(file), s))));
  }
  const cycles: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (file: string, trail: string[]): void => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'visiting') {
      cycles.push([...trail.slice(trail.indexOf(file)), file].join(' → '));
      return;
    }
    state.set(file, 'visiting');
    for (const next of graph.get(file) ?? []) visit(next, [...trail, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  assert.deepEqual(cycles, []);
});

test('the gateway hot path stays free of heavy dependencies', () => {
  const heavy = ['better-sqlite3', 'pg', 'kysely', 'fastify', 'pino', 'yaml', 'commander'];
  for (const file of walk('src/gateway')) {
    for (const spec of importsOf(file)) assert.ok(!heavy.includes(spec), `${file} imports ${spec}`);
  }
});

test('the dashboard (web/) reaches into src/ only as DESIGN.md’s `web/` row allows: core types and the api client', () => {
  const allowed = moduleTable(readFileSync(DESIGN, 'utf8')).web;
  assert.deepEqual(allowed, ['core', 'api']);
  const files = (function walkWeb(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
      const p = path.join(dir, name);
      return statSync(p).isDirectory() ? walkWeb(p) : /\.tsx?$/.test(p) ? [p] : [];
    });
  })('web/src');
  assert.ok(files.length > 0, 'web/src has sources');
  const violations: string[] = [];
  for (const file of files) {
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/^\s*(import|export)(\s+type)?\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
      const [, , typeOnly, spec] = m;
      const target = path.relative('.', path.resolve(path.dirname(file), spec!)).split(path.sep);
      if (!spec!.startsWith('.') || target[0] !== 'src') continue;
      const module = target[1]!;
      if (!allowed!.includes(module)) violations.push(`${file} imports ${spec} (module ${module})`);
      // core is node code (node:crypto…): the browser gets its types, never its code
      else if (module === 'core' && !typeOnly) violations.push(`${file} imports ${spec} without \`import type\``);
    }
  }
  assert.deepEqual(violations, []);
});
