// test/runtime/log-follow: followLogLines (what `skiff run` streams) on a temp dir, with this test as the
// writer in supervisor.pl's format: lines arrive as written, a rotation loses nothing, the end of the
// writer ends the stream after the last line, and an abort ends it at once. No root needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { followLogLines, readLogLines } from '../../src/runtime/runc/log-file.ts';
import { collect } from '../helpers/collect.ts';

const rec = (stream: string, line: string) => `2026-11-25T12:00:00.000Z ${stream} ${line}\n`;

test('followLogLines: live lines, across a rotation, until the writer is finished', { timeout: 10_000 }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-follow-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const log = path.join(dir, 'output.log');
  let finished = false;
  const lines = followLogLines(dir, { signal: new AbortController().signal, finished: async () => finished, pollMs: 5 });
  const next = async () => {
    const r = await lines.next();
    return r.done ? 'END' : `${r.value.stream} ${r.value.line}`;
  };

  appendFileSync(log, rec('stdout', 'one'));
  assert.equal(await next(), 'stdout one');
  // a record split across two writes is yielded once, whole
  appendFileSync(log, '2026-11-25T12:00:00.000Z stderr tw');
  appendFileSync(log, 'o words\n');
  assert.equal(await next(), 'stderr two words');
  // rotation: more lines land in the old file before it is renamed, then the writer starts a new one
  appendFileSync(log, rec('stdout', 'three'));
  renameSync(log, `${log}.1`);
  appendFileSync(log, rec('stdout', 'four'));
  assert.equal(await next(), 'stdout three');
  assert.equal(await next(), 'stdout four');
  appendFileSync(log, rec('stdout', 'last'));
  finished = true;
  assert.equal(await next(), 'stdout last');
  assert.equal(await next(), 'END');
});

test('followLogLines: an abort ends the stream; a missing log is waited for', { timeout: 10_000 }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-follow-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const abort = new AbortController();
  const lines = followLogLines(dir, { signal: abort.signal, finished: async () => false, pollMs: 5 });
  const first = lines.next();
  await new Promise((r) => setTimeout(r, 30));
  appendFileSync(path.join(dir, 'output.log'), rec('stdout', 'late'));
  assert.deepEqual((await first).value?.line, 'late');
  abort.abort();
  assert.equal((await lines.next()).done, true);
});

test('readLogLines streams every file oldest first and reads a tail backwards, across files and chunk edges', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-logs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // output.log.2 (oldest) … output.log; lines of ~1 KiB with a multi-byte character, so 64 KiB chunk
  // edges fall inside lines and inside characters
  const body = (n: number) => `n${n} ${'é'.repeat(500)}`;
  let n = 0;
  for (const name of ['output.log.2', 'output.log.1', 'output.log']) {
    let text = '';
    for (let i = 0; i < 300; i++) text += rec(n % 7 === 0 ? 'stderr' : 'stdout', body(n++));
    appendFileSync(path.join(dir, name), text);
  }
  appendFileSync(path.join(dir, 'output.log'), '2026-11-25T12:00:00.000Z stdout last without newline');
  const all = await collect(readLogLines(dir));
  assert.equal(all.length, 901);
  assert.deepEqual(all.slice(0, 2).map((l) => l.line), [body(0), body(1)]);
  assert.equal(all.at(-1)!.line, 'last without newline', 'the writer’s last line is kept');
  for (const tail of [1, 3, 301, 650, 5000]) {
    assert.deepEqual(await collect(readLogLines(dir, tail)), all.slice(-tail), `tail ${tail}`);
  }
  assert.deepEqual(await collect(readLogLines(dir, 0)), []);
});

test('followLogLines with a tail: the last lines, then only new ones — none twice, a line being written read whole', { timeout: 10_000 }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-follow-tail-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const log = path.join(dir, 'output.log');
  appendFileSync(path.join(dir, 'output.log.1'), rec('stdout', 'a') + rec('stdout', 'b'));
  appendFileSync(log, rec('stdout', 'c') + '2026-11-25T12:00:00.000Z stdout d-hal');
  let finished = false;
  const lines = followLogLines(dir, { signal: new AbortController().signal, finished: async () => finished, pollMs: 5, tail: 2 });
  const got: string[] = [];
  const reading = (async () => {
    for await (const l of lines) got.push(l.line);
  })();
  while (got.length < 2) await new Promise((r) => setTimeout(r, 5)); // the tail is read when reading starts
  appendFileSync(log, 'f\n' + rec('stdout', 'e'));
  await new Promise((r) => setTimeout(r, 50));
  finished = true;
  await reading;
  assert.deepEqual(got, ['b', 'c', 'd-half', 'e']);
});
