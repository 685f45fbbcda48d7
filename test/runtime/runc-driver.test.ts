// test/runtime/runc-driver.test: the instance-driver contract (driver-contract.ts) on the runc driver as
// the daemon builds it (createRuncDriver: lazy, layer cache, overlay rootfs, real runc, bridge,
// iptables; root), with busybox images made in-process and served from memory; plus what only the runc
// driver does: the process from image config + spec, laziness, leftovers, missing blobs, and that
// nothing is left on the host afterwards.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { InstanceSpec } from '../../src/core/instance.ts';
import { pinnedReference } from '../../src/core/names.ts';
import type { PinnedImage } from '../../src/core/service.ts';
import type { InstanceDriver } from '../../src/core/instance.ts';
import { createRuncDriver } from '../../src/runtime/runc/factory.ts';
import { LoopVolumes } from '../../src/runtime/volumes/loop-volumes.ts';
import { requireTool } from '../helpers/tools.ts';
import { driverContract, type DriverFixture } from './driver-contract.ts';
import { busyboxFixture } from './busybox-fixture.ts';
import { MemoryImages, busyboxLayer, uniqueLayer } from './memory-images.ts';
import { bridgeExists, chainsExist, hostFootprint, removeTestNetwork, runId, sweepDeadRuns, testNetwork } from './test-network.ts';
import { collect } from '../helpers/collect.ts';

const skip = requireTool('runc', 'runc') ?? requireTool('busybox', 'busybox-static');
const NETWORK = testNetwork('r', 221);
const LAZY_NETWORK = testNetwork('l', 222);
const PREFIX = 'skiff-drv-';
const RUN = runId(PREFIX);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runc instance driver', { skip }, () => {
  let work = '';
  let lazyDir = '';
  const images = new MemoryImages();
  let server: PinnedImage | undefined;
  let fixture: DriverFixture | undefined;
  const volumesOf = (dataDir: string) => new LoopVolumes(path.join(dataDir, 'volumes'));
  const make = (dataDir = work, network = NETWORK) => createRuncDriver({ dataDir, images, network, volumes: volumesOf(dataDir) });

  before(async () => {
    sweepDeadRuns(PREFIX);
    work = mkdtempSync(path.join(os.tmpdir(), 'skiff-test-driver-'));
    lazyDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-test-lazy-'));
    fixture = await busyboxFixture(images, {
      driver: make(),
      reopen: async () => make(),
      idPrefix: RUN,
      volume: async (t) => {
        const name = `vol-${randomBytes(3).toString('hex')}`;
        const volumes = volumesOf(work);
        await volumes.create(name, 16 << 20);
        t.after(() => volumes.remove(name));
        return name;
      },
    });
    server = fixture.server;
  });

  // Runs even when before() failed half-way: everything below tolerates pieces that were never made.
  after(async () => {
    for (const [dir, network] of [[work, NETWORK], [lazyDir, LAZY_NETWORK]] as const) {
      if (!dir) continue;
      try {
        const d = make(dir, network);
        for (const i of await d.list()) await d.delete(i.id);
      } finally {
        const runcRoot = path.join(dir, 'runtime/runc');
        for (const id of existsSync(runcRoot) ? readdirSync(runcRoot) : []) execFileSync('runc', ['--root', runcRoot, 'delete', '--force', id], { stdio: 'ignore' });
        await volumesOf(dir).unmountAll();
        rmSync(dir, { recursive: true, force: true });
        await removeTestNetwork(network);
      }
    }
  });

  const ready = () => {
    assert.ok(fixture && server, 'runc driver fixture was not set up');
    return { f: fixture, server };
  };
  driverContract(async () => ready().f);

  const base = (image: PinnedImage, over: Partial<InstanceSpec>): InstanceSpec => ({
    image, service: 'svc-r', revision: 'svc-r-00001', env: {}, readOnlyRoot: false, limits: { memoryBytes: 64 << 20, cpus: 0.5, pids: 64 }, ...over,
  });

  async function runToExit(d: InstanceDriver, id: string, spec: InstanceSpec, t: { after(fn: () => Promise<void>): void }) {
    t.after(() => d.delete(id));
    await d.create(id, spec);
    await d.start(id);
    const exit = await d.watch(id);
    let lines = await collect(d.logs(id));
    for (let i = 0; i < 40 && lines.length === 0; i++, lines = await collect(d.logs(id))) await sleep(25);
    return { exit, lines: lines.map((l) => l.line) };
  }

  test('the process: entrypoint + args, USER, WORKDIR, HOME, env order, PORT, hostname, limits', async (t) => {
    const { f } = ready();
    const image = images.add('test/process', [await busyboxLayer()], {
      Entrypoint: ['/bin/sh', '-c'], Cmd: ['echo image-cmd'], User: 'app', WorkingDir: '/www', Env: ['PATH=/bin', 'GREETING=from-image', 'IMAGE_ONLY=kept'],
    });
    const probe = [
      'id -u', 'id -g', 'pwd', 'hostname', 'echo "$HOME|$GREETING|$IMAGE_ONLY|$PORT|$PATH"',
      'cat /sys/fs/cgroup/memory/memory.limit_in_bytes', 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us',
    ].join('; ');
    const spec = base(image, { service: 'svc-host', port: 9090, args: [probe], env: { GREETING: 'from-spec' }, limits: { memoryBytes: 48 << 20, cpus: 0.25, pids: 32 } });
    const r = await runToExit(f.driver, `${RUN}-proc`, spec, t);
    assert.deepEqual(r.exit, { reason: 'exited', exitCode: 0 });
    assert.deepEqual(r.lines, ['1000', '1000', '/www', 'svc-host', '/home/app|from-spec|kept|9090|/bin', String(48 << 20), '25000']);
    // without args, the image's cmd runs after its entrypoint
    const byCmd = await runToExit(f.driver, `${RUN}-cmd`, base(image, {}), t);
    assert.deepEqual(byCmd.lines, ['image-cmd']);
  });

  test('read-only root: writes outside /tmp fail; a writable root keeps writes private to the instance', async (t) => {
    const { f, server } = ready();
    const write = 'touch /probe 2>/dev/null && echo rw || echo ro; touch /tmp/probe && echo tmp-ok; ls /probe 2>/dev/null || echo none';
    const ro = await runToExit(f.driver, `${RUN}-ro`, base(server, { command: ['/bin/sh', '-c', write], readOnlyRoot: true }), t);
    assert.deepEqual(ro.lines, ['ro', 'tmp-ok', 'none']);
    const rw = await runToExit(f.driver, `${RUN}-rw`, base(server, { command: ['/bin/sh', '-c', write] }), t);
    assert.deepEqual(rw.lines, ['rw', 'tmp-ok', '/probe']);
    const other = await runToExit(f.driver, `${RUN}-rw2`, base(server, { command: ['/bin/sh', '-c', 'ls /probe 2>/dev/null || echo none'] }), t);
    assert.deepEqual(other.lines, ['none'], "another instance of the image does not see the first one's write");
  });

  test('a layer blob missing from the registry fails create with BLOB_UNKNOWN naming the image, and leaves nothing', async (t) => {
    const { f } = ready();
    const layer = await uniqueLayer();
    const image = images.add('test/broken', [layer], { Cmd: ['/bin/true'] });
    const manifest = JSON.parse((await images.manifest(image.repository, image.digest)).bytes.toString()) as { layers: Array<{ digest: string }> };
    images.blobs.delete(manifest.layers[0]!.digest);
    const id = `${RUN}-broken`;
    t.after(() => f.driver.delete(id));
    await assert.rejects(f.driver.create(id, base(image, {})), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'BLOB_UNKNOWN');
      assert.ok(err.message.includes(pinnedReference(image)), err.message);
      return true;
    });
    assert.equal(await f.driver.inspect(id), undefined);
    assert.equal(existsSync(path.join(work, 'instances', id)), false);
  });

  test('a leftover dir without a container is listed as missing (revision from its id) and delete removes it', async () => {
    const { f } = ready();
    const id = `${RUN}-left-00003-a1b2c3`;
    mkdirSync(path.join(work, 'instances', id), { recursive: true });
    const missing = { id, service: '', revision: `${RUN}-left-00003`, status: 'missing' };
    assert.deepEqual((await f.driver.list()).find((i) => i.id === id), missing);
    assert.deepEqual(await f.driver.inspect(id), missing);
    await f.driver.delete(id);
    assert.equal(existsSync(path.join(work, 'instances', id)), false);
    assert.equal(await f.driver.inspect(id), undefined);
  });

  test('lazy: nothing on the host until the first prepare; instances left on disk make a new driver build', async (t) => {
    const { server } = ready();
    const d = make(lazyDir, LAZY_NETWORK);
    const unbuilt = () => ({ bridge: bridgeExists(LAZY_NETWORK), chains: chainsExist(LAZY_NETWORK), layers: existsSync(path.join(lazyDir, 'layers')) });
    assert.deepEqual(await d.list(), []);
    await d.stop(`${RUN}-x`, 0);
    await d.delete(`${RUN}-x`);
    assert.equal(await d.inspect(`${RUN}-x`), undefined);
    assert.equal(await d.stats(`${RUN}-x`), undefined);
    assert.equal(await d.watch(`${RUN}-x`), undefined);
    assert.deepEqual(await collect(d.logs(`${RUN}-x`)), []);
    for await (const _ of d.followLogs(`${RUN}-x`, AbortSignal.timeout(1000))) assert.fail('no lines expected');
    await assert.rejects(d.start(`${RUN}-x`), { code: 'NOT_FOUND' });
    assert.deepEqual(unbuilt(), { bridge: false, chains: false, layers: false });

    assert.equal((await d.prepare(server)).total, 1);
    assert.deepEqual(unbuilt(), { bridge: true, chains: true, layers: true });
    const id = `${RUN}-lazy`;
    t.after(() => d.delete(id));
    await d.create(id, base(server, { port: 8080 }));
    // a restarted daemon: the instance left on disk makes the new driver build before it answers
    const again = make(lazyDir, LAZY_NETWORK);
    assert.deepEqual((await again.list()).map((i) => [i.id, i.status]), [[id, 'created']]);
    assert.deepEqual(unbuilt(), { bridge: true, chains: true, layers: true });
    await again.delete(id);
    assert.deepEqual(await again.list(), []);
  });

  // Last: every case above deleted what it made (t.after), so the host must be back as it was.
  test('leaves no mounts, netns, cgroups, dirs or addresses behind', async () => {
    const { f } = ready();
    assert.deepEqual(await f.driver.list(), []);
    assert.deepEqual(hostFootprint(RUN, work), { mounts: 0, netns: 0, cgroups: 0 });
    assert.deepEqual(readdirSync(path.join(work, 'instances')), []);
    assert.deepEqual(readdirSync(path.join(work, 'runtime/instances')), []);
    const ipam = `/run/skiff/ipam/${NETWORK.bridge}`;
    assert.deepEqual(existsSync(ipam) ? readdirSync(ipam) : [], []);
    const veths = readdirSync(`/sys/class/net/${NETWORK.bridge}/brif`);
    assert.deepEqual(veths, []);
  });
});
