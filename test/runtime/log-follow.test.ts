// test/runtime/log-follow: followLogLines (what `skiff run` streams) on a temp dir, with this test as the
// writer in supervisor.pl's format: lines arrive as written, a rotation loses nothing, the end of the
// writer ends the stream after the last line, and an abort ends it at once. No root needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { followLogLines } from '../../src/runtime/runc/log-file.ts';

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
