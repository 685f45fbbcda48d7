// triggers/cron-scheduler: the timers of the cron triggers. For each active one it waits on the Clock for
// the next fire (cron.ts), asks for a pre-warm a cold start ahead of it (so the fire finds an instance
// ready), and fires; at start, the fire missed while the daemon was down is made or skipped per the
// trigger's policy. What a fire does (enqueue a CloudEvent, apply the concurrency policy) is the
// owner's `fire`; this module only keeps time.
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { CronSource, TriggerRecord } from '../core/events.ts';
import { missedFire, nextFire } from './cron.ts';

/** setTimeout holds at most ~24.8 days; a longer wait is taken in steps */
const MAX_WAIT_MS = 86_400_000;

export interface CronSchedulerDeps {
  clock: Clock;
  log: Logger;
  /** makes the fire scheduled at `at` (clock ms); `missed` when it is a catch-up at start */
  fire(trigger: TriggerRecord, at: number, missed: boolean): Promise<void>;
  /** asks for an instance ready by `at`; called `leadMs(trigger)` before it */
  prewarm(trigger: TriggerRecord, at: number): void;
  /** how long before a fire to pre-warm (the service's cold start, with a margin); 0: never */
  leadMs(trigger: TriggerRecord): number;
}

interface Planned {
  trigger: TriggerRecord;
  cancel: () => void;
}

export class CronScheduler {
  private readonly planned = new Map<string, Planned>();

  constructor(private readonly d: CronSchedulerDeps) {}

  /** Plans every active cron trigger; `lastFireAt` is each one's last fire made (or its creation). */
  async start(triggers: Array<{ trigger: TriggerRecord; lastFireAt: number }>): Promise<void> {
    for (const { trigger, lastFireAt } of triggers) {
      if (trigger.paused || trigger.source.kind !== 'cron') continue;
      const missed = missedFire(trigger.source, lastFireAt, this.d.clock.now());
      if (missed !== undefined) {
        this.d.log.info({ trigger: trigger.name, scheduledAt: new Date(missed).toISOString() }, 'a cron fire was missed while the daemon was down: making it now');
        await this.d.fire(trigger, missed, true).catch((err: unknown) => this.d.log.error({ err, trigger: trigger.name }, 'a missed cron fire failed'));
      }
      this.plan(trigger);
    }
  }

  /** (Re)plans a trigger after it was added, resumed or changed; a paused one is only unplanned.
   *  `after`: the fire just made (a timer may fire a hair early: never the same fire twice). */
  plan(trigger: TriggerRecord, after = -Infinity): void {
    this.unplan(trigger.name);
    if (trigger.paused || trigger.source.kind !== 'cron') return;
    const source: CronSource = trigger.source;
    const at = nextFire(source, Math.max(this.d.clock.now(), after));
    if (at === undefined) return;
    const cancels: Array<() => void> = [];
    const planned: Planned = { trigger, cancel: () => cancels.forEach((c) => c()) };
    this.planned.set(trigger.name, planned);
    const lead = this.d.leadMs(trigger);
    if (lead > 0) this.waitUntil(at - lead, cancels, () => this.d.prewarm(trigger, at));
    this.waitUntil(at, cancels, () => {
      if (this.planned.get(trigger.name) !== planned) return;
      void this.d
        .fire(trigger, at, false)
        .catch((err: unknown) => this.d.log.error({ err, trigger: trigger.name }, 'a cron fire failed'))
        .finally(() => {
          // the next one is planned from the fire's own time: a slow fire never skips the one after
          if (this.planned.get(trigger.name) === planned) this.plan(trigger, at);
        });
    });
  }

  unplan(name: string): void {
    this.planned.get(name)?.cancel();
    this.planned.delete(name);
  }

  stop(): void {
    for (const name of [...this.planned.keys()]) this.unplan(name);
  }

  /** Calls `fn` at clock time `at` (now if it is past), in steps of at most MAX_WAIT_MS. */
  private waitUntil(at: number, cancels: Array<() => void>, fn: () => void): void {
    const wait = at - this.d.clock.now();
    if (wait <= 0) return fn();
    cancels.push(this.d.clock.after(Math.min(wait, MAX_WAIT_MS), () => (wait > MAX_WAIT_MS ? this.waitUntil(at, cancels, fn) : fn())));
  }
}
