// The Triggers, Jobs, Domains, Volumes and Secrets pages' rows and search (web/src/resources-model.ts):
// pure functions of the API's views, no browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TriggerView } from '../../src/core/events.ts';
import type { JobView } from '../../src/core/jobs.ts';
import type { DomainView } from '../../src/core/domains.ts';
import { byName, domainRow, executionRow, formatBytes, formatDuration, formatTime, jobRow, search, secretRow, triggerRow, volumeRow } from '../../web/src/resources-model.ts';

const stats = { deliveries: 7, successes: 5, failures: 3, retries: 1, deadLettered: 1, deadLetters: 1, backlog: 0, lastErrors: [{ at: '2026-12-07T00:00:00Z', message: 'first' }, { at: '2026-12-07T00:01:00Z', message: 'connection refused' }] };
const trigger = (over: Partial<TriggerView>): TriggerView => ({
  name: 'tick', project: 'team-a', service: 'web', kind: 'cron', source: { kind: 'cron', schedule: '*/5 * * * *', timezone: 'UTC' } as never,
  target: { service: 'web', path: '/hook', method: 'POST' } as never, delivery: { maxAttempts: 5, backoffMs: 1000, maxBackoffMs: 60_000 }, paused: false,
  nextFireAt: '2026-12-07T02:05:00.000Z', stats, createdAt: '', updatedAt: '', ...over,
});

test('formatting: bytes in binary units, times in UTC whatever the locale, durations', () => {
  assert.deepEqual([0, 1023, 1024, 8 * 1024 * 1024, 15.5 * 1024 ** 3].map(formatBytes), ['0 B', '1023 B', '1.0 KiB', '8.0 MiB', '16 GiB']);
  assert.equal(formatBytes(undefined), '—');
  assert.equal(formatTime('2026-12-07T01:56:45.123Z'), '2026-12-07 01:56 UTC');
  assert.equal(formatTime(null), '—');
  assert.deepEqual([350, 5_000, 65_000, 3_700_000].map(formatDuration), ['350 ms', '5s', '1m 5s', '1h 1m']);
});

test('a trigger row: source, target, schedule, state, counters and the last error', () => {
  const r = triggerRow(trigger({}));
  assert.deepEqual([r.kind, r.target, r.schedule, r.status, r.nextFire, r.deliveries, r.failures, r.deadLetters, r.lastError], ['cron', 'service web POST /hook', '*/5 * * * *', 'active', '2026-12-07 02:05 UTC', 7, 3, 1, 'connection refused']);
  const paused = triggerRow(trigger({ paused: true, source: { kind: 'cron', schedule: '0 9 * * 1', timezone: 'Europe/Paris' } as never }));
  assert.deepEqual([paused.status, paused.nextFire, paused.schedule], ['paused', '—', '0 9 * * 1 (Europe/Paris)']);
  const job = triggerRow(trigger({ service: undefined, job: 'nightly', target: { job: 'nightly' } as never }));
  assert.equal(job.target, 'job nightly');
  const nats = triggerRow(trigger({ kind: 'nats', source: { kind: 'nats', url: 'nats://u:***@h:4222', subject: 'orders.*', queueGroup: 'g' } as never, state: { status: 'reconnecting', since: '', error: 'refused' }, stats: { ...stats, lastErrors: [] } }));
  assert.deepEqual([nats.schedule, nats.status, nats.lastError], ['subject orders.*', 'reconnecting', 'refused']);
  assert.ok(!nats.haystack.includes('***'), 'a broker URL is not part of the row');
});

test('search: every word, anywhere, any case; byName orders by name then project', () => {
  const rows = [triggerRow(trigger({ name: 'b-tick' })), triggerRow(trigger({ name: 'a-orders', kind: 'nats', source: { kind: 'nats', subject: 'orders' } as never, paused: true }))];
  assert.deepEqual(search(rows, '').map((r) => r.name), ['b-tick', 'a-orders']);
  assert.deepEqual(search(rows, 'PAUSED orders').map((r) => r.name), ['a-orders']);
  assert.deepEqual(search(rows, 'web cron').map((r) => r.name), ['b-tick']);
  assert.deepEqual(search(rows, 'nothing'), []);
  assert.deepEqual(byName([{ name: 'job10', project: 'b' }, { name: 'job9', project: 'a' }, { name: 'job9', project: '0' }]).map((r) => `${r.project}/${r.name}`), ['0/job9', 'a/job9', 'b/job10']);
});

test('a job row with its latest execution; an execution row counts tasks by status', () => {
  const execution = { id: 'nightly-00003', job: 'nightly', status: 'failed' as const, message: 'task 2 failed', createdAt: '2026-12-07T01:00:00Z', endedAt: '', durationMs: 65_000, counts: { pending: 0, running: 0, succeeded: 3, failed: 1, cancelled: 0 }, tasks: [] };
  const j: JobView = { name: 'nightly', project: 'team-a', image: 'team-a/batch:v1', digest: 'x', env: {}, memoryBytes: 0, cpus: 1, tasks: 4, parallelism: 2, retries: 1, timeoutMs: 0, createdAt: '', executions: [execution] };
  const r = jobRow(j);
  assert.equal(r.shape, '4 tasks, 2 at a time, 1 retry');
  assert.deepEqual(r.latest, { id: 'nightly-00003', status: 'failed', tasks: '3 succeeded, 1 failed of 4', started: '2026-12-07 01:00 UTC', duration: '1m 5s', message: 'task 2 failed' });
  assert.equal(jobRow({ ...j, executions: [] }).latest, undefined);
  assert.equal(executionRow({ ...execution, status: 'running', durationMs: undefined as never, counts: { pending: 2, running: 2, succeeded: 0, failed: 0, cancelled: 0 } }).duration, 'running');
});

test('a domain row: certificate state, source, expiry with the days left', () => {
  const d: DomainView = { host: 'shop.example.com', service: 'web', tenant: 'team-a', redirect_http: true, source: 'acme', status: 'ready', not_before: null, not_after: '2027-01-06T00:00:00.000Z', issuer: 'Pebble', renews_at: '2026-12-07T00:00:00.000Z', last_error: null, attempts: 0, next_attempt_at: null, url: 'https://shop.example.com:8443/', created_at: '' };
  const r = domainRow(d, Date.parse('2026-12-07T00:00:00Z'));
  assert.deepEqual([r.status, r.source, r.issuer, r.expires, r.daysLeft], ['ready', 'ACME', 'Pebble', '2027-01-06 00:00 UTC (30 days left)', 30]);
  const expired = domainRow({ ...d, source: 'user', status: 'expired', not_after: '2026-12-01T00:00:00Z', last_error: 'expired' }, Date.parse('2026-12-07T00:00:00Z'));
  assert.deepEqual([expired.source, expired.expires, expired.lastError], ['uploaded', '2026-12-01 00:00 UTC (expired)', 'expired']);
  assert.equal(domainRow({ ...d, not_after: null, status: 'pending' }, 0).expires, '—');
});

test('a volume row: size, use with its share, the services mounting it', () => {
  const r = volumeRow({ name: 'data', sizeBytes: 8 * 1024 * 1024, shared: false, createdAt: '2026-12-07T00:00:00Z', usedBy: ['web', 'api'], usedBytes: 2 * 1024 * 1024, mounted: true });
  assert.deepEqual([r.size, r.used, r.usedPercent, r.usedBy, r.mounted], ['8.0 MiB', '2.0 MiB (25%)', 25, ['api', 'web'], 'yes']);
  const unknown = volumeRow({ name: 'x', sizeBytes: 1024, shared: true, createdAt: '', usedBy: [] });
  assert.deepEqual([unknown.used, unknown.usedPercent, unknown.mounted], ['unknown', undefined, 'unknown']);
});

test('a secret row holds names and versions, and no field a value could be in', () => {
  const r = secretRow({ name: 'db', version: 3, keys: ['PASSWORD', 'HOST'], createdAt: '', updatedAt: '2026-12-07T00:00:00Z', versions: [{ version: 3, keys: [], createdAt: '' }] });
  assert.deepEqual(Object.keys(r).sort(), ['haystack', 'keys', 'name', 'updated', 'version']);
  assert.deepEqual(r.keys, ['HOST', 'PASSWORD']);
});
