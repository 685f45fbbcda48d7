// test/runtime/runc.test: the container-layer suite (container-contract.ts) on RuncRuntime (real runc,
// bridge, iptables; root), plus runc-specific checks: create/delete cycles leak nothing, start and
// stop edge cases, re-adoption by a second RuncRuntime, log rotation.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { createRuncRuntime, type RuncRuntime } from '../../src/runtime/runc/driver.ts';
import { hostVeth, netnsName } from '../../src/runtime/network/host-network.ts';
import { gatewayIp, parseCidr } from '../../src/runtime/network/allocator.ts';
import { makeBusyboxRootfs } from './rootfs.ts';
import { containerSpec, containerContract, type ContractFixture } from './container-contract.ts';
import { removeTestNetwork, runId, sweepDeadRuns, testNetwork } from './test-network.ts';
import { collect } from '../helpers/collect.ts';

const isRoot = process.getuid?.() === 0;
const skip = !isRoot && process.env.CI !== 'true' ? 'needs root (runc, netns, iptables)' : false;

const PREFIX = 'skiff-test-';
const RUN = runId(PREFIX);
const NETWORK = testNetwork('t', 214);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let fixture: (ContractFixture & { runtime: RuncRuntime }) | undefined;

/** Removes leftovers: this run's runc containers, and netns/veths of earlier runs whose process is dead. */
function sweep(stateDir: string): void {
  sweepDeadRuns(PREFIX);
  const runcRoot = path.join(stateDir, 'runc');
  if (existsSync(runcRoot)) {
    for (const id of readdirSync(runcRoot)) execFileSync('runc', ['--root', runcRoot, 'delete', '--force', id], { stdio: 'ignore' });
  }
}

/** The host's other IPv4 addresses (eth0 …): instances must not reach the host through them either. */
function externalIPv4s(): string[] {
  return Object.values(os.networkInterfaces()).flat().flatMap((a) => (a && a.family === 'IPv4' && !a.internal && !a.address.startsWith('10.214.') ? [a.address] : []));
}

function bridgePorts(): string[] {
  return existsSync(`/sys/class/net/${NETWORK.bridge}/brif`) ? readdirSync(`/sys/class/net/${NETWORK.bridge}/brif`) : [];
}

describe('runc container runtime', { skip }, () => {
  let root = '';
  before(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'skiff-test-runtime-'));
    sweep(path.join(root, 'state'));
    const rootfs = makeBusyboxRootfs(path.join(root, 'rootfs'));
    const runtime = await createRuncRuntime({ root: path.join(root, 'state'), network: NETWORK, logs: { maxBytes: 4096, keep: 2 } });
    fixture = { runtime, rootfs, hostAddresses: [gatewayIp(parseCidr(NETWORK.cidr)), ...externalIPv4s()], idPrefix: RUN };
  });

  // Runs even when before() failed half-way: everything below tolerates pieces that were never made.
  after(async () => {
    if (fixture) for (const s of await fixture.runtime.list()) await fixture.runtime.delete(s.id);
    if (root) {
      sweep(path.join(root, 'state'));
      rmSync(root, { recursive: true, force: true });
    }
    await removeTestNetwork(NETWORK);
  });

  const ready = () => {
    assert.ok(fixture, 'runtime fixture was not set up');
    return fixture;
  };
  containerContract(async () => ready());

  test('100 create/delete cycles leave no mounts, netns, veths or cgroups behind', async (t) => {
    const f = ready();
    const ids: string[] = [];
    const ours = () => ({
      mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(RUN)).length,
      netns: execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(RUN)).length,
      veths: ids.filter((id) => existsSync(`/sys/class/net/${hostVeth(id)}`)).length,
      cgroups: existsSync('/sys/fs/cgroup/memory/skiff') ? readdirSync('/sys/fs/cgroup/memory/skiff').filter((d) => d.includes(RUN)).length : 0,
      ports: bridgePorts().length,
    });
    const before = ours();
    for (let i = 0; i < 100; i++) {
      const spec = containerSpec(f, { args: ['true'] });
      ids.push(spec.id);
      t.after(() => f.runtime.delete(spec.id));
      await f.runtime.create(spec);
      await f.runtime.start(spec.id);
      assert.equal((await f.runtime.wait(spec.id, 10_000)).outcome, 'exited');
      await f.runtime.delete(spec.id);
      assert.equal((await f.runtime.state(spec.id)).found, false);
      assert.equal(existsSync(`/run/netns/${netnsName(spec.id)}`), false);
    }
    assert.deepEqual(ours(), before);
  });

  test('a created instance: start is a conflict the second time; delete without start ends its supervisor', async (t) => {
    const f = ready();
    const once = containerSpec(f, { args: ['sleep', '1000'] });
    t.after(() => f.runtime.delete(once.id));
    await f.runtime.create(once);
    assert.equal((await f.runtime.start(once.id)).status, 'running');
    await assert.rejects(f.runtime.start(once.id), { code: 'CONFLICT' });
    const never = containerSpec(f, { args: ['sleep', '1000'] });
    t.after(() => f.runtime.delete(never.id));
    await f.runtime.create(never);
    const supervisor = Number(readFileSync(path.join(root, 'state/instances', never.id, 'supervisor.pid'), 'utf8'));
    await f.runtime.delete(never.id);
    assert.throws(() => process.kill(supervisor, 0), { code: 'ESRCH' });
    assert.equal((await f.runtime.state(never.id)).found, false);
  });

  test('starting a created instance whose init was killed fails instead of hanging', async (t) => {
    const f = ready();
    const spec = containerSpec(f, { args: ['sleep', '1000'] });
    t.after(() => f.runtime.delete(spec.id));
    await f.runtime.create(spec);
    await f.runtime.kill(spec.id, 'SIGKILL');
    await assert.rejects(f.runtime.start(spec.id), { code: 'INTERNAL' });
    assert.deepEqual(await f.runtime.wait(spec.id, 10_000), { outcome: 'exited', exit: { reason: 'signalled', signal: 9 } });
  });

  test('a delete racing a start blocked on a dead init settles both (the start never waits forever)', { timeout: 30_000 }, async (t) => {
    const f = ready();
    const spec = containerSpec(f, { args: ['sleep', '1000'] });
    t.after(() => f.runtime.delete(spec.id));
    await f.runtime.create(spec);
    await f.runtime.kill(spec.id, 'SIGKILL');
    // the start blocks on the exec FIFO; the delete removes the container's runc state meanwhile
    const start = f.runtime.start(spec.id);
    const del = f.runtime.delete(spec.id);
    await assert.rejects(start, { code: 'INTERNAL' });
    await del;
    assert.deepEqual(await f.runtime.state(spec.id), { found: false });
  });

  test('a command missing from the root filesystem fails create with runc\'s reason and leaves nothing', async (t) => {
    const f = ready();
    const spec = containerSpec(f, { args: ['no-such-binary'] });
    t.after(() => f.runtime.delete(spec.id));
    await assert.rejects(f.runtime.create(spec), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'INTERNAL');
      assert.match(err.message, /no-such-binary/);
      return true;
    });
    assert.equal((await f.runtime.state(spec.id)).found, false);
    assert.equal(existsSync(path.join(root, 'state/instances', spec.id)), false);
    assert.equal(existsSync(`/run/netns/${netnsName(spec.id)}`), false);
  });

  test('an init that exits with 137 is reported as an exit, not as SIGKILL (the contract covers a real SIGKILL)', async (t) => {
    const f = ready();
    const spec = containerSpec(f, { args: ['sh', '-c', 'exit 137'] });
    t.after(() => f.runtime.delete(spec.id));
    await f.runtime.create(spec);
    await f.runtime.start(spec.id);
    assert.deepEqual(await f.runtime.wait(spec.id, 10_000), { outcome: 'exited', exit: { reason: 'exited', exitCode: 137 } });
  });

  test('a driver started later on the same root adopts running instances (daemon restart)', async (t) => {
    const f = ready();
    const spec = containerSpec(f, { args: ['sh', '-c', 'echo up; exec sleep 1000'] });
    t.after(() => f.runtime.delete(spec.id));
    await f.runtime.create(spec);
    const started = await f.runtime.start(spec.id);
    const again = await createRuncRuntime({ root: path.join(root, 'state'), network: NETWORK, logs: { maxBytes: 4096, keep: 2 } });
    const seen = await again.state(spec.id);
    assert.ok(seen.found);
    assert.equal(seen.value.status, 'running');
    assert.equal(seen.value.pid, started.pid);
    for (let i = 0; i < 100 && (await collect(again.logs(spec.id))).length === 0; i++) await sleep(20);
    assert.deepEqual((await collect(again.logs(spec.id))).map((l) => l.line), ['up']);
    // pid 1 ignores SIGTERM without a handler, so the grace period ends in SIGKILL
    assert.deepEqual(await again.stop(spec.id, 100), { stopped: 'killed', exit: { reason: 'signalled', signal: 9 } });
    assert.deepEqual(await again.stop(spec.id, 100), { stopped: 'already', exit: { reason: 'signalled', signal: 9 } });
  });

  test('rotates logs by size and keeps them readable after exit', async (t) => {
    const f = ready();
    const spec = containerSpec(f, { args: ['sh', '-c', 'for i in $(seq 1 400); do echo line-$i; done'] });
    t.after(() => f.runtime.delete(spec.id));
    await f.runtime.create(spec);
    await f.runtime.start(spec.id);
    assert.equal((await f.runtime.wait(spec.id, 10_000)).outcome, 'exited');
    const lines = (await collect(f.runtime.logs(spec.id))).map((l) => l.line);
    // 4 KiB per file, 1 current + 2 rotated: the oldest lines are gone, the newest are in order
    assert.equal(lines.at(-1), 'line-400');
    assert.ok(lines.length < 400 && lines.length > 100, `kept ${lines.length} lines`);
    const n = lines.map((l) => Number(l.slice(5)));
    assert.deepEqual(n, n.toSorted((a, b) => a - b));
    assert.deepEqual((await collect(f.runtime.logs(spec.id, { tail: 2 }))).map((l) => l.line), ['line-399', 'line-400']);
  });
});
