// triggers/broker-consumer with an in-memory broker and service: no more messages taken than free
// slots, ack only after a 2xx or a dead letter, retries with back-off, per-key serial delivery
// (orderedBy) while other keys go on, and the ordering keys themselves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { BrokerConsumer, orderingKey } from '../../src/triggers/broker-consumer.ts';
import type { BrokerMessage, BrokerSource } from '../../src/triggers/brokers/source.ts';
import type { InvokeRequest, InvokeResult } from '../../src/triggers/ports.ts';
import type { ServiceTarget, TriggerRecord, BrokerSource as Spec } from '../../src/core/events.ts';

class MemoryBroker implements BrokerSource {
  readonly describe = 'memory';
  readonly queue: BrokerMessage[] = [];
  readonly acked: string[] = [];
  readonly asked: number[] = [];
  private wake: (() => void) | undefined;
  add(id: string, data: string, subject = 's'): void {
    this.queue.push({ id, subject, data: Buffer.from(data), ack: async () => void this.acked.push(id), extend: () => {} });
    this.wake?.();
  }
  async open() {}
  async take(max: number, signal: AbortSignal) {
    this.asked.push(max);
    while (this.queue.length === 0 && !signal.aborted) await new Promise<void>((r) => { this.wake = r; signal.addEventListener('abort', () => r(), { once: true }); });
    return this.queue.splice(0, max);
  }
  async backlog() { return this.queue.length; }
  async close() {}
}

function consumer(broker: MemoryBroker, invoke: (req: InvokeRequest) => Promise<number>, o: { inFlight: number; orderedBy?: string; maxAttempts?: number }) {
  const settled: string[] = [];
  const letters: string[] = [];
  const trigger = {
    name: 't', tenant: 'default', paused: false, createdAt: 0, updatedAt: 0,
    source: { kind: 'redis', url: 'redis://x', stream: 's', group: 'g' } as Spec,
    target: { service: 'svc', path: '/', method: 'POST' },
    delivery: { maxAttempts: o.maxAttempts ?? 3, backoffMs: 10, maxBackoffMs: 20, ...(o.orderedBy ? { orderedBy: o.orderedBy } : {}) },
  } as TriggerRecord & { source: Spec; target: ServiceTarget };
  const c = new BrokerConsumer({
    trigger, source: broker, mode: 'direct',
    invoker: { invoke: async (req): Promise<InvokeResult> => ({ status: await invoke(req), headers: {}, body: Buffer.alloc(0), truncated: false }) },
    enqueue: async () => {}, settled: (s) => void settled.push(s), failed: () => {},
    deadLetter: async (req) => void letters.push(Buffer.from(req.body, 'base64').toString()),
    clock: systemClock, log: silentLogger, inFlight: o.inFlight, random: () => 0.5,
  });
  return { c, settled, letters };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond());
};

test('never more in flight than the slots; ack after 2xx; a poison message is dead-lettered after its attempts and acked', async (t) => {
  const broker = new MemoryBroker();
  let inFlight = 0;
  let peak = 0;
  const { c, letters } = consumer(broker, async (req) => {
    peak = Math.max(peak, ++inFlight);
    await new Promise((r) => setTimeout(r, 10));
    inFlight--;
    return req.body.toString() === 'poison' ? 500 : 200;
  }, { inFlight: 3 });
  t.after(() => c.stop());
  for (let i = 0; i < 20; i++) broker.add(`m${i}`, `m${i}`);
  broker.add('p', 'poison');
  c.start();
  await until(() => broker.acked.length === 21);
  assert.ok(peak <= 3, `peak ${peak}`);
  assert.ok(broker.asked.every((n) => n >= 1 && n <= 3), `asked ${broker.asked.join(',')}`);
  assert.deepEqual(letters, ['poison']);
});

test('orderedBy: one key’s messages one after the other, in order; other keys meanwhile', async (t) => {
  const broker = new MemoryBroker();
  const log: string[] = [];
  const release = new Map<string, () => void>();
  const { c } = consumer(broker, async (req) => {
    const body = req.body.toString();
    log.push(`start ${body}`);
    await new Promise<void>((r) => release.set(body, r));
    log.push(`end ${body}`);
    return 200;
  }, { inFlight: 10, orderedBy: 'json:$.order.id' });
  t.after(() => c.stop());
  broker.add('1', '{"order":{"id":"A"},"n":1}');
  broker.add('2', '{"order":{"id":"A"},"n":2}');
  broker.add('3', '{"order":{"id":"B"},"n":3}');
  c.start();
  await until(() => log.length === 2);
  assert.deepEqual(log.sort(), ['start {"order":{"id":"A"},"n":1}', 'start {"order":{"id":"B"},"n":3}'], 'A2 waits for A1; B goes on');
  release.get('{"order":{"id":"A"},"n":1}')!();
  await until(() => log.includes('start {"order":{"id":"A"},"n":2}'));
  assert.ok(log.indexOf('end {"order":{"id":"A"},"n":1}') < log.indexOf('start {"order":{"id":"A"},"n":2}'));
  for (const r of release.values()) r();
  await until(() => broker.acked.length === 3);
});

test('ordering keys: subject, a header (any case), a JSON field; none when missing', () => {
  const m = { subject: 'orders.eu', headers: { 'x-tenant': 'acme' }, data: Buffer.from('{"a":{"b":7}}') };
  assert.equal(orderingKey(undefined, m), undefined);
  assert.equal(orderingKey('subject', m), 'orders.eu');
  assert.equal(orderingKey('header:X-Tenant', m), 'acme');
  assert.equal(orderingKey('json:$.a.b', m), '7');
  assert.equal(orderingKey('json:$.a.c', m), undefined);
  assert.equal(orderingKey('json:$.a', { ...m, data: Buffer.from('not json') }), undefined);
});
