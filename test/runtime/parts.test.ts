// test/runtime/parts.test: the runc driver's pure pieces — address allocation, exit classification,
// `runc state` validation — and the log writer/reader on a temp dir (no root needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gatewayIp, intToIp, ipToInt, nextFreeIp, parseCidr } from '../../src/runtime/network/allocator.ts';
import { exitReason } from '../../src/runtime/runc/exit.ts';
import { parseRuncState } from '../../src/runtime/runc/runc-cli.ts';
import { readLogLines, RotatingLogWriter } from '../../src/runtime/runc/log-file.ts';

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

test('exit reasons: OOM kill wins, 128+n is a signal, else the exit code', () => {
  assert.deepEqual(exitReason({ status: 0, oomKills: 0 }), { reason: 'exited', exitCode: 0 });
  assert.deepEqual(exitReason({ status: 137, oomKills: 0 }), { reason: 'signalled', signal: 9 });
  assert.deepEqual(exitReason({ status: 1, oomKills: 2 }), { reason: 'oom-killed', exitCode: 1 });
  assert.deepEqual(exitReason({ status: 255, oomKills: 0 }), { reason: 'exited', exitCode: 255 });
});

test('runc state output is validated', () => {
  assert.deepEqual(parseRuncState('{"ociVersion":"1.0.2","id":"a","pid":42,"status":"running","bundle":"/b"}'), { id: 'a', pid: 42, status: 'running' });
  assert.throws(() => parseRuncState('{"id":"a","pid":42,"status":"zombie"}'), { code: 'INTERNAL' });
  assert.throws(() => parseRuncState('not json'), { code: 'INTERNAL' });
});

test('log files: per-line timestamps, partial lines joined, size rotation keeps N files', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-test-logs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const w = new RotatingLogWriter(dir, 200, 2);
  const now = new Date('2026-01-02T03:04:05.678Z');
  w.write('stdout', 'hel', now);
  w.write('stdout', 'lo\nwor', now);
  w.write('stderr', 'bad\n', now);
  w.close(now);
  assert.deepEqual(await readLogLines(dir), [
    { time: '2026-01-02T03:04:05.678Z', stream: 'stdout', line: 'hello' },
    { time: '2026-01-02T03:04:05.678Z', stream: 'stderr', line: 'bad' },
    { time: '2026-01-02T03:04:05.678Z', stream: 'stdout', line: 'wor' },
  ]);
  const w2 = new RotatingLogWriter(dir, 200, 2);
  for (let i = 0; i < 40; i++) w2.write('stdout', `n${i}\n`, now);
  w2.close(now);
  assert.deepEqual(readdirSync(dir).sort(), ['output.log', 'output.log.1', 'output.log.2']);
  const lines = (await readLogLines(dir)).map((l) => l.line);
  assert.equal(lines.at(-1), 'n39');
  assert.ok(lines.length < 43, 'oldest lines rotated away');
  assert.deepEqual((await readLogLines(dir, 2)).map((l) => l.line), ['n38', 'n39']);
});
