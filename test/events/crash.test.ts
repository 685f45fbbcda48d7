// kill -9 of the daemon with async invocations accepted, some of them being delivered: after a
// restart every one is delivered (those cut mid-delivery again: at least once), none is lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childDaemonFixture } from '../helpers/child-daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { skiff } from '../helpers/cli.ts';
import { until } from '../helpers/serving.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;

test('kill -9 with async invocations queued and in flight: after a restart all are delivered', { skip, timeout: 180_000 }, async (t) => {
  const tag = (process.pid % 200) + 30;
  const fixture = childDaemonFixture(t, { prefix: 'skiff-inv-crash', bridge: `skic-${tag}`, subnet: `10.209.${tag}.0/24`, chainPrefix: `SKIC-${tag}` });
  let child = await fixture.start();
  let client = new SkiffClient({ baseUrl: child.url, token: child.token });
  const image = await pushHttpdImage(child, uniqueRepo('inv-crash'), 'v1');
  const deployed = await skiff(child, ['deploy', 'slow', '--image', image.reference, '--min', '1', '--max', '1', '--concurrency', '2']);
  assert.equal(deployed.code, 0, deployed.stderr);

  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await fetch(`${child.gatewayUrl}/s/slow/cgi-bin/slow?2`, { method: 'POST', headers: { prefer: 'respond-async' }, body: `job ${i}` });
    assert.equal(res.status, 202);
    ids.push((await res.json() as { id: string }).id);
  }
  await until('two being delivered', async () => (await Promise.all(ids.map((id) => client.invocation(id)))).filter((v) => v.status === 'running').length === 2, 20_000);
  child.proc.kill('SIGKILL');
  await child.exited;

  child = await fixture.start();
  client = new SkiffClient({ baseUrl: child.url, token: child.token });
  await until('all delivered', async () => (await Promise.all(ids.map((id) => client.invocation(id)))).every((v) => v.status === 'succeeded'), 90_000);
  const views = await Promise.all(ids.map((id) => client.invocation(id)));
  assert.ok(views.filter((v) => v.attempts >= 2).length >= 2, `the two cut mid-delivery were attempted again: ${views.map((v) => v.attempts).join(',')}`);
  assert.ok(views.every((v) => v.response?.status === 200));
});
