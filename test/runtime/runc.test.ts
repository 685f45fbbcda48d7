// test/runtime/runc.test: the Runtime contract on the runc driver (real runc, bridge, iptables; root),
// plus runc-specific checks: the bundle policy and that create/delete cycles leak nothing.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { createRuncRuntime, type RuncRuntime } from '../../src/runtime/runc/driver.ts';
import { hostVeth, netnsName } from '../../src/runtime/network/host-network.ts';
import { removeFirewall } from '../../src/runtime/network/firewall.ts';
import { makeBusyboxRootfs } from './rootfs.ts';
import { instanceSpec, runtimeContract, type ContractFixture } from './contract.ts';

const isRoot = process.getuid?.() === 0;
const skip = !isRoot && process.env.CI !== 'true' ? 'needs root (runc, netns, iptables)' : false;

// Test-only network: its own bridge, subnet and chains, so it never touches a real daemon's skiff0.
const NETWORK = { bridge: 'skiff-t0', cidr: '10.214.0.0/16', chainPrefix: 'SKIFF-T', egress: false };
const RUN = `skiff-test-${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;

let fixture: ContractFixture & { runtime: RuncRuntime; root: string };

/** Removes leftovers of earlier, crashed runs: runc containers, netns and veths named skiff-test-*. */
function sweep(root: string): void {
  for (const ns of execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n')) {
    const name = ns.split(' ')[0] ?? '';
    if (name.startsWith('skiff-skiff-test-') && !name.includes(RUN)) {
      const id = name.slice('skiff-'.length);
      try { execFileSync('ip', ['link', 'del', hostVeth(id)], { stdio: 'ignore' }); } catch { /* already gone */ }
      try { execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' }); } catch { /* already gone */ }
    }
  }
  if (existsSync(path.join(root, 'runc'))) {
    for (const id of readdirSync(path.join(root, 'runc'))) execFileSync('runc', ['--root', path.join(root, 'runc'), 'delete', '--force', id], { stdio: 'ignore' });
  }
}

function bridgePorts(): string[] {
  return existsSync(`/sys/class/net/${NETWORK.bridge}/brif`) ? readdirSync(`/sys/class/net/${NETWORK.bridge}/brif`) : [];
}

describe('runc runtime', { skip }, () => {
  before(async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'skiff-test-runtime-'));
    const rootfs = makeBusyboxRootfs(path.join(root, 'rootfs'));
    const runtime = await createRuncRuntime({ root: path.join(root, 'state'), network: NETWORK, logs: { maxBytes: 4096, keep: 2 } });
    fixture = { runtime, rootfs, root, hostAddress: '10.214.0.1', idPrefix: RUN };
  });

  after(async () => {
    if (!fixture) return;
    for (const s of await fixture.runtime.list()) await fixture.runtime.delete(s.id);
    sweep(path.join(fixture.root, 'state'));
    rmSync(fixture.root, { recursive: true, force: true });
    // the last user of the shared test network takes it down
    if (bridgePorts().length === 0) {
      execFileSync('ip', ['link', 'del', NETWORK.bridge], { stdio: 'ignore' });
      await removeFirewall(NETWORK.chainPrefix);
      for (const d of [`/run/skiff/ipam/${NETWORK.bridge}`, '/run/skiff/ipam', '/run/skiff']) {
        try { rmdirSync(d); } catch { /* not empty or absent: someone else's */ }
      }
    }
  });

  runtimeContract(async () => fixture);

  test('create/delete cycles leave no mounts, netns, veths or cgroups behind', async (t) => {
    const f = fixture;
    const ids: string[] = [];
    const ours = () => ({
      mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(RUN)).length,
      netns: execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(RUN)).length,
      veths: ids.filter((id) => existsSync(`/sys/class/net/${hostVeth(id)}`)).length,
      cgroups: existsSync('/sys/fs/cgroup/memory/skiff') ? readdirSync('/sys/fs/cgroup/memory/skiff').filter((d) => d.includes(RUN)).length : 0,
      ports: bridgePorts().length,
    });
    const before = ours();
    for (let i = 0; i < 20; i++) {
      const spec = instanceSpec(f, { args: ['true'] });
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

  test('rotates logs by size and keeps them readable after exit', async (t) => {
    const f = fixture;
    const spec = instanceSpec(f, { args: ['sh', '-c', 'for i in $(seq 1 400); do echo line-$i; done'] });
    t.after(() => f.runtime.delete(spec.id));
    await f.runtime.create(spec);
    await f.runtime.start(spec.id);
    assert.equal((await f.runtime.wait(spec.id, 10_000)).outcome, 'exited');
    const lines = (await f.runtime.logs(spec.id)).map((l) => l.line);
    // 4 KiB per file, 1 current + 2 rotated: the oldest lines are gone, the newest are in order
    assert.equal(lines.at(-1), 'line-400');
    assert.ok(lines.length < 400 && lines.length > 100, `kept ${lines.length} lines`);
    const n = lines.map((l) => Number(l.slice(5)));
    assert.deepEqual(n, n.toSorted((a, b) => a - b));
    assert.deepEqual((await f.runtime.logs(spec.id, { tail: 2 })).map((l) => l.line), ['line-399', 'line-400']);
  });
});
