// triggers/service: the event side's control plane — triggers (add, list, describe, pause, resume,
// remove), their dead letters (list, replay, purge), and invocations (async HTTP calls accepted by the
// gateway, `skiff invoke`, reading one back). Every delivery goes through the durable invocation queue
// (invocation-worker.ts) except broker messages, whose broker is the durable store, and the fires of
// cron triggers that start a job, which are executions of that job (JobsPort). Counters per trigger
// are kept in memory and written to the store every few seconds and at stop.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { SkiffError } from '../core/errors.ts';
import type { CronSource, DeliveryPolicy, InvocationRecord, InvocationRequest, InvokeBody, TriggerRecord, TriggerStats, TriggerView } from '../core/events.ts';
import { INVOCATION_BODY_LIMIT } from '../core/events.ts';
import type { EventsRecords, Invoker, JobOutcome, JobsPort, ServicesPort } from './ports.ts';
import { CronScheduler } from './cron-scheduler.ts';
import { assertCron, nextFire } from './cron.ts';
import { binaryEvent } from './cloudevent.ts';
import { invocationView, type InvocationWorker, type Settled } from './invocation-worker.ts';
import { normaliseTrigger, type TriggerDocument } from './spec.ts';
import { BrokerConsumer } from './broker-consumer.ts';
import { brokerSource, redactUrl } from './brokers/index.ts';
import { BacklogMonitor } from './backlog.ts';
import { withTimeout } from '../core/timeout.ts';
import type { BrokerSource as BrokerSpec } from '../core/events.ts';

/** the errors a trigger's describe keeps, newest last */
const LAST_ERRORS = 5;
const STATS_FLUSH_MS = 2000;
/** a pre-warm starts this much before the service's measured cold start would */
const PREWARM_MARGIN_MS = 1000;
/** a pre-warm ahead of a fire keeps its instance until this long after the fire's instant */
const PREWARM_HOLD_MS = 5000;
/** a service that never had a cold start here is pre-warmed this long ahead */
const PREWARM_DEFAULT_MS = 5000;

export const EMPTY_STATS: TriggerStats = { deliveries: 0, successes: 0, failures: 0, retries: 0, deadLettered: 0, lastErrors: [] };

export interface TriggersServiceDeps {
  records: EventsRecords;
  services: ServicesPort;
  invoker: Invoker;
  /** the jobs cron triggers may start (`--job`); without it, a job trigger is refused */
  jobs?: JobsPort;
  clock: Clock;
  log: Logger;
}

/** An async request as the gateway accepted it (Prefer: respond-async). */
export interface AsyncRequest {
  service: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

export class TriggersService {
  private readonly stats = new Map<string, TriggerStats>();
  private readonly dirty = new Set<string>();
  private readonly cron: CronScheduler;
  private readonly consumers = new Map<string, BrokerConsumer>();
  private worker: InvocationWorker | undefined;
  private stopFlushing: (() => void) | undefined;
  /** events waiting per service and per broker trigger (the scheduler's backlog port reads it) */
  private readonly backlogs: BacklogMonitor;

  constructor(private readonly d: TriggersServiceDeps) {
    this.backlogs = new BacklogMonitor({
      sources: () => [...this.consumers].map(([trigger, c]) => ({ trigger, service: c.service, backlog: () => c.backlog() })),
      dueByService: (now) => d.records.dueByService(now),
      clock: d.clock,
      log: d.log,
    });
    this.cron = new CronScheduler({
      clock: d.clock,
      log: d.log,
      fire: (t, at, missed) => this.fireCron(t, at, missed),
      // held a little past the fire: the fire's own request keeps the instance from then on
      prewarm: (t, at) => {
        if (t.target.service !== undefined) d.services.prewarm(t.target.service, at + PREWARM_HOLD_MS);
      },
      // a job's tasks are fresh containers of their own: nothing to pre-warm
      leadMs: (t) => (t.target.service === undefined ? 0 : (d.services.coldStartMs(t.target.service) ?? PREWARM_DEFAULT_MS - PREWARM_MARGIN_MS) + PREWARM_MARGIN_MS),
    });
  }

  /** Events waiting per service (broker backlogs, due invocations): the scheduler scales on it. */
  backlog(): ReadonlyMap<string, number> {
    return this.backlogs.backlog();
  }

  /** What a metrics scrape reads: each trigger's counters (in memory, ahead of the store's copy) and
   *  the messages its broker holds for it, as last measured (undefined: a cron trigger, or unknown). */
  metrics(): Array<{ trigger: string; stats: Readonly<TriggerStats>; brokerBacklog: number | undefined; disconnects: number | undefined }> {
    return [...this.stats].map(([trigger, stats]) => {
      const consumer = this.consumers.get(trigger);
      return { trigger, stats, brokerBacklog: consumer ? this.backlogs.brokerBacklog(trigger) : undefined, disconnects: consumer?.current.disconnects };
    });
  }

  /** The worker delivering the queue (built around this service's onSettled). */
  attach(worker: InvocationWorker): void {
    this.worker = worker;
  }

  async start(): Promise<void> {
    const all = await this.d.records.listTriggers();
    for (const { trigger, stats } of all) this.stats.set(trigger.name, stats);
    this.stopFlushing = this.d.clock.every(STATS_FLUSH_MS, () => void this.flush());
    // executions job triggers started before a restart (resumed by the job service): counted when they end
    for (const { trigger, stats } of all) if (trigger.target.job !== undefined) for (const id of stats.executions ?? []) this.watchExecution(trigger.name, trigger.target.job, id);
    await this.cron.start(all.map(({ trigger, stats }) => ({ trigger, lastFireAt: stats.lastFireAt ?? trigger.createdAt })));
    for (const { trigger } of all) if (!trigger.paused) await this.startConsumer(trigger);
    this.backlogs.start();
  }

  async stop(): Promise<void> {
    this.cron.stop();
    this.backlogs.stop();
    await Promise.all([...this.consumers.values()].map((c) => c.stop()));
    this.consumers.clear();
    this.stopFlushing?.();
    await this.flush();
  }

  async add(doc: TriggerDocument, tenant: string): Promise<TriggerView> {
    const now = this.d.clock.now();
    const trigger = normaliseTrigger(doc, tenant, now);
    if (trigger.source.kind === 'cron') assertCron(trigger.source);
    if (trigger.target.job !== undefined) {
      if (!this.d.jobs) throw new SkiffError('BAD_REQUEST', 'job: this daemon cannot start jobs from triggers');
      const owner = await this.d.jobs.tenantOf(trigger.target.job);
      if (owner === undefined || owner !== tenant) throw new SkiffError('NOT_FOUND', `job: no job named ${trigger.target.job} (create it first with skiff job create; skiff job ls lists them)`);
    } else {
      const owner = await this.d.services.tenantOf(trigger.target.service);
      if (owner === undefined || owner !== tenant) throw new SkiffError('NOT_FOUND', `service: no service named ${trigger.target.service} (deploy it first: a trigger feeds a service)`);
    }
    if (trigger.source.kind !== 'cron') await probeBroker(trigger.source, trigger.name);
    await this.d.records.addTrigger(trigger, EMPTY_STATS);
    this.stats.set(trigger.name, { ...EMPTY_STATS, lastErrors: [] });
    this.cron.plan(trigger);
    await this.startConsumer(trigger);
    return this.get(trigger.name);
  }

  async list(): Promise<TriggerView[]> {
    const all = await this.d.records.listTriggers();
    return Promise.all(all.map(({ trigger, stats }) => this.view(trigger, stats)));
  }

  async get(name: string): Promise<TriggerView> {
    const found = await this.d.records.getTrigger(name);
    if (!found) throw notFound(name);
    return this.view(found.trigger, found.stats);
  }

  async setPaused(name: string, paused: boolean): Promise<TriggerView> {
    if (!(await this.d.records.setPaused(name, paused, this.d.clock.now()))) throw notFound(name);
    const found = (await this.d.records.getTrigger(name))!;
    this.cron.plan(found.trigger);
    if (paused) await this.stopConsumer(name);
    else await this.startConsumer(found.trigger);
    return this.view(found.trigger, found.stats);
  }

  async remove(name: string): Promise<void> {
    this.cron.unplan(name);
    await this.stopConsumer(name);
    for (const inv of await this.d.records.activeInvocations(name)) this.worker?.cancel(inv.id);
    if (!(await this.d.records.deleteTrigger(name))) throw notFound(name);
    this.stats.delete(name);
    this.dirty.delete(name);
  }

  async deadLetters(name: string) {
    await this.get(name);
    return (await this.d.records.deadLetters(name)).map((l) => ({
      id: l.id,
      attempts: l.attempts,
      error: l.error,
      createdAt: new Date(l.createdAt).toISOString(),
      request: { method: l.request.method, path: l.request.path, headers: l.request.headers, body: Buffer.from(l.request.body, 'base64').toString('utf8'), bodyBase64: l.request.body },
    }));
  }

  /** Sends the trigger's dead letters (those of `ids`, or all) to its service again, each as a new
   *  invocation with the trigger's delivery policy; they leave the dead-letter store. */
  async replay(name: string, ids?: string[]): Promise<{ replayed: string[]; invocations: string[] }> {
    const { trigger } = (await this.d.records.getTrigger(name)) ?? throwNotFound(name);
    const target = trigger.target;
    if (target.service === undefined) return { replayed: [], invocations: [] }; // a job trigger has no dead letters
    const letters = await this.d.records.takeDeadLetters(name, ids);
    if (ids) {
      const missing = ids.filter((id) => !letters.some((l) => l.id === id));
      if (missing.length) this.d.log.warn({ trigger: name, missing }, 'replay: dead letters not found');
    }
    const invocations: string[] = [];
    for (const l of letters) {
      const inv = this.newInvocation(target.service, trigger.tenant, l.request, { trigger: name, delivery: trigger.delivery });
      await this.d.records.enqueue(inv);
      invocations.push(inv.id);
    }
    this.worker?.wake();
    return { replayed: letters.map((l) => l.id), invocations };
  }

  async purge(name: string, ids?: string[]): Promise<{ purged: number }> {
    await this.get(name);
    return { purged: (await this.d.records.takeDeadLetters(name, ids)).length };
  }

  /** Queues an async request (the gateway answers 202 with its Location); the same idempotency key
   *  for the same service gives back the first one. */
  async accept(req: AsyncRequest, opts: { idempotencyKey?: string; callback?: string; delivery?: DeliveryPolicy } = {}): Promise<{ id: string; created: boolean; status: string }> {
    if (req.body.length > INVOCATION_BODY_LIMIT) throw new SkiffError('PAYLOAD_TOO_LARGE', `an async request body is at most ${INVOCATION_BODY_LIMIT} bytes`);
    const tenant = (await this.d.services.tenantOf(req.service)) ?? throwServiceNotFound(req.service);
    const request: InvocationRequest = { method: req.method, path: req.path, headers: req.headers, body: req.body.toString('base64') };
    const inv = this.newInvocation(req.service, tenant, request, {
      // a caller's keys live apart from Skiff's own (cron:…), so no caller can pre-empt a fire
      idempotencyKey: opts.idempotencyKey !== undefined ? `key:${opts.idempotencyKey}` : null,
      callback: opts.callback ?? null,
      delivery: opts.delivery ?? ASYNC_DELIVERY,
    });
    const { invocation, created } = await this.d.records.enqueue(inv);
    if (created) this.worker?.wake();
    return { id: invocation.id, created, status: invocation.status };
  }

  /** `skiff invoke` / POST /services/NAME/invocations: the service's answer, or with `async` the
   *  queued invocation's location. */
  async invoke(service: string, b: InvokeBody) {
    const method = (b.method ?? 'POST').toUpperCase();
    const path = b.path ?? '/';
    if (b.body !== undefined && b.bodyBase64 !== undefined) throw new SkiffError('BAD_REQUEST', 'body, bodyBase64: give one');
    const body = b.bodyBase64 !== undefined ? Buffer.from(b.bodyBase64, 'base64') : Buffer.from(b.body ?? '', 'utf8');
    const headers = Object.fromEntries(Object.entries(b.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    if (b.async) {
      const r = await this.accept({ service, method, path, headers, body }, { ...(b.idempotencyKey !== undefined ? { idempotencyKey: b.idempotencyKey } : {}), ...(b.callback !== undefined ? { callback: assertCallback(b.callback) } : {}) });
      return { id: r.id, status: r.status, location: `/api/v1/invocations/${r.id}`, ...(r.created ? {} : { duplicate: true }) };
    }
    if (b.idempotencyKey !== undefined || b.callback !== undefined) throw new SkiffError('BAD_REQUEST', 'idempotencyKey, callback: only for an async invocation (async: true)');
    if ((await this.d.services.tenantOf(service)) === undefined) throwServiceNotFound(service);
    const r = await this.d.invoker.invoke({ service, method, path, headers, body });
    return { status: r.status, headers: r.headers, body: r.body.toString('utf8'), bodyBase64: r.body.toString('base64'), truncated: r.truncated };
  }

  async invocation(id: string) {
    const inv = await this.d.records.getInvocation(id);
    if (!inv) throw new SkiffError('NOT_FOUND', `no invocation ${id}`);
    return invocationView(inv);
  }

  /** The invocation's service, if there is such an invocation (the gateway answers its status only
   *  at that service's address). */
  async serviceOfInvocation(id: string): Promise<string | undefined> {
    return (await this.d.records.getInvocation(id))?.service;
  }

  /** The worker's hook: counts each attempt of a trigger's invocation; a last failure is dead-lettered. */
  async settled(inv: InvocationRecord, s: Settled): Promise<void> {
    if (!inv.trigger || !this.stats.has(inv.trigger) || s.outcome === 'cancelled') return;
    this.count(inv.trigger, s.outcome, 'error' in s ? s.error : undefined);
    if (s.outcome === 'failed') await this.d.records.addDeadLetter({ id: newId('dl'), trigger: inv.trigger, request: inv.request, attempts: inv.attempts, error: s.error, createdAt: this.d.clock.now() });
  }

  private async startConsumer(trigger: TriggerRecord): Promise<void> {
    const target = trigger.target;
    // a job target is a cron trigger's only (spec.ts)
    if (trigger.source.kind === 'cron' || target.service === undefined || trigger.paused || this.consumers.has(trigger.name)) return;
    const spec: BrokerSpec = trigger.source;
    const inFlight = await this.d.services.capacity(target.service).catch(() => 64);
    const { source, mode } = brokerSource(spec, trigger.name, inFlight);
    const name = trigger.name;
    const consumer = new BrokerConsumer({
      trigger: { ...trigger, source: spec, target },
      source,
      mode,
      invoker: this.d.invoker,
      enqueue: async (request, eventId) => {
        await this.d.records.enqueue(this.newInvocation(target.service, trigger.tenant, request, { trigger: name, idempotencyKey: `msg:${eventId}`, delivery: trigger.delivery }));
        this.worker?.wake();
      },
      settled: (outcome, error) => this.count(name, outcome, error),
      failed: (error) => {
        const stats = this.stats.get(name);
        if (stats) pushError(stats, this.d.clock.now(), error);
        this.dirty.add(name);
      },
      deadLetter: (request, attempts, error) => this.d.records.addDeadLetter({ id: newId('dl'), trigger: name, request, attempts, error, createdAt: this.d.clock.now() }),
      clock: this.d.clock,
      log: this.d.log,
      inFlight,
    });
    this.consumers.set(name, consumer);
    consumer.start();
  }

  private async stopConsumer(name: string): Promise<void> {
    const c = this.consumers.get(name);
    this.consumers.delete(name);
    await c?.stop();
  }

  /** A trigger's counters: each attempt's outcome. */
  private count(name: string, outcome: 'succeeded' | 'retrying' | 'failed', error?: string): void {
    const stats = this.stats.get(name);
    if (!stats) return; // removed meanwhile
    const now = this.d.clock.now();
    if (outcome === 'succeeded') {
      stats.deliveries++;
      stats.successes++;
    } else if (outcome === 'retrying') {
      stats.failures++;
      stats.retries++;
      pushError(stats, now, error ?? '');
    } else {
      stats.deliveries++;
      stats.failures++;
      stats.deadLettered++;
      pushError(stats, now, error ?? '');
    }
    this.dirty.add(name);
  }

  /** A cron fire: the trigger's concurrency policy, then one invocation carrying a CloudEvent; its
   *  idempotency key is the scheduled time, so a fire made twice (a restart right after it) is queued once.
   *  A job trigger's fire starts an execution instead (fireJob). */
  private async fireCron(trigger: TriggerRecord, at: number, missed: boolean): Promise<void> {
    if (trigger.source.kind !== 'cron') return;
    const source = trigger.source;
    const target = trigger.target;
    if (target.job !== undefined) return this.fireJob(trigger, target.job, source, at, missed);
    const stats = this.stats.get(trigger.name);
    if (!stats) return;
    const active = await this.d.records.activeInvocations(trigger.name);
    if (active.length && source.concurrencyPolicy === 'forbid') {
      pushError(stats, this.d.clock.now(), `fire of ${new Date(at).toISOString()} skipped: the previous one is still running (concurrency policy forbid)`);
      stats.lastFireAt = at;
      this.dirty.add(trigger.name);
      return;
    }
    if (active.length && source.concurrencyPolicy === 'replace') {
      for (const inv of active) {
        if (!this.worker?.cancel(inv.id)) await this.d.records.updateInvocation(inv.id, { status: 'cancelled', lastError: 'cancelled (replaced by a newer fire)' }, this.d.clock.now());
      }
    }
    const id = `${trigger.name}-${at}`;
    const event = binaryEvent(
      { id, source: `/skiff/triggers/${trigger.name}`, type: 'dev.skiff.cron.fired', subject: trigger.name, time: new Date(at).toISOString(), ...(source.contentType ? { contentType: source.contentType } : {}) },
      Buffer.from(source.body ?? '', 'utf8'),
    );
    const request: InvocationRequest = { method: target.method, path: target.path, headers: { ...event.headers, ...(missed ? { 'x-skiff-missed-fire': 'true' } : {}) }, body: event.body.toString('base64') };
    await this.d.records.enqueue(this.newInvocation(target.service, trigger.tenant, request, { trigger: trigger.name, idempotencyKey: `cron:${trigger.name}:${at}`, delivery: trigger.delivery }));
    stats.lastFireAt = at;
    this.dirty.add(trigger.name);
    await this.flushOne(trigger.name); // the fire is recorded before anything else can fail
    this.worker?.wake();
  }

  /**
   * A fire of a job trigger (`--job`): the concurrency policy, over the executions this trigger started
   * that are still running (not those of `skiff job run` or of another trigger: forbid skips the fire,
   * replace cancels them and waits for them to end, allow runs another), then one execution of the job,
   * as `skiff job run`. Nothing is retried here (the job's tasks have their own retries). A fire that
   * cannot start one (the job was removed, is being removed, the daemon is stopping) counts as a failed
   * attempt and says why in the last errors. The execution's id is stored with the trigger's counters
   * as soon as it started, so its end is counted even after a restart (watchExecution).
   */
  private async fireJob(trigger: TriggerRecord, job: string, source: CronSource, at: number, missed: boolean): Promise<void> {
    const name = trigger.name;
    const stats = this.stats.get(name);
    if (!stats) return;
    const when = new Date(at).toISOString();
    try {
      const jobs = this.d.jobs;
      if (!jobs) throw new SkiffError('UNAVAILABLE', 'this daemon cannot start jobs from triggers');
      const mine = new Set(stats.executions ?? []);
      const running = (await jobs.running(job)).filter((id) => mine.has(id));
      if (running.length && source.concurrencyPolicy === 'forbid') {
        pushError(stats, this.d.clock.now(), `fire of ${when} skipped: execution ${running.join(', ')} of job ${job} is still running (concurrency policy forbid)`);
      } else {
        if (running.length && source.concurrencyPolicy === 'replace') {
          await Promise.all(running.map((id) => jobs.cancel(job, id, `cancelled: replaced by the fire of ${when} of trigger ${name} (concurrency policy replace)`)));
        }
        const { execution } = await jobs.run(job);
        stats.executions = [...(stats.executions ?? []), execution];
        stats.lastExecution = execution;
        this.d.log.info({ trigger: name, job, execution, scheduledAt: when, ...(missed ? { missed } : {}) }, 'a cron fire started a job execution');
        this.watchExecution(name, job, execution);
      }
    } catch (err) {
      stats.failures++;
      pushError(stats, this.d.clock.now(), `fire of ${when}: job ${job} could not start: ${(err as Error).message}`);
      this.d.log.warn({ err, trigger: name, job }, 'a cron fire could not start its job');
    }
    stats.lastFireAt = at;
    this.dirty.add(name);
    await this.flushOne(name); // the fire and its execution are recorded now
  }

  /** Counts the execution a job trigger started once it ends (JobsPort.ended). */
  private watchExecution(name: string, job: string, execution: string): void {
    this.d.jobs?.ended(job, execution).then(
      (o) => this.executionEnded(name, job, execution, o),
      (err: unknown) => this.d.log.warn({ err, trigger: name, job, execution }, 'watching a job execution failed'),
    );
  }

  /** An execution a job trigger started ended: one delivery, a success when it succeeded, else a
   *  failure whose cause goes to the last errors. */
  private executionEnded(name: string, job: string, execution: string, o: JobOutcome): void {
    const stats = this.stats.get(name);
    // the trigger was removed meanwhile; or this daemon is stopping (the next one watches it again)
    if (!stats || o.status === 'running' || !stats.executions?.includes(execution)) return;
    stats.executions = stats.executions.filter((e) => e !== execution);
    stats.deliveries++;
    if (o.status === 'succeeded') stats.successes++;
    else {
      stats.failures++;
      const what = o.status === 'gone' ? 'is gone before it was seen to end (the job was removed)' : `${o.status}${o.message ? `: ${o.message}` : ''}`;
      pushError(stats, this.d.clock.now(), `execution ${execution} of job ${job} ${what}`);
    }
    this.dirty.add(name);
  }

  private newInvocation(service: string, tenant: string, request: InvocationRequest, o: { trigger?: string; idempotencyKey?: string | null; callback?: string | null; delivery: DeliveryPolicy }): InvocationRecord {
    const now = this.d.clock.now();
    return {
      id: newId('inv'),
      service,
      tenant,
      trigger: o.trigger ?? null,
      idempotencyKey: o.idempotencyKey ?? null,
      request,
      callback: o.callback ?? null,
      status: 'queued',
      attempts: 0,
      delivery: o.delivery,
      nextAttemptAt: now,
      response: null,
      lastError: null,
      createdAt: now,
      updatedAt: now,
    };
  }

  private async view(t: TriggerRecord, stored: TriggerStats): Promise<TriggerView> {
    const s = this.stats.get(t.name) ?? stored;
    const [deadLetters, active] = await Promise.all([this.d.records.countDeadLetters(t.name), this.d.records.activeInvocations(t.name)]);
    const iso = (ms: number) => new Date(ms).toISOString();
    const next = t.source.kind === 'cron' && !t.paused ? nextFire(t.source, this.d.clock.now()) : undefined;
    const consumer = this.consumers.get(t.name);
    const brokerBacklog = consumer ? this.backlogs.brokerBacklog(t.name) : undefined;
    const state = consumer?.current;
    return {
      name: t.name,
      project: t.tenant,
      ...(t.target.job !== undefined ? { job: t.target.job } : { service: t.target.service }),
      kind: t.source.kind,
      source: t.source.kind === 'cron' ? t.source : { ...t.source, url: redactUrl(t.source.url) },
      ...(state ? { state: { status: state.status, ...(state.error ? { error: state.error } : {}), since: iso(state.since), disconnects: state.disconnects } } : t.source.kind !== 'cron' && t.paused ? { state: { status: 'stopped' as const, since: iso(t.updatedAt) } } : {}),
      target: t.target,
      delivery: t.delivery,
      paused: t.paused,
      ...(next !== undefined ? { nextFireAt: iso(next) } : {}),
      stats: {
        deliveries: s.deliveries,
        successes: s.successes,
        failures: s.failures,
        retries: s.retries,
        deadLettered: s.deadLettered,
        lastErrors: s.lastErrors.map((e) => ({ at: iso(e.at), message: e.message })),
        ...(s.lastFireAt !== undefined ? { lastFireAt: iso(s.lastFireAt) } : {}),
        deadLetters,
        // a job trigger's: the executions it started still running
        backlog: t.target.job !== undefined ? (s.executions?.length ?? 0) : active.length,
        ...(s.executions !== undefined ? { executions: s.executions } : {}),
        ...(s.lastExecution !== undefined ? { lastExecution: s.lastExecution } : {}),
        ...(brokerBacklog !== undefined ? { brokerBacklog } : {}),
      },
      createdAt: iso(t.createdAt),
      updatedAt: iso(t.updatedAt),
    };
  }

  private async flush(): Promise<void> {
    for (const name of [...this.dirty]) await this.flushOne(name);
  }

  private async flushOne(name: string): Promise<void> {
    const s = this.stats.get(name);
    this.dirty.delete(name);
    if (s) await this.d.records.saveStats(name, s).catch((err: unknown) => (this.dirty.add(name), this.d.log.warn({ err, trigger: name }, 'saving trigger counters failed')));
  }
}

/** Async HTTP invocations: 5 attempts, 1 s, 2 s, 4 s, 8 s apart (with jitter). */
export const ASYNC_DELIVERY: DeliveryPolicy = { maxAttempts: 5, backoffMs: 1000, maxBackoffMs: 60_000 };

/** Connects to the broker once and checks the subscription exists: `trigger add` says at once what
 *  is wrong (unreachable, refused credentials, no such queue, stream or group). */
async function probeBroker(spec: BrokerSpec, name: string): Promise<void> {
  const { source } = brokerSource(spec, `${name}-probe`, 1, { probe: true });
  try {
    await withTimeout(source.open(), 15_000, () => new SkiffError('BAD_REQUEST', `${spec.kind}: ${source.describe}: no answer within 15 s`));
  } finally {
    await source.close().catch(() => undefined);
  }
}

function assertCallback(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SkiffError('BAD_REQUEST', `callback: not a URL: ${JSON.stringify(url.slice(0, 200))}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new SkiffError('BAD_REQUEST', 'callback: must be an http:// or https:// URL');
  return url;
}

function pushError(stats: TriggerStats, at: number, message: string): void {
  stats.lastErrors.push({ at, message });
  if (stats.lastErrors.length > LAST_ERRORS) stats.lastErrors.splice(0, stats.lastErrors.length - LAST_ERRORS);
}

function newId(prefix: string): string {
  return `${prefix}-${randomBytes(16).toString('hex')}`;
}

function notFound(name: string): SkiffError {
  return new SkiffError('NOT_FOUND', `no trigger named ${name}`);
}

function throwNotFound(name: string): never {
  throw notFound(name);
}

function throwServiceNotFound(service: string): never {
  throw new SkiffError('NOT_FOUND', `no service named ${service}`);
}
