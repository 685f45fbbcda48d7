// test/store/contract/jobs: JobsRepository on one dialect — jobs created once, executions newest first
// with the tasks that started, running ones found again at start, old ones pruned, a job removed with
// everything that belongs to it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobRecord, TaskRecord } from '../../../src/core/jobs.ts';
import { image, open, type StoreTarget } from '../fixtures.ts';

function job(name: string): JobRecord {
  return {
    name,
    tenant: 'acme',
    spec: { name, image: `team/${name}:v1`, command: ['sh', '-c', 'echo hi'], env: { A: 'b' }, memoryBytes: 268435456, cpus: 1, pids: 512, tasks: 3, parallelism: 2, retries: 1, timeoutMs: 600_000 },
    image: image(`team/${name}`),
    createdAt: 1000,
  };
}

const attempt = (instance: string, o: Partial<TaskRecord['attempts'][number]> = {}) => ({ instance, startedAt: 2000, ...o });

export function jobsContract(target: StoreTarget): void {
  test('jobs: created once, read back whole, listed by name, removed with their executions and tasks', async (t) => {
    const { jobs } = await open(t, await target.fresh(t));
    await jobs.createJob(job('nightly'));
    await assert.rejects(jobs.createJob(job('nightly')), (err: Error & { code?: string }) => err.code === 'CONFLICT' && /nightly exists/.test(err.message));
    await jobs.createJob(job('hourly'));
    assert.deepEqual(await jobs.getJob('nightly'), job('nightly'));
    assert.equal(await jobs.getJob('nope'), undefined);
    assert.deepEqual((await jobs.listJobs()).map((j) => j.name), ['hourly', 'nightly']);

    await jobs.createExecution({ id: 'nightly-aaaaa', job: 'nightly', taskCount: 3, createdAt: 3000 });
    await jobs.putTask('nightly-aaaaa', { index: 1, status: 'running', attempts: [attempt('run-000000000001')] }, 3001);
    await jobs.createExecution({ id: 'hourly-bbbbb', job: 'hourly', taskCount: 3, createdAt: 3000 });
    await jobs.putTask('hourly-bbbbb', { index: 0, status: 'running', attempts: [attempt('run-000000000002')] }, 3001);
    assert.equal(await jobs.deleteJob('nightly'), true);
    assert.equal(await jobs.deleteJob('nightly'), false);
    assert.equal(await jobs.getJob('nightly'), undefined);
    assert.equal(await jobs.getExecution('nightly-aaaaa'), undefined, 'its executions went with it');
    assert.deepEqual((await jobs.getExecution('hourly-bbbbb'))?.tasks.map((x) => x.index), [0], "another job's are untouched");
  });

  test('jobs: an execution starts running with no task started; tasks are written whole; it finishes once', async (t) => {
    const { jobs } = await open(t, await target.fresh(t));
    await jobs.createJob(job('batch'));
    await jobs.createExecution({ id: 'batch-00001', job: 'batch', taskCount: 3, createdAt: 5000 });
    assert.deepEqual(await jobs.getExecution('batch-00001'), { id: 'batch-00001', job: 'batch', status: 'running', message: null, taskCount: 3, createdAt: 5000, endedAt: null, tasks: [] });

    const failed = attempt('run-00000000000a', { endedAt: 2500, outcome: 'failed' as const, exit: { reason: 'exited' as const, exitCode: 3 }, message: 'exited with code 3; last output: "boom"' });
    await jobs.putTask('batch-00001', { index: 2, status: 'running', attempts: [attempt('run-00000000000a')] }, 5001);
    await jobs.putTask('batch-00001', { index: 0, status: 'succeeded', attempts: [attempt('run-00000000000b', { endedAt: 2100, outcome: 'succeeded', exit: { reason: 'exited', exitCode: 0 } })] }, 5002);
    await jobs.putTask('batch-00001', { index: 2, status: 'pending', attempts: [failed] }, 5003);
    const read = await jobs.getExecution('batch-00001');
    assert.deepEqual(read?.tasks, [
      { index: 0, status: 'succeeded', attempts: [attempt('run-00000000000b', { endedAt: 2100, outcome: 'succeeded', exit: { reason: 'exited', exitCode: 0 } })] },
      { index: 2, status: 'pending', attempts: [failed] },
    ]);
    assert.deepEqual((await jobs.runningExecutions()).map((e) => e.id), ['batch-00001']);

    await jobs.finishExecution('batch-00001', 'failed', 'task 2 exited with code 3', 9000);
    const done = await jobs.getExecution('batch-00001');
    assert.deepEqual([done?.status, done?.message, done?.endedAt], ['failed', 'task 2 exited with code 3', 9000]);
    assert.deepEqual(await jobs.runningExecutions(), []);
  });

  test('jobs: executions newest first; running ones oldest first for a restart; old ended ones pruned, running ones never', async (t) => {
    const { jobs } = await open(t, await target.fresh(t));
    await jobs.createJob(job('batch'));
    await jobs.createJob(job('other'));
    for (let i = 1; i <= 5; i++) await jobs.createExecution({ id: `batch-0000${i}`, job: 'batch', taskCount: 1, createdAt: 1000 * i });
    await jobs.createExecution({ id: 'other-00001', job: 'other', taskCount: 1, createdAt: 1500 });
    for (const id of ['batch-00002', 'batch-00003', 'batch-00005']) {
      await jobs.putTask(id, { index: 0, status: 'succeeded', attempts: [attempt(`run-${id.slice(-5)}0000000`)] }, 1);
      await jobs.finishExecution(id, 'succeeded', null, 10_000);
    }
    assert.deepEqual((await jobs.executionsOf('batch', 10)).map((e) => e.id), ['batch-00005', 'batch-00004', 'batch-00003', 'batch-00002', 'batch-00001']);
    assert.deepEqual((await jobs.executionsOf('batch', 2)).map((e) => e.id), ['batch-00005', 'batch-00004']);
    assert.deepEqual((await jobs.executionsOf('batch', 1))[0]?.tasks.length, 1);
    assert.deepEqual((await jobs.runningExecutions()).map((e) => e.id), ['batch-00001', 'other-00001', 'batch-00004']);

    // keep 2: batch-00005 and batch-00004 stay; of the older, the ended ones go, batch-00001 still runs
    assert.deepEqual((await jobs.pruneExecutions('batch', 2)).sort(), ['batch-00002', 'batch-00003']);
    assert.deepEqual((await jobs.executionsOf('batch', 10)).map((e) => e.id), ['batch-00005', 'batch-00004', 'batch-00001']);
    assert.equal(await jobs.getExecution('batch-00002'), undefined);
    assert.deepEqual(await jobs.pruneExecutions('batch', 2), []);
    assert.deepEqual((await jobs.executionsOf('other', 10)).map((e) => e.id), ['other-00001']);
  });
}
