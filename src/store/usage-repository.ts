// store/usage-repository: the metering's per-minute rows (core/usage.ts UsageRepository) on SQLite and
// PostgreSQL. Writes are upserts of absolute values keyed (minute, instance, run), so the meter may
// write a minute at every flush and again after a failed flush without counting anything twice.
import type { BillingMode, UsageMark, UsageMinute, UsageQuery, UsageRepository } from '../core/usage.ts';
import type { Db, UsageMinutesTable } from './database.ts';

/** rows per INSERT: 18 columns each, under SQLite's 32766 bound variables and PostgreSQL's 65535 */
const BATCH = 500;

export class KyselyUsageRepository implements UsageRepository {
  constructor(private readonly db: Db) {}

  async upsertMinutes(rows: readonly UsageMinute[]): Promise<void> {
    for (let i = 0; i < rows.length; i += BATCH) {
      const values = rows.slice(i, i + BATCH).map(toRow);
      await this.db
        .insertInto('usage_minutes')
        .values(values)
        .onConflict((oc) =>
          oc.columns(['minute', 'instance', 'run']).doUpdateSet((eb) => ({
            starting_ms: eb.ref('excluded.starting_ms'),
            serving_ms: eb.ref('excluded.serving_ms'),
            idle_ms: eb.ref('excluded.idle_ms'),
            frozen_ms: eb.ref('excluded.frozen_ms'),
            busy_ms: eb.ref('excluded.busy_ms'),
            cpu_nanos: eb.ref('excluded.cpu_nanos'),
            mem_used_kib_ms: eb.ref('excluded.mem_used_kib_ms'),
            requests: eb.ref('excluded.requests'),
            egress_bytes: eb.ref('excluded.egress_bytes'),
            last_at: eb.ref('excluded.last_at'),
            cpu_counter_nanos: eb.ref('excluded.cpu_counter_nanos'),
          })),
        )
        .execute();
    }
  }

  async minutes(q: UsageQuery): Promise<UsageMinute[]> {
    let query = this.db.selectFrom('usage_minutes').selectAll().where('minute', '>=', q.from).where('minute', '<', q.to);
    if (q.tenant !== undefined) query = query.where('tenant', '=', q.tenant);
    if (q.service !== undefined) query = query.where('service', '=', q.service);
    const rows = await query.orderBy('minute').orderBy('instance').orderBy('run').execute();
    return rows.map(fromRow);
  }

  async marks(since: number): Promise<Map<string, UsageMark>> {
    const rows = await this.db.selectFrom('usage_minutes').select(['instance', 'last_at', 'cpu_counter_nanos']).where('last_at', '>=', since).orderBy('last_at').execute();
    const out = new Map<string, UsageMark>();
    for (const r of rows) out.set(r.instance, { at: Number(r.last_at), cpuNanos: Number(r.cpu_counter_nanos) });
    return out;
  }
}

function toRow(m: UsageMinute): UsageMinutesTable {
  return {
    minute: m.minute,
    instance: m.instance,
    run: m.run,
    tenant: m.tenant,
    service: m.service,
    revision: m.revision,
    billing: m.billing,
    cpu_millis: m.cpuMillis,
    memory_bytes: m.memoryBytes,
    starting_ms: Math.round(m.startingMs),
    serving_ms: Math.round(m.servingMs),
    idle_ms: Math.round(m.idleMs),
    frozen_ms: Math.round(m.frozenMs),
    busy_ms: Math.round(m.busyMs),
    cpu_nanos: Math.round(m.cpuNanos),
    mem_used_kib_ms: Math.round(m.memUsedKibMs),
    requests: m.requests,
    egress_bytes: m.egressBytes,
    last_at: m.lastAt,
    cpu_counter_nanos: Math.round(m.cpuCounterNanos),
  };
}

function fromRow(r: UsageMinutesTable): UsageMinute {
  return {
    minute: Number(r.minute),
    instance: r.instance,
    run: r.run,
    tenant: r.tenant,
    service: r.service,
    revision: r.revision,
    billing: r.billing as BillingMode,
    cpuMillis: Number(r.cpu_millis),
    memoryBytes: Number(r.memory_bytes),
    startingMs: Number(r.starting_ms),
    servingMs: Number(r.serving_ms),
    idleMs: Number(r.idle_ms),
    frozenMs: Number(r.frozen_ms),
    busyMs: Number(r.busy_ms),
    cpuNanos: Number(r.cpu_nanos),
    memUsedKibMs: Number(r.mem_used_kib_ms),
    requests: Number(r.requests),
    egressBytes: Number(r.egress_bytes),
    lastAt: Number(r.last_at),
    cpuCounterNanos: Number(r.cpu_counter_nanos),
  };
}
