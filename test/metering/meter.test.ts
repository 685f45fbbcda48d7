// The meter (metering/meter.ts, accumulator.ts) with a fake clock and hand-written sources: instance
// time by state, CPU from the cgroup counter's deltas, per-minute rows flushed as absolute values
// (a repeated or failed flush never double counts), and the gateway's busy spells (instance-usage.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { UsageMinute } from '../../src/core/usage.ts';
import { Meter, measure } from '../../src/metering/meter.ts';
import { MinuteAccumulator, minuteOf } from '../../src/metering/accumulator.ts';
import type { GatewayReading, MeteredInstance } from '../../src/metering/ports.ts';
import { roundUpBusy } from '../../src/metering/billing.ts';
import { InstanceUsage } from '../../src/gateway/instance-usage.ts';
import { RevisionPool } from '../../src/gateway/pool.ts';

const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);

function inst(over: Partial<MeteredInstance> = {}): MeteredInstance {
  return { id: 'api-00001-aaaaaa', revision: 'api-00001', service: 'api', tenant: 'default', phase: 'ready', startedAt: T0 + 1, cpus: 1, memoryBytes: 256 * 1024 ** 2, billing: 'request', ...over };
}

/** A sink that keeps the last value written per key, as the store's upsert does. */
class Sink {
  readonly rows = new Map<string, UsageMinute>();
  writes = 0;
  failNext = false;
  async upsertMinutes(rows: readonly UsageMinute[]): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('store down');
    }
    this.writes++;
    for (const r of rows) this.rows.set(`${r.minute} ${r.instance} ${r.run}`, { ...r });
  }
  async marks(since: number) {
    const out = new Map<string, { at: number; cpuNanos: number }>();
    for (const r of [...this.rows.values()].sort((a, b) => a.lastAt - b.lastAt)) if (r.lastAt >= since) out.set(r.instance, { at: r.lastAt, cpuNanos: r.cpuCounterNanos });
    return out;
  }
  sum<K extends keyof UsageMinute>(k: K): number {
    return [...this.rows.values()].reduce((a, r) => a + (r[k] as number), 0);
  }
}

test('measure: a first sighting counts from its start; its CPU from 0 when it started in this run, from now when before', () => {
  const fresh = measure(inst({ startedAt: T0 + 400 }), undefined, { requests: 0, egressBytes: 0, busyMs: 0 }, { cpuNanos: 5e8, workingSetBytes: 0 }, T0 + 1000, T0, T0);
  assert.equal(fresh.sample.idleMs, 600);
  assert.equal(fresh.sample.cpuNanos, 5e8);
  const adopted = measure(inst({ startedAt: T0 - 5000 }), undefined, { requests: 0, egressBytes: 0, busyMs: 0 }, { cpuNanos: 9e9, workingSetBytes: 0 }, T0 + 1000, T0, T0);
  assert.equal(adopted.sample.idleMs, 1000);
  assert.equal(adopted.sample.cpuNanos, 0, 'the previous daemon metered it');
  const next = measure(inst(), adopted.seen, { requests: 2, egressBytes: 10, busyMs: 300 }, { cpuNanos: 9.25e9, workingSetBytes: 1024 * 1024 }, T0 + 2000, T0 + 1000, T0);
  assert.deepEqual([next.sample.servingMs, next.sample.idleMs, next.sample.busyMs, next.sample.cpuNanos, next.sample.memUsedKibMs], [300, 700, 300, 2.5e8, 1024 * 1000]);
  const frozen = measure(inst({ phase: 'frozen' }), next.seen, { requests: 0, egressBytes: 0, busyMs: 0 }, undefined, T0 + 3000, T0 + 2000, T0);
  assert.deepEqual([frozen.sample.frozenMs, frozen.sample.cpuNanos], [1000, 0]);
});

test('accumulator: a flush hands out absolute totals; closed minutes are forgotten once written; a failed flush is retried', () => {
  const acc = new MinuteAccumulator('run1');
  const base = measure(inst(), undefined, { requests: 1, egressBytes: 0, busyMs: 100 }, undefined, T0 + 1000, T0, T0).sample;
  acc.add(base);
  acc.add({ ...base, at: T0 + 2000 });
  let f = acc.flush();
  assert.equal(f.rows.length, 1);
  assert.equal(f.rows[0]!.requests, 2);
  f.written(T0 + 2000);
  acc.add({ ...base, at: T0 + 3000 });
  f = acc.flush();
  assert.equal(f.rows[0]!.requests, 3, 'absolute, not the increment');
  f.failed();
  f = acc.flush();
  assert.equal(f.rows[0]!.requests, 3, 'kept for the next flush');
  f.written(T0 + 61_000);
  assert.equal(acc.size, 0, 'the closed minute is gone once written');
  assert.equal(minuteOf(T0 + 60_000), T0, 'a sample ending on the boundary belongs to the minute before');
});

test('meter: per-second samples, state time adds up to the lifetime, CPU to the counter, flushes idempotent', async () => {
  const clock = new FakeClock(T0);
  const sink = new Sink();
  let cpu = 0;
  let phase: MeteredInstance['phase'] = 'starting';
  let alive = true;
  let gw: GatewayReading[] = [];
  const meter = new Meter(
    {
      instances: () => (alive ? [inst({ phase, startedAt: T0 + 1 })] : []),
      gateway: () => gw.splice(0),
      stats: async () => (alive ? { cpuNanos: cpu, workingSetBytes: 64 * 1024 ** 2 } : undefined),
    },
    sink,
    clock,
    silentLogger,
    { sampleMs: 1000, flushMs: 10_000 },
  );
  meter.start();
  await clock.advance(2000); // starting 2 s
  phase = 'ready';
  for (let s = 0; s < 90; s++) {
    cpu += 0.5e9; // half a core
    if (s % 10 === 0) gw.push({ instance: 'api-00001-aaaaaa', requests: 1, egressBytes: 1000, busyMs: 200 });
    await clock.advance(1000);
  }
  sink.failNext = true; // one flush fails: its rows are written by the next
  phase = 'frozen';
  await clock.advance(10_000);
  alive = false;
  await meter.stop();
  const lifetime = sink.sum('startingMs') + sink.sum('servingMs') + sink.sum('idleMs') + sink.sum('frozenMs');
  assert.ok(Math.abs(lifetime - (102_000 - 1)) <= 1, `instance time ${lifetime} ms`);
  assert.equal(sink.sum('startingMs'), 1999);
  assert.equal(sink.sum('frozenMs'), 10_000);
  assert.equal(sink.sum('cpuNanos'), 45e9, 'every nanosecond of the counter, once');
  assert.equal(sink.sum('requests'), 9);
  assert.equal(sink.sum('busyMs'), 1800);
  assert.equal(sink.sum('servingMs'), 1800);
  assert.equal(sink.sum('egressBytes'), 9000);
  assert.deepEqual([...new Set([...sink.rows.values()].map((r) => r.minute))], [T0, T0 + 60_000], 'one row per minute');
  // rewriting what was written changes nothing (the store upserts absolute values)
  const before = JSON.stringify([...sink.rows]);
  await meter.flush();
  assert.equal(JSON.stringify([...sink.rows]), before);
});

test('meter after a restart: a re-adopted instance is taken up where the last written sample left it (no gap, no double count)', async () => {
  const clock = new FakeClock(T0);
  const sink = new Sink();
  let cpu = 0;
  const sources = (startedAt: () => number) => ({
    instances: () => [inst({ startedAt: startedAt() })],
    gateway: () => [],
    stats: async () => ({ cpuNanos: cpu, workingSetBytes: 0 }),
  });
  const first = new Meter(sources(() => T0 + 1), sink, clock, silentLogger, { sampleMs: 1000, flushMs: 5000 });
  first.start();
  for (let s = 0; s < 20; s++) {
    cpu += 1e9;
    await clock.advance(1000);
  }
  // kill -9 just before the 4th flush: the last 4 s are in memory only, and die with the meter
  cpu += 4e9;
  await clock.advance(4000);
  // the process dies: its timers with it (nothing more is sampled or written by it)
  for (const cancel of (first as unknown as { cancel: Array<() => void> }).cancel) cancel();
  const writtenCpu = sink.sum('cpuNanos');
  assert.equal(writtenCpu, 20e9);
  // the daemon is down for 10 s; the instance runs on and burns 10 s of CPU
  cpu += 10e9;
  await clock.advance(10_000);
  const restart = clock.now();
  // the new daemon re-adopts the instance: the scheduler's startedAt is the adoption time
  const second = new Meter(sources(() => restart), sink, clock, silentLogger, { sampleMs: 1000, flushMs: 5000 });
  second.start();
  await clock.advance(1000);
  await second.stop();
  assert.equal(sink.sum('cpuNanos'), cpu, 'every nanosecond of the counter, once, across both runs');
  const lifetime = sink.sum('startingMs') + sink.sum('servingMs') + sink.sum('idleMs') + sink.sum('frozenMs');
  assert.equal(lifetime, clock.now() - (T0 + 1), 'the instance\'s whole life, the downtime included');
  assert.equal(new Set([...sink.rows.values()].map((r) => r.run)).size, 2, 'each run its own rows');
});

test('instance usage: busy spells rounded up to 100 ms when they end, handed out once across takes', () => {
  const u = new InstanceUsage();
  u.busy(0);
  assert.equal(u.take(40).busyMs, 40, 'an open spell so far');
  u.idle(130, roundUpBusy); // a 130 ms spell bills 200 ms: 160 more than the 40 taken
  assert.equal(u.take(500).busyMs, 160);
  u.busy(1000);
  u.idle(1000.5, roundUpBusy);
  u.busy(2000);
  u.idle(2100, roundUpBusy);
  assert.equal(u.take(3000).busyMs, 200);
  assert.equal(u.take(4000).busyMs, 0);
});

test('pool: concurrent requests on one instance make one busy spell; usage of a drained instance is reported once more', async () => {
  let now = 0;
  const pool = new RevisionPool('api-00001', { concurrency: 0, queueLimit: 10, timeoutMs: 1000 }, () => {}, () => now, 60_000, roundUpBusy);
  pool.setEndpoints([{ id: 'i1', host: '127.0.0.1', port: 1 }]);
  const a = pool.acquire() as { ok: true; slot: { release(): void; sent(n: number): void } };
  now = 50;
  const b = pool.acquire() as typeof a;
  now = 120;
  a.slot.sent(10);
  a.slot.release();
  now = 250;
  b.slot.sent(5);
  b.slot.release();
  pool.setEndpoints([]); // drained: it leaves the pool
  const [u] = pool.takeUsage();
  assert.deepEqual(u, { instance: 'i1', requests: 2, egressBytes: 15, busyMs: 300 });
  assert.deepEqual(pool.takeUsage(), []);
});
