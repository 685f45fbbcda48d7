// kill -9 of the daemon while a Redis Streams trigger delivers: nothing is lost. The entries read but
// not acked are read again by the restarted daemon (its consumer name is stable per trigger).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { requireBroker, startRedis } from '../helpers/brokers.ts';
import { childDaemonFixture } from '../helpers/child-daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { skiff } from '../helpers/cli.ts';
import { until } from '../helpers/serving.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : requireBroker('redis') ?? false;
const N = 300;

test('kill -9 of the daemon mid-stream (Redis Streams): after a restart every message reaches the service', { skip, timeout: 240_000 }, async (t) => {
  const broker = await startRedis({ t });
  const r = createClient({ url: broker.url });
  r.on('error', () => {}); // the broker may stop before this client in the after-hooks
  await r.connect();
  t.after(() => r.destroy());
  await r.xGroupCreate('orders', 'skiff', '$', { MKSTREAM: true });

  const tag = (process.pid % 200) + 40;
  const fixture = childDaemonFixture(t, { prefix: 'skiff-broker-crash', bridge: `skbc-${tag}`, subnet: `10.210.${tag}.0/24`, chainPrefix: `SKBC-${tag}` });
  let child = await fixture.start();
  let client = new SkiffClient({ baseUrl: child.url, token: child.token });
  const image = await pushHttpdImage(child, uniqueRepo('broker-crash'), 'v1');
  assert.equal((await skiff(child, ['deploy', 'sink', '--image', image.reference, '--max', '2', '--concurrency', '2', '--no-wait'])).code, 0);
  const added = await skiff(child, ['trigger', 'add', 'orders', '--service', 'sink', '--path', '/cgi-bin/judge', '--redis', broker.url, '--stream', 'orders', '--group', 'skiff']);
  assert.equal(added.code, 0, added.stderr);
  for (let i = 0; i < N; i++) await r.xAdd('orders', '*', { data: `m-${i}` });

  await until('deliveries under way', async () => (await client.trigger('orders')).stats.successes >= 30, 60_000);
  child.proc.kill('SIGKILL');
  await child.exited;
  child = await fixture.start();
  client = new SkiffClient({ baseUrl: child.url, token: child.token });

  const judged = async () => {
    let text = '';
    await client.logs('sink', {}, (c) => (text += c));
    return new Set([...text.matchAll(/ stderr judged (\S+)$/gm)].map((m) => m[1]!));
  };
  await until('every message judged', async () => (await judged()).size >= N, 120_000);
  const groups = (await r.xInfoGroups('orders')) as Array<{ name: string; pending: number }>;
  await until('nothing pending in the group', async () => ((await r.xInfoGroups('orders')) as Array<{ pending: number }>)[0]!.pending === 0, 30_000);
  assert.equal(groups[0]!.name, 'skiff');
});
