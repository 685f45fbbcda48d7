// Instance health and shutdown with real runc: an HTTP readiness probe holds requests until the app
// says ready, a failing liveness probe replaces the instance, and a drain lets an in-flight request
// finish, delivers SIGTERM to the app and SIGKILLs an app that ignores it once drainGrace is over.
// The app is the test image's /bin/app; what it does on SIGTERM lands in /state on the instance's
// overlay upper dir, which the host can read while the instance exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { FAST, gatewayGet, instancesOf, runningCount, until } from '../helpers/serving.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;

async function setup(t: Parameters<typeof startTestDaemon>[0]): Promise<{ d: TestDaemon; client: SkiffClient; image: string }> {
  const d = await startTestDaemon(t);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const image = (await pushHttpdImage(d, uniqueRepo('health'), 'v1')).reference;
  return { d, client, image };
}

/** A file the app wrote under /state, read from the instance's overlay upper dir on the host. */
const stateFile = (d: TestDaemon, instance: string, name: string) => path.join(d.dataDir, 'instances', instance, 'rw', 'upper', 'state', name);

test('readiness: a request waits until the app answers its readiness path, then gets 200', { skip }, async (t) => {
  const { d, client, image } = await setup(t);
  // /cgi-bin/ready?2 answers 503 for the first 2 seconds of the app's life; /cgi-bin/age tells the app's age.
  await client.deploy({ name: 'warming', image, command: ['/bin/app'], readiness: { path: '/cgi-bin/ready?2', period: '200ms' }, scaling: { ...FAST, max: 1 } });
  const held = gatewayGet(d.gatewayUrl, 'warming', '/cgi-bin/age');
  await until('instance starting', async () => (await instancesOf(client, 'warming')).some((i) => i.phase === 'starting'));
  const r = await held;
  assert.equal(r.status, 200);
  assert.ok(Number(r.body) >= 2, `served at app age ${r.body.trim()} s, before the app was ready`);
  const events = (await client.service('warming')).events;
  assert.ok(events.some((e) => e.kind === 'ready'), JSON.stringify(events));
});

test('liveness: an instance whose liveness path starts failing is replaced', { skip }, async (t) => {
  const { d, client, image } = await setup(t);
  await client.deploy({ name: 'living', image, command: ['/bin/app'], liveness: { path: '/cgi-bin/alive', period: '500ms', failureThreshold: 2 }, drainGrace: '2s', scaling: { min: 1, max: 1 } });
  await until('ready', async () => (await instancesOf(client, 'living')).some((i) => i.phase === 'ready'));
  const first = (await instancesOf(client, 'living')).find((i) => i.phase === 'ready');
  assert.equal((await gatewayGet(d.gatewayUrl, 'living', '/cgi-bin/alive')).body, 'ok\n');
  assert.equal((await gatewayGet(d.gatewayUrl, 'living', '/cgi-bin/sicken')).status, 200);
  await until('a new instance replaced the sick one', async () => {
    const now = await instancesOf(client, 'living');
    return now.some((i) => i.phase === 'ready' && i.id !== first!.id) && !now.some((i) => i.id === first!.id);
  }, 30_000);
  const events = (await client.service('living')).events;
  assert.ok(events.some((e) => e.kind === 'liveness' && e.message.startsWith(`${first!.id} failed 2 liveness probes`)), JSON.stringify(events));
  assert.equal((await gatewayGet(d.gatewayUrl, 'living', '/cgi-bin/alive')).body, 'ok\n');
});

test('redeploy drains: the in-flight request finishes with 200, then the app gets SIGTERM and exits cleanly', { skip }, async (t) => {
  const { d, client, image } = await setup(t);
  const spec = { name: 'draining', image, command: ['/bin/app'], drainGrace: '10s', scaling: { ...FAST, min: 1, max: 1 } };
  await client.deploy(spec);
  await until('ready', async () => (await instancesOf(client, 'draining')).some((i) => i.phase === 'ready'));
  const old = (await instancesOf(client, 'draining')).find((i) => i.phase === 'ready');
  const inFlight = gatewayGet(d.gatewayUrl, 'draining', '/cgi-bin/slow?4');
  await new Promise((r) => setTimeout(r, 300));
  await client.deploy(spec);
  // The old instance keeps running until the slow request is answered: no SIGTERM before that.
  await until('old instance unpublished', async () => !(await instancesOf(client, 'draining')).some((i) => i.id === old!.id && i.phase === 'ready'));
  assert.equal(existsSync(stateFile(d, old!.id, 'got-term')), false, 'SIGTERM sent while a request was in flight');
  const r = await inFlight;
  assert.equal(r.status, 200);
  assert.equal(r.body, 'draining\n');
  await until('SIGTERM reached the app', () => existsSync(stateFile(d, old!.id, 'got-term')), 20_000);
  // /bin/app cleans up for a second after SIGTERM; within the grace period it is not killed for that.
  await until('the app exited on its own', () => existsSync(stateFile(d, old!.id, 'exiting')), 5000);
  await until('old instance removed', () => !existsSync(path.join(d.dataDir, 'instances', old!.id)));
});

test('scale-down stops an app that ignores SIGTERM with SIGKILL after drainGrace', { skip }, async (t) => {
  const { d, client, image } = await setup(t);
  await client.deploy({ name: 'stubborn', image, command: ['/bin/app'], env: { ON_TERM: 'ignore' }, drainGrace: '2s', scaling: { ...FAST, min: 2, max: 2 } });
  await until('two ready', async () => (await instancesOf(client, 'stubborn')).filter((i) => i.phase === 'ready').length === 2);
  const before = (await instancesOf(client, 'stubborn')).filter((i) => i.phase === 'ready').map((i) => i.id);
  await client.scale('stubborn', { min: 1, max: 1 });
  let victim: string | undefined;
  await until('one instance leaves', async () => {
    const now = new Set((await instancesOf(client, 'stubborn')).map((i) => i.id));
    victim = before.find((id) => !now.has(id));
    return victim !== undefined;
  });
  await until('SIGTERM reached the app', () => existsSync(stateFile(d, victim!, 'got-term')), 10_000);
  // The app keeps beating after SIGTERM (the grace period), and is gone in the end although it never exits.
  let beats = 0;
  await until('victim killed', () => {
    const file = stateFile(d, victim!, 'after-term');
    try {
      beats = Math.max(beats, readFileSync(file, 'utf8').split('\n').filter(Boolean).length);
    } catch {
      /* not written yet, or removed with the instance */
    }
    return !existsSync(path.join(d.dataDir, 'instances', victim!));
  }, 20_000);
  assert.ok(beats >= 2, `the app ran only ${beats} beat(s) after SIGTERM: the grace period was not honoured`);
  assert.equal(await runningCount(client, 'stubborn'), 1);
});
