// CPU only during requests, with real runc instances (scheduler/idle-freeze.ts): two min-1 services run
// the same background ticker (a shell loop printing "tick N" every 0.2 s beside busybox httpd). Without
// --cpu-always the instance is frozen (cgroup freezer) once idle for coldStart.idleFreezeMs and the
// ticker stops advancing; with it the ticker keeps going. Both answer requests; a request thaws the
// frozen one, whose ticker then runs again. Counters are read from the logs, which the daemon reads
// from disk: reading them is no request and thaws nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { skiff } from '../helpers/cli.ts';
import { gatewayGet, instancesOf, until } from '../helpers/serving.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;
const RUN = `ca${process.pid.toString(36)}`;
const TICKER = ['/bin/sh', '-c', 'i=0; (while :; do i=$((i+1)); echo "tick $i"; sleep 0.2; done) & exec httpd -f -p "$PORT" -h /www'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('--cpu-always keeps a background ticker going while idle; without it the idle instance is frozen, and requests answer either way', { skip }, async (t) => {
  const d = await startTestDaemon(t, { settings: (s) => (s.coldStart.idleFreezeMs = 1500) });
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const image = await pushHttpdImage(d, uniqueRepo('cpu'), 'v1');
  const throttled = `${RUN}-thr`;
  const always = `${RUN}-alw`;
  // the CLI's flags: --no-cpu-throttling is Cloud Run's name for --cpu-always
  for (const [name, flag] of [[throttled, '--no-cpu-always'], [always, '--no-cpu-throttling']] as const) {
    const r = await skiff(d, ['deploy', name, '--image', image.reference, '--min', '1', '--max', '1', flag]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
  }
  // (the command: the deploy document has it; the CLI has no flag for it)
  for (const name of [throttled, always]) await client.update(name, { command: TICKER });
  const latest = async (name: string) => {
    const v = await client.service(name);
    return v.revisions.find((r) => r.name === v.latestRevision)!;
  };
  assert.equal((await latest(always)).config.cpuAlways, true);
  assert.equal((await latest(throttled)).config.cpuAlways, undefined);
  const phase = async (name: string) => (await instancesOf(client, name, (await client.service(name)).latestRevision)).map((i) => i.phase).join(',');
  const lastTick = async (name: string): Promise<number> => {
    let text = '';
    await client.logs(name, { revision: (await client.service(name)).latestRevision, tail: 20 }, (c) => (text += c));
    return Math.max(0, ...[...text.matchAll(/tick (\d+)/g)].map((m) => Number(m[1])));
  };
  await until('the ticker runs in both', async () => (await lastTick(throttled)) > 0 && (await lastTick(always)) > 0, 30_000);
  await until('the idle instance without --cpu-always is frozen', async () => (await phase(throttled)) === 'frozen', 30_000);
  assert.equal(await phase(always), 'ready');

  const before = { throttled: await lastTick(throttled), always: await lastTick(always) };
  await sleep(3000);
  const after = { throttled: await lastTick(throttled), always: await lastTick(always) };
  assert.ok(after.always - before.always >= 8, `--cpu-always: the ticker advanced while idle (${before.always} → ${after.always})`);
  assert.ok(after.throttled - before.throttled <= 1, `frozen: the ticker stopped (${before.throttled} → ${after.throttled})`);
  assert.equal(await phase(throttled), 'frozen');
  assert.equal(await phase(always), 'ready', '--cpu-always: never frozen');

  // requests answer in both cases; the frozen one is thawed by it, and its ticker runs again
  for (const name of [throttled, always]) {
    const res = await gatewayGet(d.gatewayUrl, name);
    assert.equal(res.status, 200, `${name}: ${res.body}`);
    assert.match(res.body, /hello from v1/);
  }
  await sleep(800);
  assert.ok((await lastTick(throttled)) > after.throttled + 1, 'thawed by the request: the ticker runs again');
  assert.deepEqual((await latest(throttled)).instances.map((i) => i.phase), ['ready'], 'still one instance: thawed, not replaced');
  const described = await skiff(d, ['describe', throttled]);
  assert.match(described.stdout, /cpu only during requests: frozen when idle/);
  assert.match((await skiff(d, ['describe', always])).stdout, /cpu always allocated \(--cpu-always\)/);
});
