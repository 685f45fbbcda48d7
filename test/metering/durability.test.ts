// Metering across kill -9 (docs/metering.md, "Durability"): a `skiff up` child meters an instance
// billed per instance (`--billing instance`) that burns a known amount of CPU, is killed with SIGKILL,
// and a new daemon on the same data dir re-adopts the instance. Nothing is counted twice (the re-adopted
// instance's CPU counter so far was the old daemon's to meter), nothing measured before the last flush
// is lost, and the instance is taken up where the last written sample left it: its downtime seconds
// (it ran on) are counted once, and the CPU burnt afterwards is added once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childDaemonFixture } from '../helpers/child-daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { skiff } from '../helpers/cli.ts';
import { until } from '../helpers/serving.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { SkiffClient } from '../../src/api/client.ts';
import type { UsageLine } from '../../src/core/usage.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;

async function lineOf(client: SkiffClient, service: string): Promise<UsageLine> {
  const r = await client.usage({ service, by: 'service' });
  const line = r.lines.find((l) => l.service === service);
  assert.ok(line, `usage of ${service}: ${JSON.stringify(r)}`);
  return line;
}

test('kill -9: usage up to the last flush survives, nothing is counted twice, metering resumes on the re-adopted instance', { skip, timeout: 180_000 }, async (t) => {
  const tag = (process.pid % 200) + 30;
  process.env.SKIFF_METERING_FLUSH_INTERVAL_MS = '1000';
  process.env.SKIFF_COLD_START_POOL_PER_REVISION = '0';
  const fixture = childDaemonFixture(t, { prefix: 'skiff-meter-crash', bridge: `skmc-${tag}`, subnet: `10.207.${tag}.0/24`, chainPrefix: `SKMC-${tag}` });
  let child = await fixture.start();
  let client = new SkiffClient({ baseUrl: child.url, token: child.token });
  const image = await pushHttpdImage(child, uniqueRepo('meter-crash'), 'v1');
  const deployed = await skiff(child, ['deploy', 'spin', '--image', image.reference, '--min', '1', '--max', '1', '--cpu', '1', '--billing', 'instance']);
  assert.equal(deployed.code, 0, deployed.stderr);
  const described = await skiff(child, ['describe', 'spin']);
  assert.match(described.stdout, /billing instance-based/);
  const get = async (path: string) => {
    const res = await fetch(`${child.gatewayUrl}/s/spin${path}`);
    await res.text();
    assert.equal(res.status, 200);
  };
  for (let i = 0; i < 3; i++) await get('/cgi-bin/spin?1');
  const before = await lineOf(client, 'spin'); // the report samples and flushes first
  const killedAt = Date.now();
  child.proc.kill('SIGKILL');
  await child.exited;

  child = await fixture.start();
  client = new SkiffClient({ baseUrl: child.url, token: child.token });
  await until('the instance re-adopted and serving', async () => (await fetch(`${child.gatewayUrl}/s/spin/`)).status === 200, 30_000);
  const restartedIn = (Date.now() - killedAt) / 1000;
  const after = await lineOf(client, 'spin');
  const cpu = (l: UsageLine) => Number(l.vcpuSecondsUsed);
  const lifetime = (l: UsageLine) => Number(l.startingSeconds) + Number(l.servingSeconds) + Number(l.idleSeconds) + Number(l.frozenSeconds);
  t.diagnostic(`before kill: ${cpu(before)} vCPU-s, ${lifetime(before)} instance-s; after restart (${restartedIn.toFixed(1)} s later): ${cpu(after)} vCPU-s, ${lifetime(after)} instance-s`);
  assert.ok(cpu(before) >= 3 && cpu(before) < 3.2, `3 s burnt before the kill: ${cpu(before)}`);
  assert.ok(cpu(after) >= cpu(before) && cpu(after) < cpu(before) + 0.1, `not counted again after the restart: ${cpu(after)} vs ${cpu(before)}`);
  // the instance lived on through the downtime: its seconds are there, once
  assert.ok(Math.abs(lifetime(after) - lifetime(before) - restartedIn) <= 1.5, `instance-seconds ${lifetime(after)} = ${lifetime(before)} before + ${restartedIn} s since`);
  assert.equal(after.requests, before.requests + 1);

  for (let i = 0; i < 2; i++) await get('/cgi-bin/spin?1');
  const later = await lineOf(client, 'spin');
  t.diagnostic(`after 2 more s of CPU: ${cpu(later)} vCPU-s`);
  assert.ok(Math.abs(cpu(later) - cpu(after) - 2) <= 0.04, `the 2 s burnt after the restart, once: ${cpu(later) - cpu(after)}`);
  // instance-based billing: every second of its life is billable
  assert.ok(Math.abs(Number(later.billableSeconds) - lifetime(later)) < 0.01, `${later.billableSeconds} vs ${lifetime(later)}`);
});
