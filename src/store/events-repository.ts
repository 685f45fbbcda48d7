// store/events-repository: triggers, the durable invocation queue and dead letters on either dialect
// (core/events.ts). JSON columns hold the nested records; times are epoch ms.
import type { DeadLetterRecord, InvocationRecord, TriggerRecord, TriggerStats } from '../core/events.ts';
import { SkiffError } from '../core/errors.ts';
import type { Db, DeadLettersTable, InvocationsTable, TriggersTable } from './database.ts';
import type { EventsRepository } from '../core/repositories.ts';
import { isUniqueViolation } from './token-repository.ts';
import type { Transactor } from './transaction.ts';

function toTrigger(r: TriggersTable): { trigger: TriggerRecord; stats: TriggerStats } {
  return {
    trigger: {
      name: r.name,
      tenant: r.tenant,
      source: JSON.parse(r.source) as TriggerRecord['source'],
      target: JSON.parse(r.target) as TriggerRecord['target'],
      delivery: JSON.parse(r.delivery) as TriggerRecord['delivery'],
      paused: Number(r.paused) === 1,
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
    },
    stats: JSON.parse(r.stats) as TriggerStats,
  };
}

function toInvocation(r: InvocationsTable): InvocationRecord {
  return {
    id: r.id,
    service: r.service,
    tenant: r.tenant,
    trigger: r.trigger,
    idempotencyKey: r.idempotency_key,
    request: JSON.parse(r.request) as InvocationRecord['request'],
    callback: r.callback,
    status: r.status as InvocationRecord['status'],
    attempts: Number(r.attempts),
    delivery: JSON.parse(r.delivery) as InvocationRecord['delivery'],
    nextAttemptAt: Number(r.next_attempt_at),
    response: r.response === null ? null : (JSON.parse(r.response) as InvocationRecord['response']),
    lastError: r.last_error,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function invocationRow(i: InvocationRecord): InvocationsTable {
  return {
    id: i.id,
    service: i.service,
    tenant: i.tenant,
    trigger: i.trigger,
    idempotency_key: i.idempotencyKey,
    request: JSON.stringify(i.request),
    callback: i.callback,
    status: i.status,
    attempts: i.attempts,
    delivery: JSON.stringify(i.delivery),
    next_attempt_at: i.nextAttemptAt,
    response: i.response === null ? null : JSON.stringify(i.response),
    last_error: i.lastError,
    created_at: i.createdAt,
    updated_at: i.updatedAt,
  };
}

function toDeadLetter(r: DeadLettersTable): DeadLetterRecord {
  return { id: r.id, trigger: r.trigger, request: JSON.parse(r.request) as DeadLetterRecord['request'], attempts: Number(r.attempts), error: r.error, createdAt: Number(r.created_at) };
}

export class KyselyEventsRepository implements EventsRepository {
  constructor(
    private readonly db: Db,
    private readonly tx: Transactor,
  ) {}

  async addTrigger(t: TriggerRecord, stats: TriggerStats): Promise<void> {
    try {
      await this.db
        .insertInto('triggers')
        .values({
          name: t.name,
          tenant: t.tenant,
          source: JSON.stringify(t.source),
          target: JSON.stringify(t.target),
          delivery: JSON.stringify(t.delivery),
          paused: t.paused ? 1 : 0,
          stats: JSON.stringify(stats),
          created_at: t.createdAt,
          updated_at: t.updatedAt,
        })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new SkiffError('CONFLICT', `a trigger named ${t.name} exists: remove it first (skiff trigger rm ${t.name})`);
      throw err;
    }
  }

  async getTrigger(name: string) {
    const r = await this.db.selectFrom('triggers').selectAll().where('name', '=', name).executeTakeFirst();
    return r ? toTrigger(r) : undefined;
  }

  async listTriggers() {
    return (await this.db.selectFrom('triggers').selectAll().orderBy('name').execute()).map(toTrigger);
  }

  async setPaused(name: string, paused: boolean, now: number): Promise<boolean> {
    const r = await this.db.updateTable('triggers').set({ paused: paused ? 1 : 0, updated_at: now }).where('name', '=', name).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async saveStats(name: string, stats: TriggerStats): Promise<void> {
    await this.db.updateTable('triggers').set({ stats: JSON.stringify(stats) }).where('name', '=', name).execute();
  }

  async deleteTrigger(name: string): Promise<boolean> {
    return this.tx.write(async (tx) => {
      await tx.deleteFrom('dead_letters').where('trigger', '=', name).execute();
      await tx.deleteFrom('invocations').where('trigger', '=', name).where('status', 'in', ['queued', 'running']).execute();
      const r = await tx.deleteFrom('triggers').where('name', '=', name).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }

  async enqueue(invocation: InvocationRecord): Promise<{ invocation: InvocationRecord; created: boolean }> {
    const existing = () =>
      invocation.idempotencyKey === null
        ? Promise.resolve(undefined)
        : this.db.selectFrom('invocations').selectAll().where('service', '=', invocation.service).where('idempotency_key', '=', invocation.idempotencyKey).executeTakeFirst();
    const before = await existing();
    if (before) return { invocation: toInvocation(before), created: false };
    try {
      await this.db.insertInto('invocations').values(invocationRow(invocation)).execute();
      return { invocation, created: true };
    } catch (err) {
      // the same key inserted by a concurrent request since the look: that one stands
      const raced = isUniqueViolation(err) ? await existing() : undefined;
      if (raced) return { invocation: toInvocation(raced), created: false };
      throw err;
    }
  }

  async getInvocation(id: string) {
    const r = await this.db.selectFrom('invocations').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toInvocation(r) : undefined;
  }

  async dueInvocations(now: number, limit: number, skip: readonly string[] = []) {
    let q = this.db.selectFrom('invocations').selectAll().where('status', '=', 'queued').where('next_attempt_at', '<=', now);
    if (skip.length) q = q.where('service', 'not in', skip);
    const rows = await q.orderBy('next_attempt_at').orderBy('created_at').limit(limit).execute();
    return rows.map(toInvocation);
  }

  async nextDueAt(): Promise<number | undefined> {
    const r = await this.db.selectFrom('invocations').select((eb) => eb.fn.min('next_attempt_at').as('at')).where('status', '=', 'queued').executeTakeFirst();
    return r?.at === null || r?.at === undefined ? undefined : Number(r.at);
  }

  async updateInvocation(id: string, c: Partial<Pick<InvocationRecord, 'status' | 'attempts' | 'nextAttemptAt' | 'response' | 'lastError'>>, now: number): Promise<void> {
    await this.db
      .updateTable('invocations')
      .set({
        ...(c.status !== undefined ? { status: c.status } : {}),
        ...(c.attempts !== undefined ? { attempts: c.attempts } : {}),
        ...(c.nextAttemptAt !== undefined ? { next_attempt_at: c.nextAttemptAt } : {}),
        ...(c.response !== undefined ? { response: c.response === null ? null : JSON.stringify(c.response) } : {}),
        ...(c.lastError !== undefined ? { last_error: c.lastError } : {}),
        updated_at: now,
      })
      .where('id', '=', id)
      .execute();
  }

  async requeueRunning(now: number): Promise<number> {
    const r = await this.db.updateTable('invocations').set({ status: 'queued', next_attempt_at: now, updated_at: now }).where('status', '=', 'running').executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async activeInvocations(trigger: string) {
    const rows = await this.db.selectFrom('invocations').selectAll().where('trigger', '=', trigger).where('status', 'in', ['queued', 'running']).orderBy('created_at').execute();
    return rows.map(toInvocation);
  }

  async dueByService(now: number): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('invocations')
      .select((eb) => ['service', eb.fn.countAll().as('n')])
      .where('status', '=', 'queued')
      .where('next_attempt_at', '<=', now)
      .groupBy('service')
      .execute();
    return new Map(rows.map((r) => [r.service, Number(r.n)]));
  }

  async purgeFinished(before: number): Promise<number> {
    const r = await this.db.deleteFrom('invocations').where('status', 'in', ['succeeded', 'failed', 'cancelled']).where('updated_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async addDeadLetter(l: DeadLetterRecord): Promise<void> {
    await this.db.insertInto('dead_letters').values({ id: l.id, trigger: l.trigger, request: JSON.stringify(l.request), attempts: l.attempts, error: l.error, created_at: l.createdAt }).execute();
  }

  async deadLetters(trigger: string) {
    return (await this.db.selectFrom('dead_letters').selectAll().where('trigger', '=', trigger).orderBy('created_at').orderBy('id').execute()).map(toDeadLetter);
  }

  async countDeadLetters(trigger: string): Promise<number> {
    const r = await this.db.selectFrom('dead_letters').select((eb) => eb.fn.countAll().as('n')).where('trigger', '=', trigger).executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async takeDeadLetters(trigger: string, ids?: string[]): Promise<DeadLetterRecord[]> {
    if (ids && ids.length === 0) return [];
    return this.tx.write(async (tx) => {
      let q = tx.selectFrom('dead_letters').selectAll().where('trigger', '=', trigger);
      if (ids) q = q.where('id', 'in', ids);
      const rows = await q.orderBy('created_at').orderBy('id').execute();
      if (rows.length) await tx.deleteFrom('dead_letters').where('id', 'in', rows.map((r) => r.id)).execute();
      return rows.map(toDeadLetter);
    });
  }
}
