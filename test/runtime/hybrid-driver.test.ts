// test/runtime/hybrid-driver.test: the instance-driver contract (driver-contract.ts) on the hybrid driver
// — runc on this machine plus a real three-node swarm (test/helpers/swarm-lab.ts) — and what the hybrid
// does: a revision's first instance here, the next on the swarm, each call on the right side, and a
// second driver on the same state learning which side holds what.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { InstanceDriver } from '../../src/core/instance.ts';
import type { PinnedImage } from '../../src/core/service.ts';
import { HybridInstanceDriver } from '../../src/runtime/hybrid/hybrid-driver.ts';
import { createRuncDriver } from '../../src/runtime/runc/factory.ts';
import { LoopVolumes } from '../../src/runtime/volumes/loop-volumes.ts';
import { useSwarmLab } from '../helpers/swarm-lab.ts';
import { requireTool } from '../helpers/tools.ts';
import { driverContract, type DriverFixture } from './driver-contract.ts';
import { busyboxFixture } from './busybox-fixture.ts';
import { create, getWhenUp, launch } from './driver-fixture.ts';
import { MemoryImages } from './memory-images.ts';
import { SwarmSide } from './swarm-side.ts';
import { removeTestNetwork, runId, testNetwork } from './test-network.ts';

const skip = requireTool('runc', 'runc') ?? requireTool('busybox', 'busybox-static');
const lab = useSwarmLab({ insecureRegistries: ['10.77.0.0/16'] });
const NETWORK = testNetwork('h', 227);
const RUN = runId('skiff-hyb-');

describe('hybrid instance driver', { skip: lab.skip ?? skip }, () => {
  const images = new MemoryImages();
  const owner = `hyb-${randomBytes(3).toString('hex')}`;
  let side: SwarmSide | undefined;
  let work = '';
  let fixture: DriverFixture | undefined;
  let server: PinnedImage | undefined;
  const volumesOf = () => new LoopVolumes(path.join(work, 'volumes'));
  const make = (): HybridInstanceDriver => {
    const local = createRuncDriver({ dataDir: work, images, network: NETWORK, volumes: volumesOf() });
    const cluster = side!.driver({ owner, logsDir: path.join(work, 'swarm-logs') });
    return new HybridInstanceDriver(local, cluster, { localPerRevision: 1, localMax: 4 });
  };

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'skiff-test-hybrid-'));
    side = await SwarmSide.start(lab(), images);
    fixture = await busyboxFixture(images, {
      driver: make(),
      reopen: async () => make(),
      idPrefix: RUN,
      volume: async (t) => {
        const name = `vol-${randomBytes(3).toString('hex')}`;
        await volumesOf().create(name, 16 << 20);
        t.after(() => volumesOf().remove(name));
        return name;
      },
    });
    server = fixture.server;
  });

  after(async () => {
    try {
      if (fixture) for (const i of await fixture.driver.list()) await fixture.driver.delete(i.id);
    } finally {
      await side?.close();
      if (work) {
        const runcRoot = path.join(work, 'runtime/runc');
        for (const id of existsSync(runcRoot) ? readdirSync(runcRoot) : []) execFileSync('runc', ['--root', runcRoot, 'delete', '--force', id], { stdio: 'ignore' });
        await volumesOf().unmountAll();
        rmSync(work, { recursive: true, force: true });
      }
      await removeTestNetwork(NETWORK);
    }
  });

  const ready = () => {
    assert.ok(fixture && server, 'hybrid fixture was not set up');
    return fixture;
  };
  driverContract(async () => ready());

  test('a revision\'s first instance and one spare run here, the next ones on the swarm; a new driver knows which is where', async (t) => {
    const f = ready();
    const revision = `hyb-${randomBytes(2).toString('hex')}-00001`;
    const first = await launch(t, f, { service: 'hyb', revision, env: { GREETING: 'first' } });
    // the spare (made while the first still runs: the pool's, before the first drains)
    const spare = await create(t, f, { service: 'hyb', revision, env: { GREETING: 'spare' } });
    const third = await launch(t, f, { service: 'hyb', revision, env: { GREETING: 'third' } });
    const nodeAddresses = lab().nodes.map((n) => n.address);
    assert.ok(!nodeAddresses.includes(first.address.host) && first.address.node === undefined, `first on this machine: ${JSON.stringify(first.address)}`);
    const spareAt = await f.driver.start(spare);
    assert.ok(!nodeAddresses.includes(spareAt.host) && spareAt.node === undefined, `the spare on this machine: ${JSON.stringify(spareAt)}`);
    assert.ok(nodeAddresses.includes(third.address.host) && third.address.node, `third on the swarm: ${JSON.stringify(third.address)}`);
    for (const a of [first.address, spareAt, third.address]) assert.equal((await getWhenUp(a, f.envPath)).status, 200);
    const again: InstanceDriver = make();
    assert.equal((await again.inspect(first.id))?.status, 'running');
    assert.deepEqual((await again.inspect(third.id))?.address, third.address);
    await again.stop(third.id, 500);
    assert.equal((await f.driver.inspect(third.id))?.status, 'stopped');
  });
});
