// daemon/metering-wiring: the meter (metering/meter.ts) plugged into what it reads and writes:
//   scheduler.meteredInstances() ─┐
//   gateway pools' takeUsage() ───┼─► Meter (every metering.sampleMs) ─► store.usage (every flushIntervalMs)
//   driver.stats() (cgroups) ─────┘                                        │
//   store.usage + price sheet ─► UsageService ─► GET /api/v1/usage, /api/v1/bill
// Started after serving (the scheduler has re-adopted its instances: they count as started before this
// run) and stopped before it (a last sample and flush while the instances still exist).
import type { Settings } from '../config/settings.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { InstanceDriver } from '../core/instance.ts';
import type { UsageRepository } from '../core/usage.ts';
import { Meter } from '../metering/meter.ts';
import { UsageService } from '../metering/usage-service.ts';
import type { GatewayReading } from '../metering/ports.ts';
import type { ServingPlane } from './serving-wiring.ts';

export interface MeteringPlane {
  /** absent when metering is off */
  meter: Meter | undefined;
  usage: UsageService;
  stop(): Promise<void>;
}

export function startMetering(d: { settings: Settings; serving: ServingPlane; driver: Pick<InstanceDriver, 'stats'>; usage: UsageRepository; clock: Clock; log: Logger }): MeteringPlane {
  const m = d.settings.metering;
  const log = d.log.child({ component: 'metering' });
  const meter = m.enabled
    ? new Meter(
        {
          instances: () => d.serving.meteredInstances(),
          gateway: function* (): Iterable<GatewayReading> {
            for (const pool of d.serving.gateway.revisionPools()) yield* pool.takeUsage();
          },
          stats: (id) => d.driver.stats(id),
        },
        d.usage,
        d.clock,
        log,
        { sampleMs: m.sampleMs, flushMs: m.flushIntervalMs },
      )
    : undefined;
  meter?.start();
  const usage = new UsageService({ rows: d.usage, prices: m.prices, clock: d.clock, ...(meter ? { flush: () => meter.sample().then(() => meter.flush()) } : {}) });
  return { meter, usage, stop: async () => meter?.stop() };
}
