// test/bench/run-bench: runs a proxy benchmark script for one short round with TMPDIR pointed at a
// fresh directory, and checks afterwards that it left nothing behind there: no file (but tsx's cache)
// and no process naming it.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../helpers/tools.ts';

/** `node bin/run-ts.mjs <script> --rounds 1 --duration 1` with TMPDIR a fresh directory: its stdout and that directory. */
export async function runOneRound(t: TestContext, script: string, tmpPrefix: string): Promise<{ stdout: string; tmp: string }> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const { stdout } = await run(process.execPath, ['bin/run-ts.mjs', script, '--rounds', '1', '--duration', '1'], {
    env: { ...process.env, TMPDIR: tmp },
  });
  return { stdout, tmp };
}

/** Nothing left in `tmp` (`filesMessage` if there is) and, after a moment's grace, no process naming it. */
export async function assertLeftNothing(tmp: string, filesMessage: string): Promise<void> {
  assert.deepEqual(readdirSync(tmp).filter((n) => !n.startsWith('tsx-')), [], filesMessage);
  // nginx masters name their prefix (under tmp) on their command line and end their workers on SIGTERM;
  // give them a moment before calling one a leak.
  const left = () => readdirSync('/proc').filter((pid) => /^\d+$/.test(pid) && cmdline(pid).includes(tmp));
  for (let i = 0; i < 50 && left().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(left(), [], 'no server outlives the bench');
}

function cmdline(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}
