// core/usage: the metering's records and its store port. One UsageMinute is what one instance used in
// one minute, as seen by one daemon run (docs/metering.md says why the run is in the key: a daemon
// restarted after kill -9 writes rows of its own and never overwrites, or adds to, the last one's).
// Declared in core because the store implements the port and metering and api consume it.

export type BillingMode = 'request' | 'instance';

/** The instance states metered (instance-seconds by state). */
export const METERED_STATES = ['starting', 'serving', 'idle', 'frozen'] as const;
export type MeteredState = (typeof METERED_STATES)[number];

/** What an instance did over a span (a sample, a minute): the figures metering adds up. */
export interface UsageCounters {
  /** ms in each state within the span */
  startingMs: number;
  servingMs: number;
  idleMs: number;
  frozenMs: number;
  /** request-based billable time: spells with a request in flight, each rounded up to 100 ms */
  busyMs: number;
  /** CPU time used (cgroup cpuacct.usage / cpu.stat usage_usec) */
  cpuNanos: number;
  /** working set (usage minus inactive file cache) integrated over time, KiB·ms */
  memUsedKibMs: number;
  requests: number;
  egressBytes: number;
}

/** Nothing yet: where a span's counters start. */
export const ZERO_COUNTERS: Readonly<UsageCounters> = Object.freeze({ startingMs: 0, servingMs: 0, idleMs: 0, frozenMs: 0, busyMs: 0, cpuNanos: 0, memUsedKibMs: 0, requests: 0, egressBytes: 0 });

export interface UsageMinute extends UsageCounters {
  /** epoch ms of the minute's start (UTC) */
  minute: number;
  instance: string;
  /** the daemon run that measured it (random per start) */
  run: string;
  tenant: string;
  service: string;
  revision: string;
  billing: BillingMode;
  /** the instance's limits: CPU in millicores, memory in bytes (what is allocated) */
  cpuMillis: number;
  memoryBytes: number;
  /** clock ms of the row's last sample, and the instance's cumulative cgroup CPU counter then: where a
   *  daemon restarted after kill -9 picks up a re-adopted instance (no gap, no double count) */
  lastAt: number;
  cpuCounterNanos: number;
}

/** Where metering of an instance stopped: its last sample written (UsageMinute.lastAt, cpuCounterNanos). */
export interface UsageMark {
  at: number;
  cpuNanos: number;
}

/** Which minutes to read: [from, to) epoch ms, a tenant (absent: all) and a service (absent: all). */
export interface UsageQuery {
  from: number;
  to: number;
  tenant?: string;
  service?: string;
}

export interface UsageRepository {
  /** Writes each row as it is now (absolute values, not increments): writing one twice is harmless. */
  upsertMinutes(rows: readonly UsageMinute[]): Promise<void>;
  /** The rows in the query's range, oldest minute first. */
  minutes(q: UsageQuery): Promise<UsageMinute[]>;
  /** Per instance, its last sample written at or after `since` (a restarted daemon's starting point). */
  marks(since: number): Promise<Map<string, UsageMark>>;
}

/** How usage is grouped in a report: by hour or day (UTC), or by service. */
export type UsageGrouping = 'hour' | 'day' | 'service';

/** One line of a usage report (`skiff usage`): seconds and quantities as decimal strings. */
export interface UsageLine {
  /** the hour or day (ISO, UTC) for `hour`/`day`; absent for `service` */
  period?: string;
  /** the project and service for `service`; absent otherwise */
  project?: string;
  service?: string;
  startingSeconds: string;
  servingSeconds: string;
  idleSeconds: string;
  frozenSeconds: string;
  /** instance-seconds billed: request mode the busy time (rounded up to 100 ms a spell), instance mode all of it */
  billableSeconds: string;
  vcpuSecondsAllocated: string;
  vcpuSecondsUsed: string;
  gibSecondsAllocated: string;
  gibSecondsUsed: string;
  requests: number;
  egressBytes: number;
}

export interface UsageReport {
  /** the project asked for, or '*' for all */
  project: string;
  service?: string;
  since: string;
  until: string;
  by: UsageGrouping;
  lines: UsageLine[];
  total: UsageLine;
}

/** The price sheet (settings `metering.prices`): decimal strings, per unit. */
export interface PriceSheet {
  currency: string;
  vcpuSecond: string;
  gibSecond: string;
  millionRequests: string;
  /** share taken off idle instance time (instance-based billing's idle-warm and frozen seconds), 0–1 */
  idleDiscount: string;
}

export interface InvoiceLine {
  project: string;
  service: string;
  /** vcpu-seconds | gib-seconds | idle-vcpu-seconds | idle-gib-seconds | requests */
  item: string;
  description: string;
  quantity: string;
  unit: string;
  unitPrice: string;
  /** quantity × unit price, exact */
  amount: string;
}

export interface Invoice {
  /** YYYY-MM */
  month: string;
  project: string;
  currency: string;
  lines: InvoiceLine[];
  /** the sum of the lines' amounts, exact */
  subtotal: string;
  /** the subtotal rounded half-up to cents */
  total: string;
}
