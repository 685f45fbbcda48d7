// triggers/cron: schedules validated with the field named, next fires across DST in a named zone, and
// the fire a daemon that was down still makes (missed: run-once) or not (skip). Pure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertCron, missedFire, nextFire } from '../../src/triggers/cron.ts';
import type { CronSource } from '../../src/core/events.ts';
import { SkiffError } from '../../src/core/errors.ts';

const cron = (schedule: string, timezone = 'Europe/Paris', missed: CronSource['missed'] = 'run-once'): CronSource => ({ kind: 'cron', schedule, timezone, concurrencyPolicy: 'allow', missed });
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

test('a bad schedule or time zone is a BAD_REQUEST naming the field', () => {
  const bad = (s: string, tz: string, field: RegExp) => assert.throws(() => assertCron({ schedule: s, timezone: tz }), (e: unknown) => e instanceof SkiffError && e.code === 'BAD_REQUEST' && field.test(e.message));
  bad('61 * * * *', 'UTC', /^cron: "61 \* \* \* \*" is not a cron schedule: .*minute/);
  bad('* * * *', 'UTC', /^cron: .*5 fields/);
  bad('0 3 * * *', 'Mars/Olympus', /^timezone: "Mars\/Olympus" is not an IANA time zone/);
  bad('0 0 30 2 *', 'UTC', /never fires|not a cron schedule/);
  assertCron({ schedule: '0 3 * * *', timezone: 'Europe/Paris' });
  assertCron({ schedule: '*/2 * * * * *', timezone: 'UTC' }); // 6 fields: seconds first
});

test('03:00 Paris is 02:00 UTC in winter and 01:00 UTC in summer', () => {
  assert.equal(iso(nextFire(cron('0 3 * * *'), at('2026-12-06T12:00:00Z'))), '2026-12-07T02:00:00.000Z');
  assert.equal(iso(nextFire(cron('0 3 * * *'), at('2026-07-01T12:00:00Z'))), '2026-07-02T01:00:00.000Z');
});

test('DST: a time in the spring gap fires at the first valid time after it; a repeated autumn time fires once', () => {
  // 2026-03-29 02:00 → 03:00 in Paris: 02:30 does not exist that day
  const spring = cron('30 2 * * *');
  const s1 = nextFire(spring, at('2026-03-28T12:00:00Z'))!;
  assert.equal(iso(s1), '2026-03-29T01:00:00.000Z', '03:00 CEST, the first valid time');
  assert.equal(iso(nextFire(spring, s1)), '2026-03-30T00:30:00.000Z', 'then 02:30 CEST as usual');
  // 2026-10-25 03:00 → 02:00: 02:30 happens twice, the fire once
  const autumn = cron('30 2 * * *');
  const a1 = nextFire(autumn, at('2026-10-24T12:00:00Z'))!;
  assert.equal(iso(a1), '2026-10-25T00:30:00.000Z');
  assert.equal(iso(nextFire(autumn, a1)), '2026-10-26T01:30:00.000Z', 'not again an hour later');
});

test('missed fires: run-once makes the latest one due since the last fire; skip none', () => {
  const daily = cron('0 3 * * *', 'UTC');
  // down from Dec 3 12:00 to Dec 6 12:00: fires of Dec 4, 5 and 6 missed, only Dec 6's is made
  assert.equal(iso(missedFire(daily, at('2026-12-03T03:00:00Z'), at('2026-12-06T12:00:00Z'))), '2026-12-06T03:00:00.000Z');
  assert.equal(missedFire(daily, at('2026-12-06T03:00:00Z'), at('2026-12-06T12:00:00Z')), undefined, 'nothing missed since the last fire');
  assert.equal(missedFire({ ...daily, missed: 'skip' }, at('2026-12-03T03:00:00Z'), at('2026-12-06T12:00:00Z')), undefined);
  assert.equal(iso(missedFire(daily, at('2026-12-05T00:00:00Z'), at('2026-12-06T03:00:00Z'))), '2026-12-06T03:00:00.000Z', 'a fire due exactly now counts');
});
