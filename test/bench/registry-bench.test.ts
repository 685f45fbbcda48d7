// test/bench/registry-bench: the registry benchmark runs end to end on a tiny image (both registries
// start, one interleaved round, a ratio line last) and leaves nothing behind, also when interrupted.
// It checks the script works, never its timings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireTool, run } from '../helpers/tools.ts';

const skip = requireTool('skopeo', 'skopeo') ?? requireTool('docker-registry', 'docker-registry');
// A bench whose cleanup is broken leaves servers holding its output pipes; time out instead of hanging.
const opts = { skip, timeout: 120_000 };
const BENCH = ['bin/run-ts.mjs', 'bench/registry.ts', '--size-mb', '8', '--warmup', '0'];

/** A private TMPDIR, so the test can see everything the bench created there. */
function tempRoot(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-test-'));
  t.after(() => {
    // Only reached with servers alive when the bench's own cleanup is broken: end them by pid.
    for (const pid of processesUsing(dir)) process.kill(Number(pid), 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Pids of live processes whose command line names `dir` (the servers' data and config live there). */
function processesUsing(dir: string): string[] {
  return readdirSync('/proc').filter((pid) => {
    if (!/^\d+$/.test(pid) || pid === String(process.pid)) return false;
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
    } catch {
      return false;
    }
  });
}

/** Servers are SIGKILLed on exit; give the kernel a moment to tear them down before calling one a leak. */
async function assertNoServersLeft(dir: string): Promise<void> {
  for (let i = 0; i < 50 && processesUsing(dir).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(processesUsing(dir), [], 'no server process outlives the bench');
}

/** What the bench left in TMPDIR, less tsx's own compile cache (tsx-<uid>). */
function leftovers(tmp: string): string[] {
  return readdirSync(tmp).filter((name) => !name.startsWith('tsx-'));
}

test('one round on an 8 MiB image prints both registries and a ratio line, then cleans up', opts, async (t) => {
  const tmp = tempRoot(t);
  const { stdout } = await run(process.execPath, [...BENCH, '--rounds', '1', '--cache-dir', path.join(tmp, 'cache')], {
    env: { ...process.env, TMPDIR: tmp },
  });
  const lines = stdout.trim().split('\n');
  assert.match(stdout, /^round 1 +skiff +push [\d.]+ s .* pull [\d.]+ s /m);
  assert.match(stdout, /^round 1 +distribution +push [\d.]+ s .* pull [\d.]+ s /m);
  assert.match(lines.at(-1)!, /^ratio skiff\/distribution: push \d+\.\d\dx +pull \d+\.\d\dx$/);
  assert.deepEqual(leftovers(tmp), ['cache'], 'servers data and pulled images are removed; only the image cache stays');
  await assertNoServersLeft(tmp);
});

test('Ctrl-C stops the servers and removes the temp dirs', opts, async (t) => {
  const tmp = tempRoot(t);
  const child = spawn(process.execPath, [...BENCH, '--rounds', '1000', '--cache-dir', path.join(tmp, 'cache')], {
    env: { ...process.env, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (/^round 1 /m.test(out)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`bench exited with ${code} before a round finished:\n${out}\n${err}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  assert.equal(await exited, 130);
  assert.deepEqual(leftovers(tmp), ['cache']);
  await assertNoServersLeft(tmp);
});
