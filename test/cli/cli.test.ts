// The `skiff` command itself, run as a user runs it (bin/skiff.mjs → the compiled dist/cli.mjs, which
// `npm test` builds first): version, the lazy subcommand table, `skiff up --data-dir` after `up`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { VERSION } from '../../src/core/version.ts';
import { COMMANDS, MODULES, subcommandOf } from '../../src/cli/commands.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const skiff = (...args: string[]) => spawnSync(process.execPath, ['bin/skiff.mjs', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SKIFF_TOKEN: 'x' } });

test('skiff runs compiled: dist/cli.mjs exists and --version prints the package version', () => {
  assert.ok(existsSync(path.join(ROOT, 'dist/cli.mjs')), 'npm test builds dist/ (scripts/build.mjs)');
  const r = skiff('--version');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), VERSION);
});

test('the lazy subcommand table names exactly the commands the modules register', async () => {
  const program = new Command('skiff').enablePositionalOptions();
  for (const load of Object.values(MODULES)) (await load())(program);
  const registered = program.commands.map((c) => c.name()).sort();
  assert.deepEqual(Object.keys(COMMANDS).sort(), registered);
  assert.equal(subcommandOf(['--api', 'http://x', '--data-dir', '/d', 'ls', '-q']), 'ls');
  assert.equal(subcommandOf(['--version']), undefined);
});

test('help lists every subcommand; an unknown one fails naming it', () => {
  const help = skiff('--help');
  assert.equal(help.status, 0);
  for (const c of [...Object.keys(COMMANDS), 'up'].filter((c) => !c.startsWith('__'))) assert.match(help.stdout, new RegExp(`^  ${c}\\b`, 'm'), `${c} in --help`);
  const bad = skiff('deplyo');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /unknown command 'deplyo'/);
  assert.match(bad.stderr, /Did you mean deploy\?/);
});

test('skiff up --data-dir DIR (the option after `up`, as README writes it) uses DIR', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-up-dd-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const proc = spawn(process.execPath, ['bin/skiff.mjs', 'up', '--data-dir', dir, '--listen', '127.0.0.1:0', '--gateway', '127.0.0.1:0', '--log-level', 'warn'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (b: Buffer) => ((out += b), /gateway \(services\)/.test(out) && resolve());
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    void exited.then(() => reject(new Error(`skiff up exited:\n${out}`)));
  });
  assert.match(out, new RegExp(`data directory ${dir}\\n`));
  assert.ok(existsSync(path.join(dir, 'admin.token')));
  proc.kill('SIGTERM');
  assert.equal(await exited, 0, out);
});

test('deploy -f: a missing file, broken YAML or a non-mapping is one line naming the file, exit 1, no stack trace', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-cli-f-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'broken.yaml'), 'name: [\n');
  writeFileSync(path.join(dir, 'list.yaml'), '- name: a\n');
  const cases: Array<[string, RegExp]> = [
    [path.join(dir, 'missing.yaml'), /^skiff: error BAD_REQUEST: -f \S+missing\.yaml: cannot read it \(ENOENT\)\n$/],
    [path.join(dir, 'broken.yaml'), /^skiff: error BAD_REQUEST: -f \S+broken\.yaml: not valid YAML: .+ at line \d+, column \d+\n$/],
    [path.join(dir, 'list.yaml'), /^skiff: error BAD_REQUEST: -f \S+list\.yaml: expected a mapping of deploy fields/],
  ];
  for (const [file, message] of cases) {
    const r = skiff('--api', 'http://127.0.0.1:9', 'deploy', '-f', file);
    assert.equal(r.status, 1, file);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});
