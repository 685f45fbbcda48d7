// test/runtime/parts.test: the runc driver's pure pieces — address allocation, exit classification,
// `runc state` validation — and the supervisor (supervisor.pl, with a stand-in for runc) plus the log reader on a temp dir (no root needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { gatewayIp, intToIp, ipToInt, nextFreeIp, parseCidr } from '../../src/runtime/network/allocator.ts';
import { exitReason } from '../../src/runtime/runc/exit.ts';
import { parseRuncState } from '../../src/runtime/runc/runc-cli.ts';
import { readLogLines } from '../../src/runtime/runc/log-file.ts';
import { workingSet } from '../../src/runtime/runc/cgroup.ts';
import { collect } from '../helpers/collect.ts';

test('allocator: gateway is .1, instances skip network/gateway/broadcast, wrap from a hint', () => {
  const s = parseCidr('10.213.7.9/16');
  assert.equal(intToIp(s.base), '10.213.0.0');
  assert.equal(gatewayIp(s), '10.213.0.1');
  assert.equal(nextFreeIp(s, new Set()), '10.213.0.2');
  assert.equal(nextFreeIp(s, new Set(['10.213.0.2'])), '10.213.0.3');
  const tiny = parseCidr('10.0.0.0/29'); // .2 .. .6
  assert.equal(nextFreeIp(tiny, new Set(), 4), '10.0.0.6');
  assert.equal(nextFreeIp(tiny, new Set(), 5), '10.0.0.2');
  assert.equal(nextFreeIp(tiny, new Set(['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6'])), undefined);
  assert.equal(ipToInt('255.255.255.255'), 2 ** 32 - 1);
  assert.throws(() => parseCidr('10.0.0.0/31'), { code: 'CONFIG_INVALID' });
  assert.throws(() => ipToInt('10.0.0.256'), { code: 'CONFIG_INVALID' });
});

test('exit reasons: OOM kill wins, then the signal, else the exit code (137 by exit() is an exit)', () => {
  assert.deepEqual(exitReason({ status: 0, signal: 0, oomKills: 0 }), { reason: 'exited', exitCode: 0 });
  assert.deepEqual(exitReason({ status: 137, signal: 9, oomKills: 0 }), { reason: 'signalled', signal: 9 });
  assert.deepEqual(exitReason({ status: 137, signal: 0, oomKills: 0 }), { reason: 'exited', exitCode: 137 });
  assert.deepEqual(exitReason({ status: 1, signal: 0, oomKills: 2 }), { reason: 'oom-killed', exitCode: 1 });
  assert.deepEqual(exitReason({ status: 255, signal: 0, oomKills: 0 }), { reason: 'exited', exitCode: 255 });
  assert.deepEqual(exitReason({ status: 2, signal: 0, oomKills: 0, pidsLimitHits: 3 }), { reason: 'exited', exitCode: 2, pidsLimitHits: 3 });
});

test('runc state output is validated', () => {
  assert.deepEqual(parseRuncState('{"ociVersion":"1.0.2","id":"a","pid":42,"status":"running","bundle":"/b"}'), { id: 'a', pid: 42, status: 'running' });
  assert.throws(() => parseRuncState('{"id":"a","pid":42,"status":"zombie"}'), { code: 'INTERNAL' });
  assert.throws(() => parseRuncState('not json'), { code: 'INTERNAL' });
});

test('supervisor.pl: reaps the re-parented init for its exit code, logs timestamped lines, rotates by size', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-test-sup-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'logs'));
  // A stand-in for `runc create`: it leaves a background "init" behind and exits, like runc does; the
  // init is nobody's child then, unless the supervisor made itself a subreaper.
  const fakeRunc = path.join(dir, 'runc');
  const init = `echo bad >&2; printf 'hel'; sleep 0.1; echo lo; i=0; while [ $i -lt 40 ]; do echo n$i; i=$((i+1)); done; printf tail; exit 7`;
  writeFileSync(fakeRunc, `#!/bin/sh\n# args: --root R create --bundle B --pid-file F ID\nsh -c '${init}' &\necho $! > "$7"\n`, { mode: 0o755 });
  const script = fileURLToPath(new URL('../../src/runtime/runc/supervisor.pl', import.meta.url));
  const args = [script, fakeRunc, dir, 'id1', dir, path.join(dir, 'init.pid'), path.join(dir, 'exit.json'), path.join(dir, 'logs'), '200', '2', 'skiff-test-none'];
  const r = spawnSync('/usr/bin/perl', args, { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.error, undefined, 'cannot run /usr/bin/perl: install the Debian package perl');
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.deepEqual(JSON.parse(readFileSync(path.join(dir, 'exit.json'), 'utf8')), { status: 7, signal: 0, oomKills: 0, pidsLimitHits: 0 });
  assert.deepEqual(readdirSync(path.join(dir, 'logs')).sort(), ['output.log', 'output.log.1', 'output.log.2']);
  const lines = await collect(readLogLines(path.join(dir, 'logs')));
  assert.match(lines[0]!.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  // stderr went first, 0.1 s earlier: order across the two pipes is not kept, so keep it out of the tail
  const out = lines.filter((l) => l.stream === 'stdout').map((l) => l.line);
  assert.deepEqual(out.slice(-2), ['n39', 'tail']); // a last line without newline is kept
  assert.ok(out.length < 42 && out.length > 5, `rotation keeps the newest lines (kept ${out.length})`);
  assert.deepEqual((await collect(readLogLines(path.join(dir, 'logs'), 2))).map((l) => l.line), ['n39', 'tail']);
});

test('cgroup working set: usage minus inactive file cache (v1 total_inactive_file, v2 inactive_file), never negative', () => {
  const v1 = 'cache 9000\nrss 1000\ninactive_file 50\ntotal_inactive_file 7000\ntotal_active_file 500\n';
  assert.equal(workingSet(10_000, v1, false), 3000);
  assert.equal(workingSet(10_000, 'anon 1000\nfile 9000\ninactive_file 6000\nactive_file 3000\n', true), 4000);
  assert.equal(workingSet(100, 'inactive_file 500\n', true), 0);
  assert.equal(workingSet(100, '', false), 100, 'no memory.stat: all of the usage');
});
