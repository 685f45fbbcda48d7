// test/runtime/driver-contract: the one suite every InstanceDriver (src/core/instance.ts) passes — the
// runc driver (runc-driver.test.ts) and the in-memory fake (fake-driver.test.ts) today, Swarm later.
// It speaks only the port: images and processes come from the fixture (driver-fixture.ts), which knows
// how its driver expresses "an HTTP server that reports its environment" or "print these lines, then
// exit 3". Each case makes uniquely named instances and registers their deletion, so a failing case
// still cleans up.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import type { InstanceInfo, LogLine } from '../../src/core/instance.ts';
import { collect } from '../helpers/collect.ts';
import {
  ISO, create, envOf, get, getWhenUp, launch, logsOf, newId, settled, sleep, specOf, untilLogged, type DriverFixture, type Step,
} from './driver-fixture.ts';

export type { DriverFixture, Step } from './driver-fixture.ts';

export function driverContract(makeFixture: (t: TestContext) => Promise<DriverFixture>): void {
  test('prepare unpacks an image once; an unknown image fails with the registry\'s code and leaves nothing', async (t) => {
    const f = await makeFixture(t);
    const fresh = await f.freshImage();
    const first = await f.driver.prepare(fresh);
    assert.ok(first.total >= 1, `layers: ${first.total}`);
    assert.equal(first.unpacked, first.total);
    assert.deepEqual(await f.driver.prepare(fresh), { total: first.total, unpacked: 0 });
    await assert.rejects(f.driver.prepare(f.missingImage), { code: 'MANIFEST_UNKNOWN' });
    const id = newId(f);
    t.after(() => f.driver.delete(id));
    await assert.rejects(f.driver.create(id, specOf(f, { image: f.missingImage })), { code: 'MANIFEST_UNKNOWN' });
    assert.equal(await f.driver.inspect(id), undefined);
    assert.ok(!(await f.driver.list()).some((i) => i.id === id));
  });

  test('create: inspect and list show a created instance; a taken id is CONFLICT, an invalid one BAD_REQUEST', async (t) => {
    const f = await makeFixture(t);
    const id = await create(t, f, { service: 'svc-b', revision: 'svc-b-00007' });
    const created: InstanceInfo = { id, service: 'svc-b', revision: 'svc-b-00007', status: 'created' };
    assert.deepEqual(await f.driver.inspect(id), created);
    assert.deepEqual((await f.driver.list()).find((i) => i.id === id), created);
    await assert.rejects(f.driver.create(id, specOf(f)), { code: 'CONFLICT' });
    assert.deepEqual(await f.driver.inspect(id), created, 'the first instance is untouched');
    for (const bad of ['Upper-case', '-leading-dash', 'a/../b', '', 'x'.repeat(200)]) {
      await assert.rejects(f.driver.create(bad, specOf(f)), { code: 'BAD_REQUEST' }, JSON.stringify(bad));
    }
    // a one-off run: no revision, no port
    const run = await create(t, f, { revision: undefined, port: undefined, ...f.program([{ exit: 0 }]) });
    assert.deepEqual(await f.driver.inspect(run), { id: run, service: 'svc-a', revision: '', status: 'created' });
  });

  test('create with a command the image lacks fails and leaves nothing', async (t) => {
    const f = await makeFixture(t);
    const id = newId(f);
    t.after(() => f.driver.delete(id));
    await assert.rejects(f.driver.create(id, specOf(f, f.missingCommand)));
    assert.equal(await f.driver.inspect(id), undefined);
    assert.ok(!(await f.driver.list()).some((i) => i.id === id));
  });

  test('start: the address serves HTTP with PORT and the env as given; a second start is CONFLICT', async (t) => {
    const f = await makeFixture(t);
    const greeting = `hello-${randomBytes(4).toString('hex')}`;
    const { id, address } = await launch(t, f, { port: 8081, env: { GREETING: greeting, OTHER: 'a b=c' } });
    assert.ok(address.host.length > 0 && address.port > 0, JSON.stringify(address));
    const res = await getWhenUp(address, f.envPath);
    assert.equal(res.status, 200);
    const env = envOf(res.body);
    assert.equal(env.get('PORT'), '8081');
    assert.equal(env.get('GREETING'), greeting);
    assert.equal(env.get('OTHER'), 'a b=c');
    assert.deepEqual(await f.driver.inspect(id), { id, service: 'svc-a', revision: 'svc-a-00001', status: 'running', address });
    await assert.rejects(f.driver.start(id), { code: 'CONFLICT' });
    assert.equal((await get(address, f.envPath)).status, 200, 'still serving after the refused start');
    for (const unknown of [`${f.idPrefix}-never-created`, 'Not_Valid']) {
      await assert.rejects(f.driver.start(unknown), { code: 'NOT_FOUND' });
      await assert.rejects(f.driver.pause(unknown), { code: 'NOT_FOUND' });
      await assert.rejects(f.driver.resume(unknown), { code: 'NOT_FOUND' });
    }
  });

  test('pause holds requests until resume; inspect follows', async (t) => {
    const f = await makeFixture(t);
    const { id, address } = await launch(t, f, { env: { GREETING: 'paused' } });
    await getWhenUp(address, f.envPath);
    await f.driver.pause(id);
    assert.equal((await f.driver.inspect(id))?.status, 'paused');
    const held = get(address, f.envPath, 15_000);
    await sleep(400);
    assert.equal(await settled(held), false, 'a paused instance answered');
    await f.driver.resume(id);
    assert.equal((await f.driver.inspect(id))?.status, 'running');
    assert.equal(envOf((await held).body).get('GREETING'), 'paused');
    assert.equal(envOf((await get(address, f.envPath)).body).get('GREETING'), 'paused');
  });

  test('stop ends the process and keeps the instance (exit, logs) until delete; both are idempotent', async (t) => {
    const f = await makeFixture(t);
    const { id } = await launch(t, f, f.program([{ out: 'started' }, { until: 'stopped' }]));
    await untilLogged(f, id, 'started');
    const t0 = Date.now();
    await f.driver.stop(id, 20_000);
    assert.ok(Date.now() - t0 < 10_000, 'a process that exits on the stop signal is not given the whole grace');
    const exit = { reason: 'exited', exitCode: 0 };
    assert.deepEqual(await f.driver.watch(id), exit);
    assert.deepEqual(await f.driver.inspect(id), { id, service: 'svc-a', revision: 'svc-a-00001', status: 'stopped', exit });
    assert.deepEqual((await f.driver.list()).find((i) => i.id === id)?.status, 'stopped');
    assert.deepEqual((await collect(f.driver.logs(id))).map((l) => l.line), ['started']);
    assert.equal(await f.driver.stats(id), undefined);
    await f.driver.stop(id, 1000);
    assert.deepEqual((await f.driver.inspect(id))?.exit, exit, 'a second stop changes nothing');
    await assert.rejects(f.driver.create(id, specOf(f)), { code: 'CONFLICT' }, 'a stopped instance still holds its id');

    await f.driver.delete(id);
    assert.equal(await f.driver.inspect(id), undefined);
    assert.ok(!(await f.driver.list()).some((i) => i.id === id));
    assert.equal(await f.driver.watch(id), undefined);
    // a service's instance keeps its output once deleted (skiff logs after a scale to zero or a crash)
    assert.deepEqual((await collect(f.driver.logs(id))).map((l) => l.line), ['started']);
    assert.deepEqual((await collect(f.driver.logs(id, { tail: 1 }))).map((l) => l.line), ['started']);
    const past = (await f.driver.pastInstances('svc-a')).find((p) => p.id === id);
    assert.equal(past?.revision, 'svc-a-00001');
    assert.ok(past && past.endedAt > 0);
    assert.deepEqual(await f.driver.pastInstances('svc-none'), []);
    await f.driver.forgetLogs('svc-a');
    assert.deepEqual(await collect(f.driver.logs(id)), [], 'forgotten with its service');
    assert.equal((await f.driver.pastInstances('svc-a')).length, 0);
    await f.driver.delete(id);
    await f.driver.stop(id, 0);
    for (const unknown of [`${f.idPrefix}-never-created`, 'Not_Valid']) {
      await f.driver.stop(unknown, 0);
      await f.driver.delete(unknown);
      assert.equal(await f.driver.inspect(unknown), undefined);
      assert.equal(await f.driver.watch(unknown), undefined);
      assert.equal(await f.driver.stats(unknown), undefined);
      assert.deepEqual(await collect(f.driver.logs(unknown)), []);
    }
  });

  test('stop gives a process that ignores the stop signal its grace, then kills it', async (t) => {
    const f = await makeFixture(t);
    const { id } = await launch(t, f, f.program([{ out: 'up' }, { until: 'killed' }]));
    await untilLogged(f, id, 'up');
    const t0 = Date.now();
    await f.driver.stop(id, 600);
    assert.ok(Date.now() - t0 >= 550, `stopped after ${Date.now() - t0} ms, before its grace`);
    assert.deepEqual(await f.driver.watch(id), { reason: 'signalled', signal: 9 });
    assert.equal((await f.driver.inspect(id))?.status, 'stopped');
  });

  test('stop and delete of a created instance (never started)', async (t) => {
    const f = await makeFixture(t);
    const id = await create(t, f);
    await f.driver.stop(id, 1000);
    const info = await f.driver.inspect(id);
    assert.equal(info?.status, 'stopped');
    assert.ok(info?.exit, 'a stopped instance has an exit');
    await f.driver.delete(id);
    assert.equal(await f.driver.inspect(id), undefined);
  });

  test('exit codes propagate; watch resolves when the process ends on its own', async (t) => {
    const f = await makeFixture(t);
    for (const code of [3, 0, 255]) {
      const id = await create(t, f, f.program([{ sleepMs: 100 }, { exit: code }]));
      const watched = f.driver.watch(id); // before start: waits for the created instance to run and end
      await f.driver.start(id);
      assert.deepEqual(await watched, { reason: 'exited', exitCode: code });
      assert.deepEqual((await f.driver.inspect(id))?.exit, { reason: 'exited', exitCode: code });
      assert.deepEqual(await f.driver.watch(id), { reason: 'exited', exitCode: code }, 'at once once ended');
    }
  });

  test('an instance with a log group keeps its output under that group once deleted; a one-off run does not', async (t) => {
    const f = await makeFixture(t);
    const group = `job.${f.idPrefix}-lg`.slice(0, 60);
    const { id } = await launch(t, f, { revision: undefined, port: undefined, logGroup: group, ...f.program([{ out: 'task says hi' }, { exit: 1 }]) });
    const run = await launch(t, f, { revision: undefined, port: undefined, ...f.program([{ out: 'run says hi' }, { exit: 0 }]) });
    assert.deepEqual(await f.driver.watch(id), { reason: 'exited', exitCode: 1 });
    assert.deepEqual(await f.driver.watch(run.id), { reason: 'exited', exitCode: 0 });
    await f.driver.delete(id);
    await f.driver.delete(run.id);
    assert.deepEqual((await collect(f.driver.logs(id))).map((l) => l.line), ['task says hi']);
    assert.deepEqual(await collect(f.driver.logs(run.id)), [], 'a one-off run\'s output went to its caller');
    assert.deepEqual((await f.driver.pastInstances(group)).map((p) => [p.id, p.revision]), [[id, '']]);
    await f.driver.forgetLogs(group);
    assert.deepEqual(await collect(f.driver.logs(id)), []);
    assert.deepEqual(await f.driver.pastInstances(group), []);
  });

  test('stdout and stderr are captured, each in order, with timestamps; tail', async (t) => {
    const f = await makeFixture(t);
    const steps: Step[] = [{ out: 'o1' }, { err: 'e1' }, { out: 'o2 with  spaces' }, { err: 'e2' }, { out: 'o3' }, { exit: 4 }];
    const { id } = await launch(t, f, f.program(steps));
    assert.deepEqual(await f.driver.watch(id), { reason: 'exited', exitCode: 4 });
    const lines = await logsOf(f, id, 5);
    // stdout and stderr may be separate pipes: order within a stream is kept, across streams it need not be
    assert.deepEqual(lines.filter((l) => l.stream === 'stdout').map((l) => l.line), ['o1', 'o2 with  spaces', 'o3']);
    assert.deepEqual(lines.filter((l) => l.stream === 'stderr').map((l) => l.line), ['e1', 'e2']);
    assert.equal(lines.length, 5);
    for (const l of lines) assert.match(l.time, ISO);
    assert.deepEqual(await collect(f.driver.logs(id, { tail: 2 })), lines.slice(-2));
  });

  test('followLogs streams output live and ends once the process has ended; abort ends it', async (t) => {
    const f = await makeFixture(t);
    const { id } = await launch(t, f, f.program([{ out: 'first' }, { sleepMs: 1500 }, { out: 'second' }, { exit: 0 }]));
    const seen: string[] = [];
    let statusAtFirst: string | undefined;
    for await (const l of f.driver.followLogs(id, AbortSignal.timeout(30_000))) {
      seen.push(l.line);
      if (l.line === 'first') statusAtFirst = (await f.driver.inspect(id))?.status;
    }
    assert.deepEqual(seen, ['first', 'second']);
    assert.equal(statusAtFirst, 'running', 'the first line arrived while the process still ran');
    assert.deepEqual(await f.driver.watch(id), { reason: 'exited', exitCode: 0 });

    const live = await launch(t, f, f.program([{ out: 'tick' }, { until: 'stopped' }]));
    const abort = new AbortController();
    const got: string[] = [];
    for await (const l of f.driver.followLogs(live.id, abort.signal)) {
      got.push(l.line);
      abort.abort();
    }
    assert.deepEqual(got, ['tick']);
    assert.equal((await f.driver.inspect(live.id))?.status, 'running');

    const none: LogLine[] = [];
    for await (const l of f.driver.followLogs(`${f.idPrefix}-never-created`, AbortSignal.timeout(5000))) none.push(l);
    assert.deepEqual(none, []);
  });

  test('stats: numbers for a running instance; undefined while created, once stopped, once gone', async (t) => {
    const f = await makeFixture(t);
    const id = await create(t, f);
    assert.equal(await f.driver.stats(id), undefined);
    const address = await f.driver.start(id);
    await getWhenUp(address, f.envPath);
    const s = await f.driver.stats(id);
    assert.ok(s, 'no stats for a running instance');
    assert.ok(s.memoryBytes > 0, JSON.stringify(s));
    assert.ok(s.workingSetBytes >= 0 && s.workingSetBytes <= s.memoryBytes, JSON.stringify(s));
    assert.ok(Number.isFinite(s.cpuNanos) && s.cpuNanos >= 0, JSON.stringify(s));
    await f.driver.stop(id, 200);
    assert.equal(await f.driver.stats(id), undefined);
    await f.driver.delete(id);
    assert.equal(await f.driver.stats(id), undefined);
  });

  test('listening: the started server’s port as the instance sees it (the spec’s); undefined while created, once stopped, once gone', async (t) => {
    const f = await makeFixture(t);
    const id = await create(t, f);
    assert.equal(await f.driver.listening(id), undefined);
    const address = await f.driver.start(id);
    await getWhenUp(address, f.envPath);
    const socks = await f.driver.listening(id);
    // the instance's own network view: the spec's port (a driver may publish it on another, as swarm's host-mode ports do)
    assert.ok(socks?.some((s) => s.port === specOf(f).port && ['0.0.0.0', '::', address.host].includes(s.address)), JSON.stringify({ socks, address }));
    await f.driver.stop(id, 200);
    assert.equal(await f.driver.listening(id), undefined);
    await f.driver.delete(id);
    assert.equal(await f.driver.listening(id), undefined);
  });

  test('mounts: a volume outlives its instances; read-only refuses writes; only instances that mount it see it; bad mounts are refused', async (t) => {
    const f = await makeFixture(t);
    const volume = await f.volume(t);
    const text = `kept-${randomBytes(4).toString('hex')}`;
    const run = async (steps: Step[], mounts: { volume: string; target: string; readOnly: boolean }[]) => {
      const { id } = await launch(t, f, { ...f.program(steps), port: undefined, mounts });
      assert.deepEqual(await f.driver.watch(id), { reason: 'exited', exitCode: 0 });
      const lines = (await logsOf(f, id, steps.length)).map((l) => l.line);
      await f.driver.delete(id);
      return lines;
    };
    assert.deepEqual(await run([{ write: '/data/note', text }, { cat: '/data/note' }], [{ volume, target: '/data', readOnly: false }]), ['wrote', text]);
    // a later instance, elsewhere and read-only: the data is there, a write is refused
    assert.deepEqual(await run([{ cat: '/var/lib/app/note' }, { write: '/var/lib/app/other', text: 'x' }, { cat: '/var/lib/app/other' }], [{ volume, target: '/var/lib/app', readOnly: true }]), [text, 'write failed', 'missing']);
    assert.deepEqual(await run([{ cat: '/data/note' }], []), ['missing'], 'an instance without the mount does not see it');
    for (const target of ['/', 'relative', '/a/../b', '/proc/x', '/dev']) {
      const id = newId(f);
      t.after(() => f.driver.delete(id));
      await assert.rejects(f.driver.create(id, specOf(f, { mounts: [{ volume, target, readOnly: false }] })), { code: 'BAD_REQUEST' }, target);
      assert.equal(await f.driver.inspect(id), undefined);
    }
    const id = newId(f);
    t.after(() => f.driver.delete(id));
    await assert.rejects(f.driver.create(id, specOf(f, { mounts: [{ volume: 'no-such-volume', target: '/data', readOnly: false }] })), { code: 'NOT_FOUND' });
    assert.equal(await f.driver.inspect(id), undefined);
  });

  test('a second driver on the same state re-adopts running instances', async (t) => {
    const f = await makeFixture(t);
    const { id, address } = await launch(t, f, { env: { GREETING: 'adopted' } });
    await getWhenUp(address, f.envPath);
    const pre = await create(t, f, { revision: 'svc-a-00002' });
    const again = await f.reopen();
    const running: InstanceInfo = { id, service: 'svc-a', revision: 'svc-a-00001', status: 'running', address };
    assert.deepEqual(await again.inspect(id), running);
    const listed = await again.list();
    assert.deepEqual(listed.find((i) => i.id === id), running);
    assert.deepEqual(listed.find((i) => i.id === pre), { id: pre, service: 'svc-a', revision: 'svc-a-00002', status: 'created' });
    assert.equal(envOf((await get(address, f.envPath)).body).get('GREETING'), 'adopted');
    // the new driver starts what the old one created, and ends what it started
    const preAddress = await again.start(pre);
    assert.equal((await getWhenUp(preAddress, f.envPath)).status, 200);
    await again.stop(id, 200);
    assert.ok(await again.watch(id));
    assert.equal((await f.driver.inspect(id))?.status, 'stopped', 'the first driver sees it too');
    await again.delete(id);
    await again.delete(pre);
    assert.equal(await f.driver.inspect(id), undefined);
    assert.equal(await f.driver.inspect(pre), undefined);
  });
}
