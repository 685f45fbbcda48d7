// test/bench/gateway-bench: the gateway benchmark runs end to end for one short round (backend, nginx
// proxy and Skiff's gateway start, wrk runs against all three, the ratio line comes last) and leaves no
// server behind. It checks the script works, never its timings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireTool } from '../helpers/tools.ts';
import { assertLeftNothing, runOneRound } from './run-bench.ts';

const skip = requireTool('wrk', 'wrk') ?? requireTool('nginx', 'nginx-light');
const opts = { skip, timeout: 120_000 };

test('one 1-second round prints direct, nginx and skiff runs and a ratio line, then cleans up', opts, async (t) => {
  const { stdout, tmp } = await runOneRound(t, 'bench/gateway.ts', 'skiff-bench-gw-test-');
  for (const name of ['direct', 'nginx', 'skiff']) assert.match(stdout, new RegExp(`^round 1 +${name} c50 +\\d+ req/s +p50 [\\d.]+ ms +p99 [\\d.]+ ms`, 'm'));
  assert.match(stdout.trim().split('\n').at(-1)!, /^ratio skiff\/nginx: throughput c50 \d+\.\d\dx +added p50 c10 \S+x/);
  await assertLeftNothing(tmp, 'the nginx prefixes are removed');
});
