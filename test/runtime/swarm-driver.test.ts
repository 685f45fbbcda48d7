// test/runtime/swarm-driver.test: the instance-driver contract (driver-contract.ts) on the swarm driver,
// against a real three-node Docker Swarm on this machine (test/helpers/swarm-lab.ts), with the runc
// driver's busybox images served to the nodes over HTTP (swarm-side.ts); plus what only the swarm
// driver does: instances on several nodes, another owner's services left alone, what works without
// node engines. A killed node's instances: test/cluster/swarm-serving.test.ts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SkiffError } from '../../src/core/errors.ts';
import type { InstanceDriver } from '../../src/core/instance.ts';
import type { PinnedImage } from '../../src/core/service.ts';
import { useSwarmLab } from '../helpers/swarm-lab.ts';
import { requireTool } from '../helpers/tools.ts';
import { driverContract, type DriverFixture } from './driver-contract.ts';
import { busyboxFixture } from './busybox-fixture.ts';
import { getWhenUp, launch, specOf } from './driver-fixture.ts';
import { MemoryImages } from './memory-images.ts';
import { SwarmSide } from './swarm-side.ts';

const busybox = requireTool('busybox', 'busybox-static');
// any lab subnet: the registry listens on the lab's host address, chosen when the lab starts
const lab = useSwarmLab({ insecureRegistries: ['10.77.0.0/16'], labels: { 1: { zone: 'core' }, 2: { zone: 'edge' }, 3: { zone: 'edge' } } });

describe('swarm instance driver', { skip: lab.skip ?? busybox }, () => {
  const images = new MemoryImages();
  const owner = `test-${randomBytes(3).toString('hex')}`;
  let side: SwarmSide | undefined;
  let work = '';
  let server: PinnedImage | undefined;
  let fixture: DriverFixture | undefined;
  const make = (o: { owner?: string; nodeEngines?: boolean } = {}): InstanceDriver =>
    side!.driver({
      owner: o.owner ?? owner,
      logsDir: path.join(work, 'logs'),
      ...(o.nodeEngines === false ? { nodeEngines: false } : {}),
      volumes: {
        hostPath: async (v) => {
          const dir = path.join(work, 'volumes', v);
          if (!existsSync(dir)) throw new SkiffError('NOT_FOUND', `no volume ${v}`);
          return dir;
        },
      },
      volumeNode: lab().manager.name,
    });

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'skiff-test-swarm-'));
    side = await SwarmSide.start(lab(), images);
    fixture = await busyboxFixture(images, {
      driver: make(),
      reopen: async () => make(),
      idPrefix: `sw${randomBytes(3).toString('hex')}`,
      volume: async (t) => {
        const name = `vol-${randomBytes(3).toString('hex')}`;
        const dir = path.join(work, 'volumes', name);
        mkdirSync(dir, { recursive: true, mode: 0o777 });
        t.after(() => rmSync(dir, { recursive: true, force: true }));
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
      if (work) rmSync(work, { recursive: true, force: true });
    }
  });

  const ready = () => {
    assert.ok(fixture && server, 'swarm driver fixture was not set up');
    return fixture;
  };
  driverContract(async () => ready());

  test('instances spread over the nodes; each answers at its node address', async (t) => {
    const f = ready();
    const hosts = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const { address } = await launch(t, f, { env: { GREETING: `n${i}` } });
      assert.equal((await getWhenUp(address, f.envPath)).status, 200);
      hosts.add(address.host);
    }
    assert.ok(hosts.size >= 2, `all on ${[...hosts].join(', ')}`);
    for (const h of hosts) assert.ok(lab().nodes.some((n) => n.address === h), `${h} is a node address`);
  });

  test('another owner\'s instances are neither listed nor adopted', async (t) => {
    const f = ready();
    const other = make({ owner: `${owner}-other` });
    const id = `${f.idPrefix}-foreign`;
    t.after(() => other.delete(id));
    await other.create(id, specOf(f));
    assert.equal(await f.driver.inspect(id), undefined);
    assert.ok(!(await f.driver.list()).some((i) => i.id === id));
    assert.equal((await other.inspect(id))?.status, 'created');
  });

  test('without node engines: instances run and stop; freezing is UNSUPPORTED; stats and listening unknown', async (t) => {
    const f = ready();
    const bare = make({ nodeEngines: false });
    const id = `${f.idPrefix}-bare`;
    t.after(() => bare.delete(id));
    await bare.create(id, specOf(f, { env: { GREETING: 'bare' } }));
    const address = await bare.start(id);
    assert.equal((await getWhenUp(address, f.envPath)).status, 200);
    await assert.rejects(bare.pause(id), { code: 'UNSUPPORTED' });
    assert.equal(await bare.stats(id), undefined);
    assert.equal(await bare.listening(id), undefined);
    await bare.stop(id, 1000);
    assert.equal((await bare.inspect(id))?.status, 'stopped');
  });
});
