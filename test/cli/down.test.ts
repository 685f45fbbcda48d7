// `skiff down` against a real `skiff up` child with real runc instances: a request in flight finishes,
// every instance is stopped and removed, the daemon exits 0 — and desired state is kept: the next
// `skiff up` starts the service's min instance again. (SIGTERM, by contrast, leaves instances running
// for re-adoption: serving/crash.test and runtime tests cover that.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { childDaemonFixture } from '../helpers/child-daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { skiff } from '../helpers/cli.ts';
import { until } from '../helpers/serving.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;

test('skiff down drains and stops every instance and the daemon; skiff up brings the services back', { skip }, async (t) => {
  const tag = (process.pid % 200) + 20;
  const fixture = childDaemonFixture(t, { prefix: 'skiff-down', bridge: `skdn-${tag}`, subnet: `10.208.${tag}.0/24`, chainPrefix: `SKDN-${tag}` });
  let child = await fixture.start();
  let client = new SkiffClient({ baseUrl: child.url, token: child.token });
  const image = await pushHttpdImage(child, uniqueRepo('down'), 'v1');
  const deployed = await skiff(child, ['deploy', 'kept', '--image', image.reference, '--min', '1', '--timeout', '30s']);
  assert.equal(deployed.code, 0, deployed.stderr);
  const containers = () => execFileSync('runc', ['--root', path.join(fixture.dataDir, 'runtime', 'runc'), 'list', '-q'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  assert.equal(containers().length, 1);

  // a request in flight when down starts is answered, not cut
  const inFlight = fetch(`${child.gatewayUrl}/s/kept/cgi-bin/slow?1.5`).then(async (r) => ({ status: r.status, body: await r.text() }));
  await new Promise((r) => setTimeout(r, 300));
  const down = await skiff(child, ['down']);
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stdout, /^stopped in [\d.]+s; services are still deployed/m);
  assert.equal((await inFlight).status, 200, 'the request in flight finished');
  assert.equal(await child.exited, 0, 'the daemon exited 0');
  assert.deepEqual(containers(), [], 'no container is left');

  // the desired state was kept: the next daemon starts the min instance again
  child = await fixture.start();
  client = new SkiffClient({ baseUrl: child.url, token: child.token });
  await until('kept is back', async () => (await client.service('kept')).revisions[0]!.instances.some((i) => i.phase === 'ready'), 30_000);
});
