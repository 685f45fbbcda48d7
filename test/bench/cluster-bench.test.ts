// test/bench/cluster-bench: the cluster benchmark runs end to end for one short round on a real
// three-node swarm lab (cold start of the four sides, a 1-second wrk run remote and local, one node
// killed and restarted per side; the ratio line comes last) and leaves nothing behind in its TMPDIR
// (the lab dir, the daemons' data dirs). It checks the script works, never its timings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireTool, run } from '../helpers/tools.ts';
import { assertLeftNothing } from './run-bench.ts';

const skip = requireTool('wrk', 'wrk') ?? requireTool('dockerd', 'docker.io') ?? requireTool('docker-init', 'docker.io') ?? requireTool('runc', 'runc');

test('one short round prints the four cold-start sides, remote and local throughput, recovery of both, and a ratio line; cleans up', { skip, timeout: 180_000 }, async (t) => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-cluster-test-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const { stdout } = await run(process.execPath, ['bin/run-ts.mjs', 'bench/cluster.ts', '--rounds', '1', '--duration', '1', '--tput-rounds', '1', '--recovery-rounds', '1'], {
    env: { ...process.env, TMPDIR: tmp },
  });
  for (const side of ['skiff-swarm', 'skiff-hybrid', 'docker-scale', 'docker-create']) assert.match(stdout, new RegExp(`^${side} +n=  1  p50 +[\\d.]+ m?s`, 'm'));
  for (const side of ['remote', 'local']) assert.match(stdout, new RegExp(`^throughput: round 1  ${side} +\\d+ req/s`, 'm'));
  for (const side of ['skiff', 'docker']) assert.match(stdout, new RegExp(`^recovery: round 1  ${side} +\\S+ killed: out of .* 3 running again +[\\d.]+ m?s`, 'm'));
  assert.match(stdout.trim().split('\n').at(-1)!, /^ratio docker-scale\/skiff-swarm \(cold p50\) \d+\.\d\dx, docker-scale\/skiff-hybrid [\d.]+x; throughput remote\/local \d+\.\d\dx; recovery skiff\/docker \(3 running, p50\) \d+\.\d\dx$/);
  await assertLeftNothing(tmp, 'the lab dir and the daemons\' data dirs are removed');
});
