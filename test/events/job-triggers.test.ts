// Cron triggers that start a job (docs/events.md "Cron triggers that start a job"), end to end: the
// compiled CLI against a daemon running real runc task containers. A trigger firing every 2 s starts
// executions of the job, which `skiff job describe` shows and the trigger counts; `trigger rm` stops
// it. forbid skips a fire while the trigger's own execution runs, replace cancels it (and leaves an
// execution started by another trigger alone); a job removed under its trigger makes the next fire say
// so; bad input is refused at `trigger add` naming the flag (CLI) or the field (API).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { skiffOk as ok, skiffFails as fails } from '../helpers/cli.ts';
import { until } from '../helpers/serving.ts';
import { SkiffClient } from '../../src/api/client.ts';
import { SkiffError } from '../../src/core/errors.ts';
import type { JobView } from '../../src/core/jobs.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;

test('cron triggers with --job: fires start executions (job describe), forbid, replace, job rm refused while a trigger starts it, bad input, rm', { skip, timeout: 240_000 }, async (t) => {
  const d = await startTestDaemon(t);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const image = await pushHttpdImage(d, uniqueRepo('cron-job'), 'v1');
  await ok(d, ['job', 'create', 'report-batch', '--image', image.reference, '--', 'sh', '-c', 'echo "report by $SKIFF_EXECUTION"']);
  await ok(d, ['job', 'create', 'long', '--image', image.reference, '--', 'sleep', '60']);
  const describeJob = async (name: string) => JSON.parse(await ok(d, ['job', 'describe', name, '-o', 'json'])) as JobView;

  await t.test('bad input is refused at add time, naming the flag or the field', async () => {
    await fails(d, ['trigger', 'add', 'x', '--job', 'nope', '--cron', '0 3 * * *'], /^skiff: error NOT_FOUND: job: no job named nope/m);
    await fails(d, ['trigger', 'add', 'x', '--job', 'report-batch', '--nats', 'nats://127.0.0.1:1', '--subject', 'a'], /^skiff: error USAGE: --job: only with --cron \(a --nats trigger feeds a service/m);
    await fails(d, ['trigger', 'add', 'x', '--job', 'report-batch', '--cron', '0 3 * * *', '--path', '/run'], /^skiff: error USAGE: --path: not with --job/m);
    await fails(d, ['trigger', 'add', 'x', '--job', 'report-batch', '--service', 'report', '--cron', '0 3 * * *'], /^skiff: error USAGE: trigger add: give a target: --service NAME or --job NAME \(one of them, not both\)/m);
    await fails(d, ['trigger', 'add', 'x', '--cron', '0 3 * * *'], /^skiff: error USAGE: trigger add: give a target/m);
    // the API checks the same (names the field)
    const refused = async (doc: object, message: RegExp) =>
      assert.rejects(client.addTrigger({ name: 'x', ...doc }), (e: unknown) => e instanceof SkiffError && e.code === 'BAD_REQUEST' && message.test(e.message));
    await refused({ job: 'report-batch', nats: 'nats://127.0.0.1:1', subject: 'a' }, /^job: only a cron trigger can start a job/);
    await refused({ job: 'report-batch', cron: '0 3 * * *', path: '/run' }, /^path: not a setting of a job trigger/);
    await refused({ job: 'report-batch', service: 'report', cron: '0 3 * * *' }, /^service, job: a trigger targets exactly one/);
    assert.deepEqual((await client.listTriggers()).triggers, [], 'nothing was stored');
  });

  await t.test('every 2 s: each fire starts an execution of the job, which job describe shows; rm stops it', async () => {
    const added = await ok(d, ['trigger', 'add', 'tick', '--job', 'report-batch', '--cron', '*/2 * * * * *']);
    assert.match(added, /^added {5}tick → job report-batch, next fire \d{4}-\d\d-\d\dT/m);
    await until('an execution started by the trigger succeeded', async () => (await client.trigger('tick')).stats.successes >= 1, 60_000);
    const v = await client.trigger('tick');
    assert.equal(v.job, 'report-batch');
    assert.deepEqual(v.target, { job: 'report-batch' });
    const started = v.stats.lastExecution!;
    assert.match(started, /^report-batch-[a-z0-9]{5}$/);
    const job = await describeJob('report-batch');
    assert.ok(job.executions.some((e) => e.id === started), `${started} in skiff job describe: ${job.executions.map((e) => e.id).join(', ')}`);
    const succeeded = job.executions.find((e) => e.status === 'succeeded')!;
    assert.match(await ok(d, ['job', 'logs', 'report-batch', '--execution', succeeded.id]), new RegExp(`^0/0 \\S+ stdout report by ${succeeded.id}$`, 'm'));
    assert.match(await ok(d, ['job', 'describe', 'report-batch']), new RegExp(`^  ${succeeded.id}  succeeded`, 'm'));

    const described = await ok(d, ['trigger', 'describe', 'tick']);
    assert.match(described, /^target    job report-batch: each fire starts an execution/m);
    assert.match(described, /^schedule  \*\/2 \* \* \* \* \* \(UTC\), concurrency allow, missed fires skip$/m);
    assert.match(described, /^counters  \d+ executions ended \(\d+ succeeded\), 0 failed/m);
    assert.doesNotMatch(described, /^delivery /m, 'no delivery policy: nothing is sent');
    assert.match(await ok(d, ['trigger', 'ls']), /^tick\s+job report-batch\s+\*\/2 \* \* \* \* \* UTC\s+\S+\s+\d+\s+0\s+0$/m);

    await ok(d, ['trigger', 'rm', 'tick']);
    await fails(d, ['trigger', 'describe', 'tick'], /^skiff: error NOT_FOUND: no trigger named tick/m);
    const before = (await client.job('report-batch')).executions.length;
    await new Promise((r) => setTimeout(r, 4500));
    assert.ok((await client.job('report-batch')).executions.length <= before + 1, 'no fire after rm (at most the one under way)');
  });

  let held = '';
  await t.test('forbid: a fire is skipped while the execution the trigger started is still running', async () => {
    await ok(d, ['trigger', 'add', 'hold', '--job', 'long', '--cron', '*/2 * * * * *', '--concurrency-policy', 'forbid']);
    await until('a skipped fire', async () => (await client.trigger('hold')).stats.lastErrors.some((e) => /skipped: execution long-[a-z0-9]{5} of job long is still running \(concurrency policy forbid\)/.test(e.message)), 30_000);
    await ok(d, ['trigger', 'rm', 'hold']);
    const running = (await describeJob('long')).executions.filter((e) => e.status === 'running');
    assert.equal(running.length, 1, 'one execution, the others skipped');
    held = running[0]!.id;
  });

  await t.test('replace: the running execution the trigger started is cancelled for the new one; another one is left alone', async () => {
    await ok(d, ['trigger', 'add', 'swap', '--job', 'long', '--cron', '*/2 * * * * *', '--concurrency-policy', 'replace']);
    await until('an execution replaced', async () => (await describeJob('long')).executions.some((e) => e.status === 'cancelled'), 60_000);
    await ok(d, ['trigger', 'rm', 'swap']);
    const executions = (await describeJob('long')).executions;
    const cancelled = executions.find((e) => e.status === 'cancelled')!;
    assert.match(cancelled.message!, /^cancelled: replaced by the fire of \S+ of trigger swap \(concurrency policy replace\)$/);
    assert.equal(executions.find((e) => e.id === held)?.status, 'running', "the forbid trigger's execution is not this trigger's to cancel");
    await ok(d, ['job', 'rm', 'long', '--force']);
  });

  await t.test('a job a trigger starts is not removed under it: job rm names the trigger, and works once it is gone', async () => {
    await ok(d, ['job', 'create', 'doomed', '--image', image.reference, '--', 'true']);
    await ok(d, ['trigger', 'add', 'orphan', '--job', 'doomed', '--cron', '0 3 * * *']);
    await fails(d, ['job', 'rm', 'doomed', '--force'], /^skiff: error CONFLICT: job doomed: trigger orphan starts it: remove it first \(skiff trigger rm orphan\)$/m);
    assert.equal((await client.job('doomed')).name, 'doomed', 'still there');
    await ok(d, ['trigger', 'rm', 'orphan']);
    await ok(d, ['job', 'rm', 'doomed']);
  });
});
