// metering/ports: what the meter reads and where it writes, declared here and plugged in by
// daemon/metering-wiring.ts — the scheduler's instances, the gateway's per-instance request counts, the
// instance driver's cgroup readings, and the store's usage rows. metering/ imports only core.
import type { BillingMode, UsageMark, UsageMinute } from '../core/usage.ts';

/** An instance with a process, as the scheduler knows it now. */
export interface MeteredInstance {
  id: string;
  revision: string;
  service: string;
  tenant: string;
  /** starting (incl. thawing), ready, draining or frozen */
  phase: 'starting' | 'ready' | 'draining' | 'frozen';
  /** clock ms it was started (or adopted, or last thawed): a first sighting counts from here */
  startedAt: number;
  cpus: number;
  memoryBytes: number;
  billing: BillingMode;
}

/** What the gateway saw of one instance since the previous reading (gateway/instance-usage.ts). */
export interface GatewayReading {
  instance: string;
  requests: number;
  egressBytes: number;
  busyMs: number;
}

export interface MeterSources {
  instances(): MeteredInstance[];
  gateway(): Iterable<GatewayReading>;
  /** cumulative CPU time and working set now, from the instance's cgroup; undefined once it is gone */
  stats(id: string): Promise<{ cpuNanos: number; workingSetBytes: number } | undefined>;
}

export interface UsageSink {
  upsertMinutes(rows: readonly UsageMinute[]): Promise<void>;
  /** per instance, where the previous daemon's metering of it stopped (its last sample written) */
  marks(since: number): Promise<Map<string, UsageMark>>;
}
