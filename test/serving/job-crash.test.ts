// kill -9 of the daemon while a job execution has tasks running: after a restart on the same data dir
// the execution resumes — the interrupted tasks run again (their old containers removed first, their
// output kept), even with no retries left — and it completes with every task's work done.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { childDaemonFixture } from '../helpers/child-daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { until } from '../helpers/serving.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;

async function logLines(client: SkiffClient, job: string): Promise<string[]> {
  let text = '';
  await client.jobLogs(job, {}, (chunk) => (text += chunk));
  return text.split('\n').filter(Boolean).map((l) => l.replace(/^(\S+) \S+ (\S+) /, '$1 $2 ')); // without the times
}

test('kill -9 mid-execution: after a restart the interrupted tasks run again and the execution completes', { skip, timeout: 180_000 }, async (t) => {
  const tag = (process.pid % 200) + 30;
  const fixture = childDaemonFixture(t, { prefix: 'skiff-job-crash', bridge: `skjc-${tag}`, subnet: `10.218.${tag}.0/24`, chainPrefix: `SKJC-${tag}` });
  let child = await fixture.start();
  let client = new SkiffClient({ baseUrl: child.url, token: child.token });
  const image = await pushHttpdImage(child, uniqueRepo('job-crash'), 'v1');
  // no retries: a restart's re-run must not count as one
  await client.createJob({ name: 'crunch', image: image.reference, tasks: 4, parallelism: 2, retries: 0, command: ['sh', '-c', 'echo "start $SKIFF_TASK_INDEX attempt $SKIFF_TASK_ATTEMPT"; sleep 6; echo "done $SKIFF_TASK_INDEX"'] });
  const { id } = await client.runJob('crunch');
  await until('two tasks printing', async () => (await logLines(client, 'crunch')).filter((l) => / start /.test(l)).length === 2, 30_000);
  const interrupted = (await client.jobExecution('crunch', id)).tasks.filter((x) => x.status === 'running');
  assert.deepEqual(interrupted.map((x) => x.index), [0, 1]);
  child.proc.kill('SIGKILL');
  await child.exited;

  child = await fixture.start();
  client = new SkiffClient({ baseUrl: child.url, token: child.token });
  await until('the execution succeeded', async () => (await client.jobExecution('crunch', id)).status !== 'running', 90_000);
  const e = await client.jobExecution('crunch', id);
  assert.equal(e.status, 'succeeded', e.message);
  assert.deepEqual(e.tasks.map((x) => [x.index, x.status, x.attempts.map((a) => a.outcome)]), [
    [0, 'succeeded', ['interrupted', 'succeeded']],
    [1, 'succeeded', ['interrupted', 'succeeded']],
    [2, 'succeeded', ['succeeded']],
    [3, 'succeeded', ['succeeded']],
  ]);
  assert.match(e.tasks[0]!.attempts[0]!.message!, /the daemon stopped while it ran/);

  // every task's work done, and the interrupted attempts' output kept too
  const lines = await logLines(client, 'crunch');
  for (const i of [0, 1, 2, 3]) assert.ok(lines.includes(`${i}/${i < 2 ? 1 : 0} stdout done ${i}`), `task ${i} finished: ${lines.join(' | ')}`);
  assert.ok(lines.includes('0/0 stdout start 0 attempt 0') && lines.includes('1/0 stdout start 1 attempt 0'), lines.join(' | '));
  assert.ok(!lines.some((l) => /^[01]\/0 stdout done/.test(l)), 'the interrupted attempts were killed before they finished');

  // the interrupted containers are gone
  const dir = path.join(fixture.dataDir, 'instances');
  const left = existsSync(dir) ? readdirSync(dir) : [];
  assert.deepEqual(interrupted.map((x) => x.attempts[0]!.instance).filter((c) => left.includes(c)), []);
});
