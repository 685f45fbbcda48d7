// The cold-start breakdown: histogram quantiles, and the join of the scheduler's stages with the
// gateway's first byte (logged once per cold start, aggregated per revision).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ColdStartStats, Histogram, type ColdStartStages } from '../../src/scheduler/cold-start-stats.ts';
import { silentLogger, type Logger } from '../../src/core/logger.ts';

function capture(): { log: Logger; lines: Array<{ obj: object | string; msg?: string }> } {
  const lines: Array<{ obj: object | string; msg?: string }> = [];
  const log: Logger = { ...silentLogger, info: (obj, msg) => lines.push({ obj, msg }), child: () => log };
  return { log, lines };
}

test('histogram quantiles land in the bucket of the true value (within a factor √2) and never exceed the max', () => {
  const h = new Histogram();
  assert.equal(h.quantile(0.5), 0);
  for (let i = 1; i <= 100; i++) h.observe(i);
  assert.equal(h.count, 100);
  const p50 = h.quantile(0.5);
  assert.ok(p50 >= 50 && p50 <= 50 * Math.SQRT2, `p50 ${p50}`);
  const p99 = h.quantile(0.99);
  assert.ok(p99 >= 99 && p99 <= 100, `p99 ${p99}`);
  assert.equal(h.quantile(1), 100);
  const tiny = new Histogram();
  tiny.observe(0.01);
  assert.equal(tiny.quantile(0.5), 0.01);
});

const stages = (instance: string, source: ColdStartStages['source']): ColdStartStages => ({ instance, source, queuedMs: 0.1, createdMs: source === 'created' ? 160 : 0, startedMs: 2, readyMs: 4, probes: 12 });

test('one log line per cold start joins the stages with the first byte; aggregates are per revision', () => {
  const { log, lines } = capture();
  const stats = new ColdStartStats(log);
  stats.stages('a-1', stages('a-1-000001', 'pool'));
  stats.firstByte('a-1', 6.5, 7);
  stats.firstByte('a-1', 3, 4); // a second waiting request of the same burst: no second breakdown
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.msg, 'cold start');
  assert.deepEqual(lines[0]!.obj, { revision: 'a-1', instance: 'a-1-000001', source: 'pool', queuedMs: 0.1, createdMs: 0, startedMs: 2, readyMs: 4, probes: 12, waitedMs: 6.5, firstByteMs: 7 });

  stats.stages('a-1', stages('a-1-000002', 'created'));
  stats.stages('b-1', stages('b-1-000001', 'thawed'));
  stats.firstByte('a-1', 170, 171);
  const a = stats.get('a-1')!;
  assert.deepEqual(a.bySource, { created: 1, pool: 1, thawed: 0 });
  assert.equal(a.stages.firstByte.count, 2);
  assert.equal(a.stages.created.quantile(1), 160);
  assert.equal(stats.get('b-1')!.stages.firstByte.count, 0, 'no first byte reported for b yet');

  stats.forget('b-1');
  assert.equal(stats.get('b-1'), undefined);
  stats.firstByte('b-1', 1, 1);
  assert.equal(lines.length, 2, 'a forgotten revision logs nothing');
});
