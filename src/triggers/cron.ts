// triggers/cron: a cron trigger's schedule in time — validation, the next fire after an instant, and
// which fire a daemon that was down should still make. croner does the parsing and the time zones
// (its fixed-time DST rule: a time in a spring-forward gap fires at the first valid minute after it,
// a time repeated in the autumn fires once). Pure: instants in, instants out.
import { Cron } from 'croner';
import { SkiffError } from '../core/errors.ts';
import type { CronSource } from '../core/events.ts';

function parse(source: Pick<CronSource, 'schedule' | 'timezone'>): Cron {
  // paused: a schedule here is only asked about times; it never runs anything itself
  return new Cron(source.schedule, { timezone: source.timezone, paused: true, mode: '5-or-6-parts' });
}

/** BAD_REQUEST naming the field when the schedule or the time zone is not valid. */
export function assertCron(source: Pick<CronSource, 'schedule' | 'timezone'>): void {
  if (!isTimeZone(source.timezone)) throw new SkiffError('BAD_REQUEST', `timezone: ${JSON.stringify(source.timezone)} is not an IANA time zone (e.g. Europe/Paris, UTC)`);
  let cron: Cron;
  try {
    cron = parse(source);
  } catch (err) {
    throw new SkiffError('BAD_REQUEST', `cron: ${JSON.stringify(source.schedule)} is not a cron schedule: ${(err as Error).message} (5 fields: minute hour day-of-month month day-of-week, e.g. "0 3 * * *")`);
  }
  if (!cron.nextRun(new Date())) throw new SkiffError('BAD_REQUEST', `cron: ${JSON.stringify(source.schedule)} never fires`);
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return tz.length > 0;
  } catch {
    return false;
  }
}

/** The first fire strictly after `afterMs`; undefined when there is none. */
export function nextFire(source: CronSource, afterMs: number): number | undefined {
  return parse(source).nextRun(new Date(afterMs))?.getTime();
}

/**
 * What to fire at a start, of the fires due after `lastMs` (the last fire made, or the trigger's
 * creation) up to `nowMs`: `skip` fires none of them, `run-once` the latest one only (a report due
 * while the daemon was down runs once, not once per missed day).
 */
export function missedFire(source: CronSource, lastMs: number, nowMs: number): number | undefined {
  if (source.missed === 'skip') return undefined;
  // previousRuns looks strictly before its reference: +1 ms makes a fire due exactly now count
  const latest = parse(source).previousRuns(1, new Date(nowMs + 1))[0]?.getTime();
  return latest !== undefined && latest > lastMs ? latest : undefined;
}
