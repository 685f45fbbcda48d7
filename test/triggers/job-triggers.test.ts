// Cron triggers that start a job (`skiff trigger add NAME --job JOB --cron …`): the triggers service and
// its cron scheduler on a fake clock and a real SQLite store, the job service an in-process JobsPort.
// A fire starts one execution (no request, no pre-warm); its end is counted (success or failure with
// the cause in the last errors); the concurrency policies over the executions the trigger started;
// a missed fire at start; executions started before a restart still counted; a job removed under a
// trigger (the fire says so); and add-time validation naming the field.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SkiffError } from '../../src/core/errors.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/repositories.ts';
import { setupTriggers } from './harness.ts';
import type { JobOutcome, JobsPort } from '../../src/triggers/ports.ts';
import type { TriggerDocument } from '../../src/core/events.ts';

interface FakeExecution {
  job: string;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  message?: string;
  /** resolves ended() */
  end: (o: JobOutcome) => void;
  ended: Promise<JobOutcome>;
}

/** The job service's side: jobs by name (their tenant), the executions started, ended by the test. */
class FakeJobs implements JobsPort {
  readonly jobs = new Map<string, string>([['report-batch', 'default']]);
  readonly executions = new Map<string, FakeExecution>();
  readonly cancels: Array<{ id: string; reason: string }> = [];
  private n = 0;

  async tenantOf(job: string) {
    return this.jobs.get(job);
  }
  async run(job: string) {
    if (!this.jobs.has(job)) throw new SkiffError('NOT_FOUND', `no job ${JSON.stringify(job)} (skiff job ls lists them)`);
    const id = `${job}-${++this.n}`;
    let end!: (o: JobOutcome) => void;
    const ended = new Promise<JobOutcome>((r) => (end = r));
    this.executions.set(id, { job, status: 'running', end, ended });
    return { execution: id };
  }
  async running(job: string) {
    return [...this.executions].filter(([, e]) => e.job === job && e.status === 'running').map(([id]) => id);
  }
  ended(_job: string, id: string): Promise<JobOutcome> {
    const e = this.executions.get(id);
    if (!e) return Promise.resolve({ status: 'gone' });
    return e.status === 'running' ? e.ended : Promise.resolve({ status: e.status, ...(e.message ? { message: e.message } : {}) });
  }
  async cancel(_job: string, id: string, reason: string) {
    this.cancels.push({ id, reason });
    this.finish(id, 'cancelled', reason);
  }
  /** ends an execution as the job service would */
  finish(id: string, status: 'succeeded' | 'failed' | 'cancelled', message?: string): void {
    const e = this.executions.get(id)!;
    e.status = status;
    if (message !== undefined) e.message = message;
    e.end({ status, ...(message !== undefined ? { message } : {}) });
  }
  /** `skiff job rm --force`: its executions go with it */
  remove(job: string): void {
    this.jobs.delete(job);
    for (const [id, e] of this.executions) {
      if (e.job !== job) continue;
      this.executions.delete(id);
      e.end({ status: 'gone' });
    }
  }
  /** the daemon stops: the executions stay running in the store, nobody runs them here */
  stop(): void {
    for (const e of this.executions.values()) if (e.status === 'running') e.end({ status: 'running' });
  }
  /** the next daemon resumed them */
  resume(): void {
    for (const e of this.executions.values()) if (e.status === 'running') e.ended = new Promise<JobOutcome>((r) => (e.end = r));
  }
}

async function setup(t: TestContext, startAt: string, o: { store?: Store; jobs?: FakeJobs } = {}) {
  const jobs = o.jobs ?? new FakeJobs();
  return { ...(await setupTriggers(t, startAt, { ...o, jobs })), jobs };
}

const nightly: TriggerDocument = { name: 'nightly', job: 'report-batch', cron: '0 3 * * *', timezone: 'Europe/Paris' };
const settle = () => new Promise((r) => setImmediate(r));

test('add: a job trigger is stored as {job}; a missing job, --job without --cron, request fields and both targets are refused naming the field', async (t) => {
  const s = await setup(t, '2026-12-06T01:00:00Z');
  const refused = async (doc: Partial<TriggerDocument>, code: string, message: RegExp) =>
    assert.rejects(s.triggers.add({ name: 'x', cron: '0 3 * * *', ...doc } as TriggerDocument, 'default'), (e: unknown) => e instanceof SkiffError && e.code === code && message.test(e.message));
  await refused({ job: 'nope' }, 'NOT_FOUND', /^job: no job named nope \(create it first with skiff job create/);
  await refused({ job: 'report-batch', cron: undefined, nats: 'nats://127.0.0.1:1', subject: 'a' }, 'BAD_REQUEST', /^job: only a cron trigger can start a job .*not a nats trigger/);
  await refused({ job: 'report-batch', path: '/run' }, 'BAD_REQUEST', /^path: not a setting of a job trigger/);
  await refused({ job: 'report-batch', method: 'PUT', body: '{}' }, 'BAD_REQUEST', /^method, body: not a setting of a job trigger/);
  await refused({ job: 'report-batch', maxAttempts: 3 }, 'BAD_REQUEST', /^maxAttempts: not a setting of a job trigger/);
  await refused({ job: 'report-batch', service: 'report' }, 'BAD_REQUEST', /^service, job: a trigger targets exactly one .*not both/);
  await refused({}, 'BAD_REQUEST', /^service, job: a trigger targets exactly one .*got neither/);
  s.jobs.jobs.set('theirs', 'other-tenant');
  await refused({ job: 'theirs' }, 'NOT_FOUND', /^job: no job named theirs/);
  assert.deepEqual(await s.triggers.list(), [], 'nothing was stored');

  const view = await s.triggers.add(nightly, 'default');
  assert.deepEqual([view.job, view.service, view.target, view.nextFireAt, view.stats.backlog], ['report-batch', undefined, { job: 'report-batch' }, '2026-12-06T02:00:00.000Z', 0]);
  assert.deepEqual((await s.store.events.getTrigger('nightly'))!.trigger.target, { job: 'report-batch' }, 'the JSON target column holds the job');
});

test('a fire starts one execution at its instant, with no request and no pre-warm; its end is counted', async (t) => {
  const s = await setup(t, '2026-12-06T01:59:00Z');
  await s.triggers.add({ ...nightly, cron: '0 3,4 * * *' }, 'default');
  await s.clock.advance(59_999);
  assert.equal(s.jobs.executions.size, 0, 'not yet');
  await s.clock.advance(1);
  assert.deepEqual([...s.jobs.executions.keys()], ['report-batch-1']);
  assert.deepEqual([s.app.requests.length, s.prewarms.length], [0, 0], 'no request, no pre-warm');
  let v = await s.triggers.get('nightly');
  assert.deepEqual([v.stats.backlog, v.stats.executions, v.stats.lastExecution, v.stats.lastFireAt, v.nextFireAt], [1, ['report-batch-1'], 'report-batch-1', '2026-12-06T02:00:00.000Z', '2026-12-06T03:00:00.000Z']);
  assert.deepEqual((await s.store.events.getTrigger('nightly'))!.stats.executions, ['report-batch-1'], 'stored at once');

  s.jobs.finish('report-batch-1', 'succeeded');
  await settle();
  v = await s.triggers.get('nightly');
  assert.deepEqual([v.stats.deliveries, v.stats.successes, v.stats.failures, v.stats.backlog, v.stats.lastErrors], [1, 1, 0, 0, []]);

  await s.clock.advance(3_600_000); // the next fire (04:00 in Paris): it fails
  s.jobs.finish('report-batch-2', 'failed', 'task 3 failed after 4 attempts (retries: 3): exited with code 2');
  await settle();
  v = await s.triggers.get('nightly');
  assert.deepEqual([v.stats.deliveries, v.stats.successes, v.stats.failures, v.stats.retries, v.stats.deadLettered, v.stats.deadLetters], [2, 1, 1, 0, 0, 0]);
  assert.equal(v.stats.lastErrors.at(-1)!.message, 'execution report-batch-2 of job report-batch failed: task 3 failed after 4 attempts (retries: 3): exited with code 2');
});

test('concurrency policies over the executions the trigger started: forbid skips, replace cancels, allow runs both', async (t) => {
  for (const policy of ['forbid', 'replace', 'allow'] as const) {
    await t.test(policy, async (t) => {
      const s = await setup(t, '2026-12-06T10:00:30Z');
      // an execution started by someone else (skiff job run) does not count
      await s.jobs.run('report-batch');
      await s.triggers.add({ name: 'every', job: 'report-batch', cron: '* * * * *', concurrencyPolicy: policy }, 'default');
      await s.clock.advance(30_000); // 10:01: the trigger's first execution, still running at 10:02
      assert.deepEqual(await s.jobs.running('report-batch'), ['report-batch-1', 'report-batch-2']);
      await s.clock.advance(60_000);
      const v = await s.triggers.get('every');
      const running = await s.jobs.running('report-batch');
      if (policy === 'forbid') {
        assert.deepEqual(running, ['report-batch-1', 'report-batch-2'], 'skipped');
        assert.match(v.stats.lastErrors.at(-1)!.message, /^fire of 2026-12-06T10:02:00.000Z skipped: execution report-batch-2 of job report-batch is still running \(concurrency policy forbid\)$/);
        assert.deepEqual([v.stats.backlog, v.stats.lastFireAt], [1, '2026-12-06T10:02:00.000Z']);
      } else if (policy === 'replace') {
        assert.deepEqual(running, ['report-batch-1', 'report-batch-3'], 'the old one cancelled, the new one started');
        assert.deepEqual(s.jobs.cancels, [{ id: 'report-batch-2', reason: 'cancelled: replaced by the fire of 2026-12-06T10:02:00.000Z of trigger every (concurrency policy replace)' }]);
        assert.deepEqual([v.stats.deliveries, v.stats.failures, v.stats.backlog, v.stats.executions], [1, 1, 1, ['report-batch-3']]);
        assert.match(v.stats.lastErrors.at(-1)!.message, /^execution report-batch-2 of job report-batch cancelled: cancelled: replaced by the fire/);
      } else {
        assert.deepEqual(running, ['report-batch-1', 'report-batch-2', 'report-batch-3'], 'both run');
        assert.deepEqual([v.stats.backlog, v.stats.lastErrors], [2, []]);
      }
    });
  }
});

test('a job removed under its trigger: the running execution and the next fire say so in the last errors', async (t) => {
  const s = await setup(t, '2026-12-06T10:00:59Z');
  await s.triggers.add({ name: 'every', job: 'report-batch', cron: '* * * * *' }, 'default');
  await s.clock.advance(1000);
  s.jobs.remove('report-batch');
  await settle();
  await s.clock.advance(60_000);
  const v = await s.triggers.get('every');
  assert.deepEqual(
    v.stats.lastErrors.map((e) => e.message),
    ['execution report-batch-1 of job report-batch is gone before it was seen to end (the job was removed)', 'fire of 2026-12-06T10:02:00.000Z: job report-batch could not start: no job "report-batch" (skiff job ls lists them)'],
  );
  assert.deepEqual([v.stats.deliveries, v.stats.successes, v.stats.failures, v.stats.backlog, v.stats.lastFireAt], [1, 0, 2, 0, '2026-12-06T10:02:00.000Z']);
  assert.equal(v.job, 'report-batch', 'the trigger still shows its target');
});

test('restart: a missed fire (run-once) starts one execution; one started before the stop is still counted when it ends', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-job-triggers-'));
  const store = await openStore({ dataDir: dir });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const jobs = new FakeJobs();
  const first = await setup(t, '2026-12-03T02:59:59Z', { store, jobs });
  await first.triggers.add({ ...nightly, name: 'once', timezone: 'UTC', missed: 'run-once', concurrencyPolicy: 'forbid' }, 'default');
  await first.triggers.add({ ...nightly, name: 'skipped', timezone: 'UTC', missed: 'skip' }, 'default');
  await first.clock.advance(1000); // Dec 3 03:00: both start an execution, still running at the stop
  assert.deepEqual([...jobs.executions.keys()], ['report-batch-1', 'report-batch-2']);
  jobs.stop();
  await first.stop();
  jobs.resume(); // the next daemon's job service resumes them

  // Dec 6 12:00: Dec 4, 5 and 6 were missed. forbid: 'once' still has its execution of Dec 3 running
  const second = await setup(t, '2026-12-06T12:00:00Z', { store, jobs });
  assert.equal(jobs.executions.size, 2, 'no missed fire made while its execution runs (forbid); none for skip');
  assert.match((await second.triggers.get('once')).stats.lastErrors.at(-1)!.message, /^fire of 2026-12-06T03:00:00.000Z skipped: execution report-batch-1 of job report-batch is still running/);
  jobs.finish('report-batch-1', 'succeeded');
  jobs.finish('report-batch-2', 'succeeded');
  await settle();
  for (const name of ['once', 'skipped']) {
    const v = await second.triggers.get(name);
    assert.deepEqual([v.stats.deliveries, v.stats.successes, v.stats.backlog], [1, 1, 0], `${name}: the execution started before the restart counted`);
  }
  await second.stop();

  // Dec 9: the missed fire of Dec 9 03:00 is made once (run-once), nothing for skip
  await setup(t, '2026-12-09T12:00:00Z', { store, jobs });
  assert.deepEqual([...jobs.executions.keys()], ['report-batch-1', 'report-batch-2', 'report-batch-3']);
  assert.equal((await store.events.getTrigger('once'))!.stats.lastExecution, 'report-batch-3');
});
