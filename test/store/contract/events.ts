// test/store/contract/events: EventsRepository on one dialect — triggers, the invocation queue with its
// idempotency keys and restart recovery, dead letters.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InvocationRecord, TriggerRecord, TriggerStats } from '../../../src/core/events.ts';
import { open, type StoreTarget } from '../fixtures.ts';

const DELIVERY = { maxAttempts: 3, backoffMs: 1000, maxBackoffMs: 60_000 };
const STATS: TriggerStats = { deliveries: 0, successes: 0, failures: 0, retries: 0, deadLettered: 0, lastErrors: [] };

function trigger(name: string): TriggerRecord {
  return {
    name,
    tenant: 'acme',
    source: { kind: 'cron', schedule: '0 3 * * *', timezone: 'Europe/Paris', concurrencyPolicy: 'forbid', missed: 'run-once' },
    target: { service: 'report', path: '/run', method: 'POST' },
    delivery: DELIVERY,
    paused: false,
    createdAt: 1000,
    updatedAt: 1000,
  };
}

function invocation(id: string, o: Partial<InvocationRecord> = {}): InvocationRecord {
  return {
    id,
    service: 'report',
    tenant: 'acme',
    trigger: null,
    idempotencyKey: null,
    request: { method: 'POST', path: '/', headers: { 'content-type': 'text/plain' }, body: Buffer.from('hi').toString('base64') },
    callback: null,
    status: 'queued',
    attempts: 0,
    delivery: DELIVERY,
    nextAttemptAt: 1000,
    response: null,
    lastError: null,
    createdAt: 1000,
    updatedAt: 1000,
    ...o,
  };
}

export function eventsContract(target: StoreTarget): void {
  test('events: triggers are added once, listed, paused, their stats saved, and removed with what belongs to them', async (t) => {
    const { events } = await open(t, await target.fresh(t));
    await events.addTrigger(trigger('nightly'), STATS);
    await assert.rejects(events.addTrigger(trigger('nightly'), STATS), (err: Error & { code?: string }) => err.code === 'CONFLICT');
    await events.addTrigger(trigger('hourly'), STATS);
    assert.deepEqual((await events.listTriggers()).map((x) => x.trigger.name), ['hourly', 'nightly']);
    assert.deepEqual(await events.getTrigger('nightly'), { trigger: trigger('nightly'), stats: STATS });
    assert.equal(await events.setPaused('nightly', true, 2000), true);
    assert.equal(await events.setPaused('nope', true, 2000), false);
    const paused = (await events.getTrigger('nightly'))!.trigger;
    assert.deepEqual([paused.paused, paused.updatedAt], [true, 2000]);
    const stats = { ...STATS, deliveries: 3, successes: 2, failures: 1, lastErrors: [{ at: 5, message: 'HTTP 500' }], lastFireAt: 7 };
    await events.saveStats('nightly', stats);
    assert.deepEqual((await events.getTrigger('nightly'))!.stats, stats);

    await events.enqueue(invocation('a', { trigger: 'nightly' }));
    await events.enqueue(invocation('b', { trigger: 'nightly', status: 'succeeded' }));
    await events.addDeadLetter({ id: 'd1', trigger: 'nightly', request: invocation('x').request, attempts: 3, error: 'HTTP 500', createdAt: 5 });
    assert.equal(await events.deleteTrigger('nightly'), true);
    assert.equal(await events.deleteTrigger('nightly'), false);
    assert.equal(await events.getInvocation('a'), undefined, 'its unfinished invocation went with it');
    assert.equal((await events.getInvocation('b'))?.status, 'succeeded', 'a finished one stays readable');
    assert.equal(await events.countDeadLetters('nightly'), 0);
  });

  test('events: the queue gives due invocations earliest first; an idempotency key de-duplicates per service; running ones are requeued at start', async (t) => {
    const { events } = await open(t, await target.fresh(t));
    assert.equal(await events.nextDueAt(), undefined);
    const first = await events.enqueue(invocation('i1', { idempotencyKey: 'k', nextAttemptAt: 3000 }));
    assert.equal(first.created, true);
    const again = await events.enqueue(invocation('i2', { idempotencyKey: 'k' }));
    assert.deepEqual([again.created, again.invocation.id], [false, 'i1']);
    assert.equal((await events.enqueue(invocation('i3', { idempotencyKey: 'k', service: 'other' }))).created, true, 'keys are per service');
    await events.enqueue(invocation('i4', { nextAttemptAt: 2000 }));
    await events.enqueue(invocation('i5', { nextAttemptAt: 9000 }));
    assert.equal(await events.nextDueAt(), 1000);
    assert.deepEqual((await events.dueInvocations(3000, 10)).map((i) => i.id), ['i3', 'i4', 'i1']);
    assert.deepEqual((await events.dueInvocations(3000, 2)).map((i) => i.id), ['i3', 'i4']);
    assert.deepEqual((await events.dueInvocations(3000, 10, ['report'])).map((i) => i.id), ['i3'], 'a skipped service leaves room for the others');
    // the backlog per service counts what is due, not a retry still backing off
    assert.deepEqual(await events.dueByService(3000), new Map([['report', 2], ['other', 1]]));
    assert.deepEqual(await events.dueByService(999), new Map());

    const response = { status: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from('ok').toString('base64'), truncated: false };
    await events.updateInvocation('i3', { status: 'succeeded', attempts: 1, response }, 4000);
    await events.updateInvocation('i4', { status: 'running', attempts: 1 }, 4000);
    const done = (await events.getInvocation('i3'))!;
    assert.deepEqual([done.status, done.attempts, done.response, done.updatedAt], ['succeeded', 1, response, 4000]);
    assert.deepEqual((await events.dueInvocations(10_000, 10)).map((i) => i.id), ['i1', 'i5']);
    assert.equal(await events.requeueRunning(5000), 1);
    const requeued = (await events.getInvocation('i4'))!;
    assert.deepEqual([requeued.status, requeued.nextAttemptAt, requeued.attempts], ['queued', 5000, 1]);
    // only ended ones, and only those older than the cut
    assert.equal(await events.purgeFinished(4000), 0, 'i3 ended at 4000: not before it');
    assert.equal(await events.purgeFinished(4001), 1);
    assert.equal(await events.getInvocation('i3'), undefined);
    assert.ok(await events.getInvocation('i4'), 'a queued one stays');
  });

  test('events: dead letters are listed oldest first, counted, and taken (all or by id)', async (t) => {
    const { events } = await open(t, await target.fresh(t));
    const req = invocation('x').request;
    for (const [id, at] of [['d2', 20], ['d1', 10], ['d3', 30]] as const) await events.addDeadLetter({ id, trigger: 'q', request: req, attempts: 3, error: `e${id}`, createdAt: at });
    await events.addDeadLetter({ id: 'o1', trigger: 'other', request: req, attempts: 1, error: 'x', createdAt: 1 });
    assert.deepEqual((await events.deadLetters('q')).map((d) => d.id), ['d1', 'd2', 'd3']);
    assert.equal(await events.countDeadLetters('q'), 3);
    assert.deepEqual((await events.takeDeadLetters('q', ['d2', 'o1'])).map((d) => d.id), ['d2'], 'only the trigger’s own');
    assert.deepEqual((await events.takeDeadLetters('q')).map((d) => [d.id, d.error]), [['d1', 'ed1'], ['d3', 'ed3']]);
    assert.equal(await events.countDeadLetters('q'), 0);
    assert.equal(await events.countDeadLetters('other'), 1);
  });
}
