// `skiff run` end to end: the real CLI in a child process against an in-process daemon running real runc
// one-off containers of the busybox test image — output streamed live to the right stream, exit codes,
// OOM kill, env, read-only root, by tag and by digest, unknown images, Ctrl-C, and nothing left behind;
// and the created containers kept for the next identical run (serving/run-spares.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { removeTestNetwork, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { skiff, spawnSkiff } from '../helpers/cli.ts';
import { until } from '../helpers/serving.ts';
import { exitStatus } from '../../src/cli/run.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;

/** What a run could leave behind: instance dirs (rootfs), runtime state, mounts under the data dir, netns. */
function leftovers(d: TestDaemon, ids: string[] = []) {
  const entries = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);
  const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return {
    instances: entries(path.join(d.dataDir, 'instances')),
    runtime: entries(path.join(d.dataDir, 'runtime', 'instances')),
    mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(d.dataDir)),
    netns: ids.filter((id) => netns.includes(`skiff-${id}`)),
  };
}
const NOTHING = { instances: [], runtime: [], mounts: [], netns: [] };

// A container's init cannot be signalled from inside (PID 1 ignores signals it has no handler for), so
// the signal case is checked on the pure mapping.
test('exit status: exit code, 128+signal, 137 with the OOM message naming the limit, pids limit hits', () => {
  assert.deepEqual(exitStatus({ reason: 'exited', exitCode: 3 }, undefined), { code: 3, messages: [] });
  assert.deepEqual(exitStatus({ reason: 'signalled', signal: 9 }, undefined), { code: 137, messages: [] });
  assert.deepEqual(exitStatus({ reason: 'oom-killed', exitCode: 137, memoryLimitBytes: 32 << 20 }, '32Mi'), { code: 137, messages: ['skiff: container was OOM-killed (memory limit 32Mi)'] });
  assert.deepEqual(exitStatus({ reason: 'oom-killed', exitCode: 137, memoryLimitBytes: 256 << 20 }, undefined), { code: 137, messages: ['skiff: container was OOM-killed (memory limit 256Mi)'] });
  assert.deepEqual(exitStatus({ reason: 'exited', exitCode: 0, pidsLimitHits: 2, pidsLimit: 8 }, undefined), { code: 0, messages: ['skiff: container hit its pids limit (8): 2 forks failed'] });
});

test('skiff run: output, exit codes, limits, env, read-only root, digests, errors, Ctrl-C', { skip, timeout: 180_000 }, async (t) => {
  // no spares: each run here must leave nothing behind (spares have their own test below)
  const d = await startTestDaemon(t, { settings: (s) => void (s.coldStart.runSpares = 0) });
  const repo = uniqueRepo('cli-run');
  const image = await pushHttpdImage(d, repo, 'v1');
  const run = (...args: string[]) => skiff(d, ['run', ...args]);

  await t.test('the endpoint is in the OpenAPI document with its request schema', async () => {
    const doc = (await (await fetch(`${d.url}/api/openapi.json`)).json()) as { paths: Record<string, { post?: { requestBody?: { content: Record<string, { schema: { properties: object } }> } } }> };
    const body = doc.paths['/api/v1/runs']?.post?.requestBody?.content['application/json']?.schema;
    assert.deepEqual(Object.keys(body?.properties ?? {}).sort(), ['capAdd', 'command', 'cpus', 'disk', 'env', 'image', 'memory', 'pids', 'readOnly']);
  });

  await t.test('streams stdout and exits 0', async () => {
    const r = await run(image.reference, 'echo', 'hello');
    assert.deepEqual(r, { code: 0, stdout: 'hello\n', stderr: '' });
    assert.deepEqual(leftovers(d), NOTHING);
  });

  await t.test('exits with the container exit code; flags after IMAGE belong to the command', async () => {
    const r = await run(image.reference, 'sh', '-c', 'echo out; echo err >&2; exit 3');
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  await t.test('--env is visible to the process', async () => {
    const r = await run('--env', 'A=B', '--env', 'C=d=e', image.reference, 'sh', '-c', 'echo "$A $C"');
    assert.deepEqual(r, { code: 0, stdout: 'B d=e\n', stderr: '' });
  });

  await t.test('--read-only makes writes to the image root fail', async () => {
    // /state is world-writable in the image, so only the read-only mount can refuse the write
    const writable = await run(image.reference, 'touch', '/state/x');
    assert.equal(writable.code, 0, writable.stderr);
    const r = await run('--read-only', image.reference, 'touch', '/state/x');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Read-only file system/);
  });

  await t.test('a memory hog under --memory 32Mi is OOM-killed: exit 137 and a clear message', async () => {
    const r = await run('--memory', '32Mi', image.reference, 'sh', '-c', 'x=a; while :; do x=$x$x; done');
    assert.equal(r.code, 137, r.stderr);
    assert.match(r.stderr, /^skiff: container was OOM-killed \(memory limit 32Mi\)$/m);
    assert.deepEqual(leftovers(d), NOTHING);
  });

  await t.test('forks refused at the --pids limit are reported', async () => {
    const r = await run('--pids', '4', image.reference, 'sh', '-c', 'for i in 1 2 3 4 5 6; do sleep 1 & done; wait');
    assert.match(r.stderr, /can't fork/);
    assert.match(r.stderr, /^skiff: container hit its pids limit \(4\): [1-9]\d* forks failed$/m);
    const fine = await run('--pids', '16', image.reference, 'sh', '-c', 'for i in 1 2 3 4 5 6; do sleep 0.1 & done; wait');
    assert.deepEqual(fine, { code: 0, stdout: '', stderr: '' });
  });

  await t.test('runs an image by digest', async () => {
    const r = await run(`${repo}@${image.digest}`, 'cat', '/www/index.html');
    assert.deepEqual(r, { code: 0, stdout: 'hello from v1\n', stderr: '' });
  });

  await t.test('an unknown image or tag exits 1 with the registry code', async () => {
    const noTag = await run(`${repo}:nope`, 'true');
    assert.equal(noTag.code, 1);
    assert.match(noTag.stderr, /MANIFEST_UNKNOWN|NAME_UNKNOWN/);
    const noRepo = await run(uniqueRepo('cli-run-missing'), 'true');
    assert.equal(noRepo.code, 1);
    assert.match(noRepo.stderr, /MANIFEST_UNKNOWN|NAME_UNKNOWN/);
    const badFlag = await run('--memory', 'lots', image.reference, 'true');
    assert.equal(badFlag.code, 1);
    assert.match(badFlag.stderr, /BAD_REQUEST: --memory/);
  });

  await t.test('output arrives while the container runs; Ctrl-C kills and removes it', async () => {
    const child = spawnSkiff(d.url, d.token, ['run', image.reference, 'sh', '-c', 'echo started; sleep 60']);
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    t.after(() => child.kill('SIGKILL'));
    await until('the first line, before the container exits', async () => stdout === 'started\n', 20_000);
    const ids = leftovers(d).instances;
    assert.equal(ids.length, 1);
    assert.match(ids[0]!, /^run-[0-9a-f]{12}$/);
    assert.equal(leftovers(d, ids).netns.length, 1);
    child.kill('SIGINT');
    assert.equal(await closed, 130);
    await until('the container to be removed', async () => JSON.stringify(leftovers(d, ids)) === JSON.stringify(NOTHING), 20_000);
  });
});

test('run spares: the next identical run starts the container created for it; a different one creates; stop removes them', { skip, timeout: 120_000 }, async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-spares-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const stopped = { done: false };
  const d = await startTestDaemon({ after: (fn: () => unknown) => void t.after(async () => void (stopped.done || (await fn()))) }, { dataDir, settings: (s) => void (s.coldStart.runSpares = 2) });
  const image = await pushHttpdImage(d, uniqueRepo('spares'), 'v1');
  /** the run's id (x-skiff-run) and what it printed */
  const runOnce = async (command: string[], env: Record<string, string> = {}) => {
    const res = await fetch(`${d.url}/api/v1/runs`, { method: 'POST', headers: { authorization: `Bearer ${d.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ image: image.reference, command, env }) });
    assert.equal(res.status, 200);
    return { id: res.headers.get('x-skiff-run')!, body: await res.text() };
  };
  const created = () => leftovers(d).instances.filter((id) => id.startsWith('run-'));

  const first = await runOnce(['sh', '-c', 'echo "one $X"'], { X: 'x' });
  assert.match(first.body, /"data":"one x\\n"/);
  await until('a spare for that request', async () => created().length === 1);
  const [spare] = created();
  assert.notEqual(spare, first.id);
  const second = await runOnce(['sh', '-c', 'echo "one $X"'], { X: 'x' });
  assert.equal(second.id, spare, 'the identical request took the spare');
  assert.match(second.body, /"data":"one x\\n"/);
  assert.match(second.body, /"exit":\{"reason":"exited","exitCode":0\}/);

  // another env is another container: created at once, and it gets a spare of its own
  const other = await runOnce(['sh', '-c', 'echo "one $X"'], { X: 'y' });
  assert.notEqual(other.id, spare);
  assert.match(other.body, /"data":"one y\\n"/);
  await until('a spare for each request', async () => created().length === 2);
  // a third request: the least recently run one's spare goes (at most 2)
  await runOnce(['true']);
  await until('at most two spares', async () => created().length === 2 && !created().includes(spare!));

  stopped.done = true;
  await d.daemon.stop();
  await removeTestNetwork(d.settings.runtime);
  assert.deepEqual(leftovers(d), NOTHING, 'the daemon removed its spares when it stopped');
});
