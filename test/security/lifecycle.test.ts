// Finding 7: instances leaked under concurrent redeploys (20 parallel deploys of one service left 5
// containers running, stuck as "starting", surviving `skiff rm`). Concurrent deploys, scales and an
// rm of one service, then a check of everything an instance holds on the host: containers, mounts,
// netns, veths, cgroups, addresses and instance dirs — none may be left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { childDaemonFixture } from '../helpers/child-daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { freeSubnetOctet, isCI, isRoot } from '../helpers/tools.ts';
import { FAST, until } from '../helpers/serving.ts';
import { SkiffClient } from '../../src/api/client.ts';
import { SkiffError } from '../../src/core/errors.ts';
import { hostVeth } from '../../src/runtime/network/host-network.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;

/** What instances of `service` hold on the host now. */
function footprint(d: Pick<TestDaemon, 'dataDir'> & { settings: { runtime: { bridge: string } } }, service: string) {
  const runcRoot = path.join(d.dataDir, 'runtime', 'runc');
  const containers = existsSync(runcRoot) ? readdirSync(runcRoot).filter((id) => id.startsWith(service)) : [];
  const instanceDirs = existsSync(path.join(d.dataDir, 'instances')) ? readdirSync(path.join(d.dataDir, 'instances')).filter((id) => id.startsWith(service)) : [];
  const cgroups = readdirSync('/sys/fs/cgroup').flatMap((c) => {
    const parent = `/sys/fs/cgroup/${c}/skiff`;
    return existsSync(parent) ? readdirSync(parent).filter((x) => x.startsWith(service)) : [];
  });
  const ipamDir = `/run/skiff/ipam/${d.settings.runtime.bridge}`;
  const addresses = existsSync(ipamDir) ? readdirSync(ipamDir).filter((ip) => readFileSync(path.join(ipamDir, ip), 'utf8').startsWith(service)) : [];
  const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(`skiff-${service}`));
  const links = execFileSync('ip', ['-br', 'link'], { encoding: 'utf8' });
  const known = new Set([...containers, ...instanceDirs].map(hostVeth));
  const veths = [...known].filter((v) => links.includes(v));
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(`${d.dataDir}/instances/${service}`));
  return { containers, instanceDirs, cgroups, addresses, netns, veths, mounts: mounts.length };
}

const empty = { containers: [], instanceDirs: [], cgroups: [], addresses: [], netns: [], veths: [], mounts: 0 };

test('20 concurrent deploys of one service, scales among them, then rm: no instance and nothing it held is left', { skip, timeout: 240_000 }, async (t) => {
  const d = await startTestDaemon(t);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const image = (await pushHttpdImage(d, uniqueRepo('churn'), 'v1')).reference;
  const name = `churn${process.pid % 100000}`;
  await client.deploy({ name, image, scaling: { ...FAST, min: 1, max: 3 } });
  const results = await Promise.allSettled([
    ...Array.from({ length: 20 }, (_, i) => client.deploy({ name, image, env: { N: String(i) }, scaling: { ...FAST, min: 1 + (i % 2), max: 3 } })),
    ...Array.from({ length: 5 }, (_, i) => client.scale(name, { min: i % 3, max: 3 })),
  ]);
  assert.deepEqual(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)), []);
  // the service converges: the newest revision serves, older ones hold nothing
  await until('only the newest revision has instances', async () => {
    const s = await client.service(name);
    return s.revisions.every((r) => r.name === s.latestRevision || r.instances.length === 0);
  }, 60_000);
  await client.deleteService(name);
  await until('nothing left on the host', () => JSON.stringify(footprint(d, name)) === JSON.stringify(empty), 60_000).catch(() => undefined);
  assert.deepEqual(footprint(d, name), empty);
});

/** mulberry32: a small seeded PRNG, so a failing sequence can be replayed from its seed */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let r = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

test('random deploys, scales and rms of three services across two kill -9s of the daemon: nothing is left', { skip, timeout: 300_000 }, async (t) => {
  const seed = Number(process.env.SKIFF_CHURN_SEED ?? Date.now() % 1_000_000);
  const random = prng(seed);
  const tag = freeSubnetOctet(209, process.pid % 250);
  const fixture = childDaemonFixture(t, { prefix: 'skiff-churn', bridge: `skch-${tag}`, subnet: `10.209.${tag}.0/24`, chainPrefix: `SKCH-${tag}` });
  const { dataDir, net } = fixture;
  let child = await fixture.start();
  let client = new SkiffClient({ baseUrl: child.url, token: child.token });
  const image = (await pushHttpdImage(child, uniqueRepo('churn'), 'v1')).reference;
  const names = ['a', 'b', 'c'].map((x) => `ch${x}${process.pid % 10000}`);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const op = (): Promise<unknown> => {
    const name = pick(names);
    const r = random();
    if (r < 0.55) return client.deploy({ name, image, env: { R: String(r) }, scaling: { ...FAST, min: Math.floor(random() * 3), max: 3 } });
    if (r < 0.8) return client.scale(name, { min: Math.floor(random() * 3), max: 3 });
    return client.deleteService(name);
  };
  for (let round = 0; round < 3; round++) {
    // a burst of 12 concurrent operations; the daemon is killed during the burst of rounds 0 and 1
    const burst = Promise.allSettled(Array.from({ length: 12 }, op));
    if (round < 2) {
      await new Promise((r) => setTimeout(r, 200 + random() * 800));
      child.proc.kill('SIGKILL');
      await child.exited;
      await burst;
      child = await fixture.start();
      client = new SkiffClient({ baseUrl: child.url, token: child.token });
    } else {
      await burst;
    }
  }
  for (const name of names) await client.deleteService(name).catch(() => undefined);
  const host = { dataDir, settings: { runtime: net } };
  const left = () => names.map((n) => footprint(host, n)).filter((f) => JSON.stringify(f) !== JSON.stringify(empty));
  await until('nothing left on the host', () => left().length === 0, 60_000).catch(() => undefined);
  assert.deepEqual(left(), [], `seed ${seed} (SKIFF_CHURN_SEED=${seed} replays it)`);
});

test('a crash-looping service removed with rm leaves nothing: mounts, netns and address go at once, not minutes later', { skip, timeout: 120_000 }, async (t) => {
  const d = await startTestDaemon(t);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const image = (await pushHttpdImage(d, uniqueRepo('crashloop'), 'v1')).reference;
  const name = `loop${process.pid % 100000}`;
  await client.deploy({ name, image, command: ['/bin/sh', '-c', 'echo dying; exit 3'], scaling: { ...FAST, min: 1 } });
  await until('it crashed and was restarted', async () => (await client.service(name)).events.filter((e) => /exit|crash|start-failed|exited/.test(`${e.kind} ${e.message}`)).length >= 2, 30_000);
  await client.deleteService(name);
  await until('nothing left on the host', () => JSON.stringify(footprint(d, name)) === JSON.stringify(empty), 15_000).catch(() => undefined);
  assert.deepEqual(footprint(d, name), empty);
});

test('service names: the longest valid name (63) runs an instance — every id derived from it is valid; 64 is refused naming the field', { skip, timeout: 120_000 }, async (t) => {
  const d = await startTestDaemon(t);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const image = (await pushHttpdImage(d, uniqueRepo('longname'), 'v1')).reference;
  const longest = `l${process.pid}`.padEnd(63, 'x');
  await client.deploy({ name: longest, image, scaling: { ...FAST, min: 1 } });
  await until('an instance of the longest name is ready', async () => (await client.service(longest)).revisions.some((r) => r.instances.some((i) => i.phase === 'ready')), 30_000);
  await assert.rejects(client.deploy({ name: longest + 'x', image }), (err: unknown) => err instanceof SkiffError && err.code === 'BAD_REQUEST' && /name/.test(err.message));
  await client.deleteService(longest);
});
