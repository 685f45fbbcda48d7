// Metering accuracy end to end (issue 14): a real runc instance burns a known amount of CPU — N
// requests of a busy loop that stops once it has used 2 s of CPU itself (so a loaded machine changes
// how long it takes, not how much it burns) — and the metered vCPU-seconds must be within 2 % of the
// cgroup's own counter (cpuacct.usage, read here directly) and of the expected figure; the
// instance-seconds within 1 s of the instance's lifetime (from the scheduler's start of it, as its
// `ready in N ms` event tells, and no shorter than its init process's age, from /proc). Also: the
// request count, the busy time billed under request-based billing (each spell rounded up to 100 ms),
// and the invoice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { gatewayGet, instancesOf } from '../helpers/serving.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;
const NAME = `burn${process.pid.toString(36)}`;
const REQUESTS = 6;
const BURN_S = 2;

/** The instance's cgroup CPU counter, ns (v1 cpuacct.usage, or v2 cpu.stat usage_usec). */
function cgroupCpuNanos(id: string): number {
  const v1 = `/sys/fs/cgroup/cpuacct/skiff/${id}/cpuacct.usage`;
  if (existsSync(v1)) return Number(readFileSync(v1, 'utf8'));
  const stat = readFileSync(`/sys/fs/cgroup/skiff/${id}/cpu.stat`, 'utf8');
  return Number(/usage_usec (\d+)/.exec(stat)![1]) * 1000;
}

/** Seconds since the instance's first process started (its init: the oldest pid of its cgroup). */
function processAgeSeconds(id: string): number {
  const procsFile = existsSync(`/sys/fs/cgroup/cpuacct/skiff/${id}/cgroup.procs`) ? `/sys/fs/cgroup/cpuacct/skiff/${id}/cgroup.procs` : `/sys/fs/cgroup/skiff/${id}/cgroup.procs`;
  const pids = readFileSync(procsFile, 'utf8').trim().split('\n').map(Number);
  const ticks = Math.min(...pids.map((pid) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19])));
  const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  return uptime - ticks / 100; // USER_HZ is 100 on Linux
}

test('metering: vCPU-seconds within 2 % of the cgroup counter and of the expected burn, instance-seconds within 1 s of the lifetime', { skip, timeout: 120_000 }, async (t) => {
  const d = await startTestDaemon(t, {
    settings: (s) => {
      s.metering.flushIntervalMs = 1000;
      // no pre-created instance: its process would start before the instance does
      s.coldStart.poolPerRevision = 0;
    },
  });
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const image = await pushHttpdImage(d, uniqueRepo('burn'), 'v1');
  await client.deploy({ name: NAME, image: image.reference, resources: { cpu: '1', memory: '128Mi' }, scaling: { min: 1, max: 1, concurrency: 1 } });
  assert.equal((await gatewayGet(d.gatewayUrl, NAME)).status, 200);
  const [inst] = await instancesOf(client, NAME);
  assert.ok(inst, 'one instance');

  const began = performance.now();
  for (let i = 0; i < REQUESTS; i++) {
    const r = await gatewayGet(d.gatewayUrl, NAME, `/cgi-bin/spin?${BURN_S}`);
    assert.equal(r.status, 200);
  }
  const wall = (performance.now() - began) / 1000;
  // a sample after the last request (the report itself samples and flushes first)
  await new Promise((r) => setTimeout(r, 1200));

  const asked = Date.now();
  const report = await client.usage({ service: NAME, by: 'service' });
  const answered = Date.now();
  const cgroup = cgroupCpuNanos(inst.id) / 1e9;
  const age = processAgeSeconds(inst.id);
  // the scheduler started the instance `ms` before its ready event
  const ready = (await client.service(NAME)).events.find((e) => e.kind === 'ready' && e.message.startsWith(inst.id));
  assert.ok(ready, 'a ready event');
  const startedAt = Date.parse(ready.at) - Number(/ready in (\d+) ms/.exec(ready.message)![1]);
  const lifetime = ((asked + answered) / 2 - startedAt) / 1000;
  const line = report.lines.find((l) => l.service === NAME);
  assert.ok(line, `a line for ${NAME}: ${JSON.stringify(report)}`);
  const metered = Number(line.vcpuSecondsUsed);
  const expected = REQUESTS * BURN_S;
  const instanceSeconds = Number(line.startingSeconds) + Number(line.servingSeconds) + Number(line.idleSeconds) + Number(line.frozenSeconds);
  t.diagnostic(`metered ${metered.toFixed(3)} vCPU-s, cgroup ${cgroup.toFixed(3)} s, expected ${expected} s; instance ${instanceSeconds.toFixed(3)} s, lifetime ${lifetime.toFixed(3)} s, process age ${age.toFixed(3)} s; billable ${line.billableSeconds} s over ${wall.toFixed(3)} s of requests`);
  assert.ok(Math.abs(metered - cgroup) <= 0.02 * cgroup, `metered ${metered} vs cgroup ${cgroup}`);
  assert.ok(Math.abs(metered - expected) <= 0.02 * expected, `metered ${metered} vs expected ${expected}`);
  assert.ok(Math.abs(instanceSeconds - lifetime) <= 1, `instance-seconds ${instanceSeconds} vs lifetime ${lifetime}`);
  assert.ok(instanceSeconds >= age - 1, `instance-seconds ${instanceSeconds} vs the process's age ${age}`);
  assert.equal(line.requests, REQUESTS + 1);
  // request-based: billed while requests were in flight, each rounded up to 100 ms — the burns and the first GET
  const billable = Number(line.billableSeconds);
  assert.ok(billable >= expected && billable <= wall + 0.2 * (REQUESTS + 1) + 0.5, `billable ${billable} s for ${wall} s of requests`);
  assert.ok(Number(line.servingSeconds) >= expected - 0.5, 'the burns are serving time');
  assert.ok(Number(line.gibSecondsAllocated) > 0 && Number(line.gibSecondsUsed) > 0 && Number(line.gibSecondsUsed) < Number(line.gibSecondsAllocated));
  assert.ok(line.egressBytes > 0);

  await t.test('the invoice bills the busy time at the allocated vCPU and memory', async () => {
    const now = new Date();
    const month = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
    const inv = await client.bill(month);
    const vcpu = inv.lines.find((l) => l.service === NAME && l.item === 'vcpu-seconds');
    assert.ok(vcpu, JSON.stringify(inv));
    assert.ok(Math.abs(Number(vcpu.quantity) - billable) < 0.5, 'a 1-vCPU instance: vCPU-seconds = billable seconds');
    assert.equal(vcpu.unitPrice, '0.000024');
    assert.equal(inv.lines.find((l) => l.service === NAME && l.item === 'idle-vcpu-seconds'), undefined, 'request-based: no idle time billed');
  });

  await t.test('a project\'s token sees its own project; naming another is 404 NOT_FOUND', async () => {
    const created = await client.createToken('usage-reader', 'deploy');
    const own = new SkiffClient({ baseUrl: d.url, token: created.secret });
    const mine = await own.usage({ by: 'service' });
    assert.equal(mine.project, 'default');
    assert.ok(mine.lines.some((l) => l.service === NAME));
    assert.equal((await own.usage({ project: 'default' })).project, 'default');
    const notFound = (e: unknown) => (e as { code?: string }).code === 'NOT_FOUND';
    await assert.rejects(own.usage({ project: 'team-x' }), notFound);
    await assert.rejects(own.bill('2026-12', 'team-x'), notFound);
    // the operator's token spans every project: all of them, or the one named
    assert.equal((await client.usage()).project, '*');
    await assert.rejects(client.usage({ since: 'yesterday' }), (e: unknown) => (e as { code?: string }).code === 'BAD_REQUEST');
  });
});
