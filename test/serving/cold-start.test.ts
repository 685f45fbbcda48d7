// Cold start as a feature, with real runc: the pool of pre-created instances (taken on the request path,
// refilled, re-adopted after a daemon restart, gone with the service) and frozen idle instances
// (cgroup freezer, thawed by the next request, evicted beyond the node's memory budget).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { removeTestNetwork, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { FAST, gatewayGet, instancesOf, until } from '../helpers/serving.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns, cgroup freezer)' : false;
// Service names of this run, so counts of netns never include a parallel run's.
const RUN = `cs${process.pid.toString(36)}`;

const runtimeDir = (d: TestDaemon, id: string) => path.join(d.dataDir, 'runtime', 'instances', id);
const isCreated = (d: TestDaemon, id: string) => existsSync(path.join(runtimeDir(d, id), 'init.pid'));

/** What is left on the host of a service's instances: instance dirs, rootfs mounts, network namespaces. */
function leftovers(d: TestDaemon, service: string): { dirs: number; mounts: number; netns: number } {
  const instances = path.join(d.dataDir, 'instances');
  return {
    dirs: existsSync(instances) ? readdirSync(instances).filter((n) => n.startsWith(`${service}-`)).length : 0,
    mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(`${instances}/${service}-`)).length,
    netns: execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(`skiff-${service}-`)).length,
  };
}

/** The cgroup freezer's view of an instance: true when every task is frozen (v1 FROZEN, v2 cgroup.freeze 1). */
function frozen(d: TestDaemon, id: string): boolean {
  const { cgroupsPath } = JSON.parse(readFileSync(path.join(runtimeDir(d, id), 'instance.json'), 'utf8')) as { cgroupsPath: string };
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const file = v2 ? path.join('/sys/fs/cgroup', cgroupsPath, 'cgroup.freeze') : path.join('/sys/fs/cgroup/freezer', cgroupsPath, 'freezer.state');
  return readFileSync(file, 'utf8').trim() === (v2 ? '1' : 'FROZEN');
}

async function events(client: SkiffClient, service: string): Promise<Array<{ kind: string; message: string }>> {
  return (await client.service(service)).events;
}

test('pool: the first request starts the pre-created instance; the pool refills, survives a restart, and goes with the service', { skip }, async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-cold-pool-'));
  let d = await startTestDaemon({ after: () => {} }, { dataDir });
  t.after(async () => {
    await d.daemon.stop();
    await d.daemon.stopInstances();
    await removeTestNetwork(d.settings.runtime);
    rmSync(dataDir, { recursive: true, force: true });
  });
  let client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const name = `${RUN}-pool`;
  const image = await pushHttpdImage(d, uniqueRepo('cold-pool'), 'v1');
  await client.deploy({ name, image: image.reference, scaling: FAST });

  await until('a pre-created instance', async () => {
    const all = await instancesOf(client, name);
    return all.length === 1 && all[0]!.phase === 'pre-created' && isCreated(d, all[0]!.id);
  });
  const [pooled] = await instancesOf(client, name);

  // A restarted daemon re-adopts the pre-created instance instead of leaking or replacing it.
  await d.daemon.stop();
  const net = d.settings.runtime;
  d = await startTestDaemon({ after: () => {} }, { dataDir, settings: (s) => (s.runtime = net) });
  client = new SkiffClient({ baseUrl: d.url, token: d.token });
  assert.deepEqual(
    (await instancesOf(client, name)).map((i) => [i.id, i.phase]),
    [[pooled!.id, 'pre-created']],
  );

  const r = await gatewayGet(d.gatewayUrl, name);
  assert.equal(r.status, 200);
  assert.equal(r.body, 'hello from v1\n');
  assert.ok(r.headers['x-skiff-cold-start'] !== undefined, 'the response that waited says so');
  const kinds = await events(client, name);
  assert.ok(kinds.some((e) => e.kind === 'pool-hit' && e.message.startsWith(pooled!.id)), JSON.stringify(kinds));
  const now = await instancesOf(client, name);
  assert.ok(now.some((i) => i.id === pooled!.id && i.phase === 'ready'), JSON.stringify(now));
  await until('the pool refilled', async () => (await instancesOf(client, name)).some((i) => i.phase === 'pre-created' && i.id !== pooled!.id));

  await client.deleteService(name);
  await until('nothing left', () => {
    const l = leftovers(d, name);
    return l.dirs + l.mounts + l.netns === 0;
  });
});

test('freezeIdle: an idle instance is frozen (cgroup freezer), and the next request thaws the same instance', { skip }, async (t) => {
  const d = await startTestDaemon(t, { settings: (s) => (s.coldStart.poolPerRevision = 0) });
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const name = `${RUN}-ice`;
  const image = await pushHttpdImage(d, uniqueRepo('cold-ice'), 'v1');
  await client.deploy({ name, image: image.reference, scaling: { ...FAST, freezeIdle: true } });
  assert.equal((await gatewayGet(d.gatewayUrl, name)).status, 200);
  const [first] = await instancesOf(client, name);
  assert.equal(first?.phase, 'ready');

  // The phase says frozen from the moment the instance is unpublished; the freezer follows.
  await until('frozen', async () => (await instancesOf(client, name)).some((i) => i.id === first!.id && i.phase === 'frozen') && frozen(d, first!.id), 30_000);

  const r = await gatewayGet(d.gatewayUrl, name);
  assert.equal(r.status, 200);
  assert.equal(r.body, 'hello from v1\n');
  assert.ok(r.headers['x-skiff-cold-start'] !== undefined);
  assert.deepEqual((await instancesOf(client, name)).map((i) => [i.id, i.phase]), [[first!.id, 'ready']], 'the same instance, thawed');
  assert.equal(frozen(d, first!.id), false);
  assert.ok((await events(client, name)).some((e) => e.kind === 'thawed'));
});

test('a frozen instance beyond the node memory budget is evicted', { skip }, async (t) => {
  const d = await startTestDaemon(t, { settings: (s) => Object.assign(s.coldStart, { poolPerRevision: 0, frozenMemoryBytes: 1 }) });
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const name = `${RUN}-tiny`;
  const image = await pushHttpdImage(d, uniqueRepo('cold-tiny'), 'v1');
  await client.deploy({ name, image: image.reference, scaling: { ...FAST, freezeIdle: true } });
  assert.equal((await gatewayGet(d.gatewayUrl, name)).status, 200);
  await until('evicted', async () => (await events(client, name)).some((e) => e.kind === 'frozen-evicted'), 30_000);
  await until('gone', async () => (await instancesOf(client, name)).length === 0);
  await until('nothing left', () => {
    const l = leftovers(d, name);
    return l.dirs + l.mounts + l.netns === 0;
  });
  assert.equal((await gatewayGet(d.gatewayUrl, name)).status, 200, 'the next request is a cold start again');
});
