// kill -9 of the daemon while a service is under load: after a restart on the same data dir the
// service serves again, its running instance is re-adopted (not leaked, not duplicated), and no
// deploy is lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { childDaemonFixture } from '../helpers/child-daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { freePort, isCI, isRoot } from '../helpers/tools.ts';
import { SkiffClient } from '../../src/api/client.ts';
import Database from 'better-sqlite3';
import { until } from '../helpers/serving.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;

async function status(gatewayUrl: string, service: string): Promise<number> {
  try {
    // fetch ignores a Host header, so the path fallback routes here.
    const res = await fetch(`${gatewayUrl}/s/${service}/`, { signal: AbortSignal.timeout(5000) });
    await res.text();
    return res.status;
  } catch {
    return 0;
  }
}

function mountsUnder(dir: string): number {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dir)).length;
}

test('kill -9 under load: the service serves again, instances are re-adopted, nothing is orphaned or lost', { skip }, async (t) => {
  const tag = process.pid % 250;
  const fixture = childDaemonFixture(t, { prefix: 'skiff-serve-crash', bridge: `skc-${tag}`, subnet: `10.216.${tag}.0/24`, chainPrefix: `SKC-${tag}` });
  const { dataDir } = fixture;

  const gatewayAt = `127.0.0.1:${await freePort()}`; // the same across the restart: clients keep sending there
  let child = await fixture.start(gatewayAt);
  let client = new SkiffClient({ baseUrl: child.url, token: child.token });
  const repo = uniqueRepo('crash');
  const image = await pushHttpdImage(child, repo, 'v1');
  const { revision } = await client.deploy({ name: 'steady', image: image.reference, scaling: { min: 1, max: 3 } });
  const ready = async () => (await client.service('steady')).revisions.flatMap((r) => r.instances).filter((i) => i.phase === 'ready');
  while ((await ready()).length < 1) await new Promise((r) => setTimeout(r, 100));
  const before = (await ready()).map((i) => i.id);
  // Three instances the store will no longer know after the crash (as if `rm` died half way): orphans
  // to remove at the restart, which once held the gateway's routes back for ~2 s each.
  await client.deploy({ name: 'doomed', image: image.reference, scaling: { min: 3, max: 3 } });
  const doomedReady = async () => (await client.service('doomed')).revisions.flatMap((r) => r.instances).filter((i) => i.phase === 'ready').length;
  while ((await doomedReady()) < 3) await new Promise((r) => setTimeout(r, 100));

  let stop = false;
  let gateway = child.gatewayUrl;
  const statuses: number[] = [];
  const load = Promise.all(
    Array.from({ length: 4 }, async () => {
      while (!stop) statuses.push(await status(gateway, 'steady'));
    }),
  );
  await new Promise((r) => setTimeout(r, 500));
  child.proc.kill('SIGKILL');
  await child.exited;
  const db = new Database(path.join(dataDir, 'skiff.db'));
  for (const table of ['services', 'revisions', 'instances']) db.prepare(`DELETE FROM ${table} WHERE ${table === 'services' ? 'name' : 'service'} = 'doomed'`).run();
  db.close();

  child = await fixture.start(gatewayAt);
  gateway = child.gatewayUrl;
  client = new SkiffClient({ baseUrl: child.url, token: child.token });
  const served = Date.now();
  while ((await status(gateway, 'steady')) !== 200) {
    assert.ok(Date.now() - served < 30_000, 'service did not serve again after the restart');
    await new Promise((r) => setTimeout(r, 100));
  }
  const countBefore = statuses.length;
  await new Promise((r) => setTimeout(r, 1000));
  stop = true;
  await load;
  assert.ok(statuses.slice(countBefore).every((s) => s === 200), 'every request after recovery succeeded');
  // while the daemon was down: refused connections (0); while it restarted: held, then served — never
  // a 404 for a service it has (routes load before the gateway accepts)
  assert.deepEqual([...new Set(statuses)].filter((s) => s !== 0 && s !== 200), [], `statuses: ${[...new Set(statuses)].join(',')}`);

  const after = (await ready()).map((i) => i.id);
  assert.deepEqual(after, before, 'the running instance was re-adopted, not replaced');
  await until('orphans removed', () => readdirSync(path.join(dataDir, 'instances')).length === 1, 30_000);
  assert.equal(mountsUnder(path.join(dataDir, 'instances')), 2, 'one rootfs mount and its writable layer');
  const svc = await client.service('steady');
  assert.deepEqual(svc.revisions.map((r) => r.name), [revision], 'the deploy survived');
  child.proc.kill('SIGTERM');
  await child.exited;
});
