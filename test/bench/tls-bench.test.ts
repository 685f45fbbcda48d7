// test/bench/tls-bench: the gateway TLS benchmark runs end to end for one short round (backend, nginx
// terminating TLS, Skiff's gateway with its TLS port and the HTTP/2 prototype; wrk, h2load and the
// handshake client against both; the ratio line comes last) and leaves no server behind. It checks
// the script works, never its timings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireTool } from '../helpers/tools.ts';
import { assertLeftNothing, runOneRound } from './run-bench.ts';

const skip = requireTool('wrk', 'wrk') ?? requireTool('nginx', 'nginx-light') ?? requireTool('h2load', 'nghttp2-client');
const opts = { skip, timeout: 180_000 };

test('one 1-second round prints TLS, new-connection and plain runs for nginx and skiff and a ratio line, then cleans up', opts, async (t) => {
  const { stdout, tmp } = await runOneRound(t, 'bench/tls.ts', 'skiff-bench-tls-test-');
  for (const name of ['nginx', 'skiff']) {
    assert.match(stdout, new RegExp(`^round 1 +${name} tls c50 +\\d+ req/s +p50 [\\d.]+ ms +p99 [\\d.]+ ms`, 'm'));
    assert.match(stdout, new RegExp(`^round 1 +${name} new conns c16 +\\d+ conn/s`, 'm'));
    assert.match(stdout, new RegExp(`^round 1 +${name} h2load h2 c10m5 +\\d+ req/s +mean [\\d.]+ ms`, 'm'));
  }
  assert.match(stdout.trim().split('\n').at(-1)!, /^ratio skiff\/nginx over TLS \(median of rounds\): throughput c50 \d+\.\d\dx +p99 c10 \S+x/);
  await assertLeftNothing(tmp, 'the nginx prefixes and certificates are removed');
});
