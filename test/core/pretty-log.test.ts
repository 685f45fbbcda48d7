// core/pretty-log: pino's JSON lines as readable lines at a terminal, JSON elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { prettyDestination, prettyLine, wantsPretty } from '../../src/core/pretty-log.ts';

test('a pino line reads as time, level, component, message and key=value fields', () => {
  const lines: string[] = [];
  const out = { isTTY: false, write: (s: string) => void lines.push(s) } as unknown as NodeJS.WriteStream;
  const log = pino({ level: 'info' }, prettyDestination(out)).child({ component: 'access' });
  log.info({ service: 'hello', status: 200, path: '/a b', coldStartMs: undefined }, 'request');
  log.debug('not at info');
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^\d\d:\d\d:\d\d\.\d{3} INFO  \[access\] request service=hello status=200 path="\/a b"\n$/);
  assert.equal(prettyLine('not json', false), 'not json\n');
  assert.match(prettyLine('{"level":50,"time":0,"msg":"boom"}', true), /\x1b\[31mERROR\x1b\[0m boom/);
});

test('auto: pretty only when stdout is a terminal', () => {
  const tty = { isTTY: true } as NodeJS.WriteStream;
  const pipe = { isTTY: false } as NodeJS.WriteStream;
  assert.equal(wantsPretty('auto', tty), true);
  assert.equal(wantsPretty('auto', pipe), false);
  assert.equal(wantsPretty('json', tty), false);
  assert.equal(wantsPretty('pretty', pipe), true);
});
