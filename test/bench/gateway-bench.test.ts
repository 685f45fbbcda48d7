// test/bench/gateway-bench: the gateway benchmark runs end to end for one short round (backend, nginx
// proxy and Skiff's gateway start, wrk runs against all three, the ratio line comes last) and leaves no
// server behind. It checks the script works, never its timings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireTool, run } from '../helpers/tools.ts';

const skip = requireTool('wrk', 'wrk') ?? requireTool('nginx', 'nginx-light');
const opts = { skip, timeout: 120_000 };

test('one 1-second round prints direct, nginx and skiff runs and a ratio line, then cleans up', opts, async (t) => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-gw-test-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const { stdout } = await run(process.execPath, ['bin/run-ts.mjs', 'bench/gateway.ts', '--rounds', '1', '--duration', '1'], {
    env: { ...process.env, TMPDIR: tmp },
  });
  for (const name of ['direct', 'nginx', 'skiff']) assert.match(stdout, new RegExp(`^round 1 +${name} c50 +\\d+ req/s +p50 [\\d.]+ ms +p99 [\\d.]+ ms`, 'm'));
  assert.match(stdout.trim().split('\n').at(-1)!, /^ratio skiff\/nginx: throughput c50 \d+\.\d\dx +added p50 c10 \S+x/);
  assert.deepEqual(readdirSync(tmp).filter((n) => !n.startsWith('tsx-')), [], 'the nginx prefixes are removed');
  // nginx masters name their prefix (under tmp) on their command line and end their workers on SIGTERM;
  // give them a moment before calling one a leak.
  const left = () => readdirSync('/proc').filter((pid) => /^\d+$/.test(pid) && cmdline(pid).includes(tmp));
  for (let i = 0; i < 50 && left().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(left(), [], 'no server outlives the bench');
});

function cmdline(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}
