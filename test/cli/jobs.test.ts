// `skiff job` end to end: the real CLI in a child process against an in-process daemon running real
// runc task containers of the busybox test image — 10 tasks 3 at a time with one retried, the
// environment each task sees, its output kept after its container is gone, `--wait` exit codes, a task
// failing on every attempt, a timeout killing a task, bad input naming the flag, and `job rm` of a
// running job (CONFLICT, then --force cancels it and leaves no container behind).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { skiff } from '../helpers/cli.ts';
import { until } from '../helpers/serving.ts';
import type { ExecutionView, JobView } from '../../src/core/jobs.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;

/** Task 7's first attempt fails; every attempt says what it saw and takes a second. */
const BATCH = [
  'echo "task $SKIFF_TASK_INDEX of $SKIFF_TASK_COUNT attempt $SKIFF_TASK_ATTEMPT job $SKIFF_JOB execution $SKIFF_EXECUTION"',
  'sleep 1',
  'if [ "$SKIFF_TASK_INDEX" = 7 ] && [ "$SKIFF_TASK_ATTEMPT" = 0 ]; then echo "failing once" >&2; exit 1; fi',
].join('; ');

/** The most attempts whose [startedAt, endedAt] overlap at any moment. */
function mostAtOnce(e: ExecutionView): number {
  const edges = e.tasks.flatMap((t) => t.attempts.flatMap((a) => [[Date.parse(a.startedAt), 1], [Date.parse(a.endedAt!), -1]] as const));
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]); // an end before a start at the same ms
  let now = 0;
  let most = 0;
  for (const [, d] of edges) most = Math.max(most, (now += d));
  return most;
}

test('skiff job: create, run with parallelism and retries, describe, logs, failures, timeout, rm', { skip, timeout: 150_000 }, async (t) => {
  const d = await startTestDaemon(t);
  const repo = uniqueRepo('cli-jobs');
  const image = await pushHttpdImage(d, repo, 'v1');
  const job = (...args: string[]) => skiff(d, ['job', ...args]);
  const describe = async (name: string) => {
    const r = await job('describe', name, '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as JobView;
  };

  for (const args of [
    ['batch', '--tasks', '10', '--parallelism', '3', '--', 'sh', '-c', BATCH],
    ['failing', '--retries', '1', '--env', 'WHAT=bad things', '--', 'sh', '-c', 'echo "$WHAT happened"; exit 3'],
    ['slow', '--retries', '0', '--timeout', '2s', '--', 'sleep', '60'],
    ['long', '--tasks', '2', '--', 'sleep', '60'],
  ]) {
    const r = await job('create', args[0]!, '--image', image.reference, ...args.slice(1));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^pinned    ${repo}@${image.digest}\ncreated   ${args[0]}: `));
  }

  await t.test('bad input is refused naming the flag; an unknown image by the registry; a taken name by CONFLICT', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['x', '--image', image.reference, '--tasks', '0'], /^skiff: error BAD_REQUEST: --tasks: expected a positive integer, got "0"\n$/],
      [['x', '--image', image.reference, '--retries', '-1'], /^skiff: error BAD_REQUEST: --retries: expected a non-negative integer, got "-1"\n$/],
      [['x', '--image', image.reference, '--tasks', '2', '--parallelism', '3'], /^skiff: error BAD_REQUEST: --parallelism: 3 is more than --tasks \(2\)\n$/],
      [['x', '--image', image.reference, '--timeout', 'soon'], /^skiff: error BAD_REQUEST: --timeout: expected a duration/],
      [['x', '--image', `${repo}:nope`], /^skiff: error (MANIFEST_UNKNOWN|NAME_UNKNOWN): /],
      [['x', '--image', uniqueRepo('cli-jobs-missing')], /^skiff: error (MANIFEST_UNKNOWN|NAME_UNKNOWN): /],
      [['batch', '--image', image.reference], /^skiff: error CONFLICT: a job named batch exists/],
    ];
    for (const [args, expected] of cases) {
      const r = await job('create', ...args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, expected);
    }
    const unknown = await job('run', 'nope');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^skiff: error NOT_FOUND: no job "nope"/);
  });

  // three executions at once: the checks below read each one's record
  const [batch, failing, slow] = await Promise.all([job('run', 'batch', '--wait'), job('run', 'failing', '--wait'), job('run', 'slow', '--wait')]);

  await t.test('10 tasks, 3 at once: all succeed, task 7 after a retry; --wait exits 0', async () => {
    assert.equal(batch.code, 0, batch.stderr);
    const [id, done] = batch.stdout.trim().split('\n');
    assert.match(id!, /^batch-[a-z0-9]{5}$/);
    assert.match(done!, /^succeeded 10\/10 tasks in \d+\.\ds$/);
    const e = (await describe('batch')).executions[0]!;
    assert.equal(e.id, id);
    assert.equal(e.status, 'succeeded');
    assert.deepEqual(e.counts, { pending: 0, running: 0, succeeded: 10, failed: 0, cancelled: 0 });
    for (const task of e.tasks) {
      const want = task.index === 7 ? [['failed', 1], ['succeeded', 0]] : [['succeeded', 0]];
      assert.deepEqual(task.attempts.map((a) => [a.outcome, a.exitCode]), want, `task ${task.index}`);
    }
    assert.match(e.tasks[7]!.attempts[0]!.message!, /^exited with code 1; last output: .*"failing once"/);
    const most = mostAtOnce(e);
    assert.ok(most <= 3 && most >= 2, `at most 3 tasks at once (and more than one): ${most}`);

    const table = await job('describe', 'batch');
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^tasks     10 tasks, 3 at once, 3 retries per task, timeout 10m per attempt$/m);
    assert.match(table.stdout, new RegExp(`^  ${id}  succeeded  10/10 tasks succeeded`, 'm'));
    assert.match(table.stdout, /^ {4}7 +succeeded +2 +1,0 /m);
    const yaml = await job('describe', 'batch', '-o', 'yaml');
    assert.match(yaml.stdout, /^name: batch$/m);
    const ls = await job('ls');
    assert.match(ls.stdout, new RegExp(`^batch +${repo}:v1 +10 \\(3 at once\\) +${id} +succeeded +10/10$`, 'm'));
    const listed = JSON.parse((await job('ls', '-o', 'json')).stdout) as { jobs: JobView[] };
    assert.deepEqual(listed.jobs.map((j) => [j.name, j.executions.length]), [['batch', 1], ['failing', 1], ['long', 0], ['slow', 1]]);
  });

  await t.test('each task saw its index, the count, its attempt and the job; its output outlives its container', async () => {
    const r = await job('logs', 'batch');
    assert.equal(r.code, 0, r.stderr);
    const said = r.stdout.trim().split('\n').map((l) => /^(\d+)\/(\d+) \S+ (stdout|stderr) (.*)$/.exec(l)!);
    assert.ok(said.every(Boolean), r.stdout);
    const stdout = said.filter((m) => m[3] === 'stdout');
    assert.equal(stdout.length, 11, 'one line per attempt');
    const id = batch.stdout.split('\n')[0];
    for (const [, index, attempt, , text] of stdout) assert.equal(text, `task ${index} of 10 attempt ${attempt} job batch execution ${id}`);
    assert.deepEqual([...new Set(stdout.map((m) => Number(m[1])))].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(said.filter((m) => m[3] === 'stderr').map((m) => `${m[1]}/${m[2]} ${m[4]}`), ['7/0 failing once']);
    const one = await job('logs', 'batch', '--task', '7', '--execution', id!);
    assert.deepEqual(one.stdout.trim().split('\n').map((l) => l.split(' ')[0]), ['7/0', '7/0', '7/1']);
    const noExec = await job('logs', 'batch', '--execution', 'batch-zzzzz');
    assert.match(noExec.stderr, /^skiff: error NOT_FOUND: execution: job batch has no execution "batch-zzzzz"/);
  });

  await t.test('a task failing on every attempt fails the execution: the exit code and its output in the message, exit 1', async () => {
    assert.equal(failing.code, 1);
    assert.match(failing.stderr, /^skiff: error JOB_FAILED: execution failing-[a-z0-9]{5} failed: task 0 failed after 2 attempts \(retries: 1\): exited with code 3; last output: "bad things happened"\n$/);
    const e = (await describe('failing')).executions[0]!;
    assert.deepEqual(e.tasks[0]!.attempts.map((a) => [a.outcome, a.exitCode]), [['failed', 3], ['failed', 3]]);
  });

  await t.test('a task past its timeout is killed and the execution fails saying so', async () => {
    assert.equal(slow.code, 1);
    assert.match(slow.stderr, /^skiff: error JOB_FAILED: execution slow-[a-z0-9]{5} failed: task 0 failed after 1 attempt \(retries: 0\): exceeded its timeout \(2s\) and was killed\n$/);
    const a = (await describe('slow')).executions[0]!.tasks[0]!.attempts[0]!;
    assert.equal(a.outcome, 'timed-out');
    // killed, not ended: left alone it sleeps 60 s (as PID 1, sleep ignores the stop signal, so the
    // kill lands after the grace: ~12 s, more on a loaded machine — a bound on meaning, not on speed)
    assert.ok(a.durationMs! < 45_000, `killed after ${a.durationMs} ms`);
  });

  await t.test('job rm of a running job is CONFLICT; --force cancels it and removes its containers', async () => {
    const started = await job('run', 'long');
    assert.equal(started.code, 0, started.stderr);
    const id = started.stdout.trim();
    await until('both tasks running', async () => (await describe('long')).executions[0]!.tasks.every((x) => x.status === 'running' && x.attempts.length === 1), 30_000);
    const refused = await job('rm', 'long');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`^skiff: error CONFLICT: job long has an execution running \\(${id}\\): wait for it to end, or cancel it with skiff job rm long --force\n$`));
    const containers = (await describe('long')).executions[0]!.tasks.map((x) => x.attempts[0]!.instance);
    const forced = await job('rm', 'long', '--force');
    assert.deepEqual([forced.code, forced.stdout], [0, 'removed   long\n'], forced.stderr);
    assert.match((await job('describe', 'long')).stderr, /^skiff: error NOT_FOUND: no job "long"/);
    const dir = path.join(d.dataDir, 'instances');
    const left = existsSync(dir) ? readdirSync(dir) : [];
    assert.deepEqual(containers.filter((c) => left.includes(c)), [], 'its task containers are gone');
    assert.equal((await job('rm', 'batch')).code, 0, 'a job with no execution running goes at once');
  });
});
