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
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { FAST, until } from '../helpers/serving.ts';
import { SkiffClient } from '../../src/api/client.ts';
import { hostVeth } from '../../src/runtime/network/host-network.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;

/** What instances of `service` hold on the host now. */
function footprint(d: TestDaemon, service: string) {
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
