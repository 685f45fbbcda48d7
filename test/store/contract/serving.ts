// test/store/contract/serving: ServingRepository's behaviour, method by method, on one dialect.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { image, open, serviceSpec, type StoreTarget } from '../fixtures.ts';

export function servingContract(target: StoreTarget): void {
  test('deploy: a new service gets generation 1 with 100 % of its traffic', async (t) => {
    const { serving } = await open(t, await target.fresh(t));
    const spec = serviceSpec('hello');
    const pinned = image('team/hello');
    const { service, revision } = await serving.deploy('acme', spec, { min: 1, max: 5 }, pinned, 1_700_000_000_000);
    const expectedRevision = { name: 'hello-00001', service: 'hello', generation: 1, image: pinned, spec, createdAt: 1_700_000_000_000 };
    const expectedService = {
      name: 'hello',
      tenant: 'acme',
      spec,
      scale: { min: 1, max: 5 },
      traffic: [{ revision: 'hello-00001', percent: 100 }],
      latestRevision: 'hello-00001',
      previousServing: null,
      createdAt: 1_700_000_000_000,
      updatedAt: 1_700_000_000_000,
    };
    assert.deepEqual(revision, expectedRevision);
    assert.deepEqual(service, expectedService);
    assert.deepEqual(await serving.getService('hello'), expectedService);
    assert.deepEqual(await serving.getRevision('hello-00001'), expectedRevision);
    assert.equal(await serving.getService('nope'), undefined);
    assert.equal(await serving.getRevision('hello-00002'), undefined);
  });

  test('deploy: the next generation; previousServing is the top of the old traffic; owner and createdAt stay', async (t) => {
    const { serving } = await open(t, await target.fresh(t));
    await serving.deploy('acme', serviceSpec('hello'), { min: 0, max: 3 }, image('team/hello', 'v1'), 1000);
    const spec2 = serviceSpec('hello', { image: 'team/hello:v2', env: { V: '2' } });
    const second = await serving.deploy('other-tenant', spec2, { min: 2, max: 9 }, image('team/hello', 'v2'), 2000);
    assert.equal(second.revision.name, 'hello-00002');
    assert.equal(second.revision.generation, 2);
    const expected = {
      name: 'hello',
      tenant: 'acme',
      spec: spec2,
      scale: { min: 2, max: 9 },
      traffic: [{ revision: 'hello-00002', percent: 100 }],
      latestRevision: 'hello-00002',
      previousServing: 'hello-00001',
      createdAt: 1000,
      updatedAt: 2000,
    };
    assert.deepEqual(second.service, expected);
    assert.deepEqual(await serving.getService('hello'), expected);
    assert.deepEqual((await serving.getRevision('hello-00001'))?.image, image('team/hello', 'v1'));

    // a split: the largest positive share wins, the first of equals
    await serving.setTraffic('hello', [{ revision: 'hello-00001', percent: 30 }, { revision: 'hello-00002', percent: 70 }], 3000);
    assert.equal((await serving.deploy('acme', serviceSpec('hello'), { min: 0, max: 3 }, image('team/hello'), 4000)).service.previousServing, 'hello-00002');
    await serving.setTraffic('hello', [{ revision: 'hello-00001', percent: 50 }, { revision: 'hello-00003', percent: 50 }], 5000);
    assert.equal((await serving.deploy('acme', serviceSpec('hello'), { min: 0, max: 3 }, image('team/hello'), 6000)).service.previousServing, 'hello-00001');
    await serving.setTraffic('hello', [{ revision: 'hello-00004', percent: 0 }], 7000);
    assert.equal((await serving.deploy('acme', serviceSpec('hello'), { min: 0, max: 3 }, image('team/hello'), 8000)).service.previousServing, null);
  });

  test('setTraffic records the old top revision; setScale changes only the bounds; unknown services are left alone', async (t) => {
    const { serving } = await open(t, await target.fresh(t));
    await serving.deploy('acme', serviceSpec('hello'), { min: 0, max: 3 }, image('team/hello'), 1000);
    await serving.deploy('acme', serviceSpec('hello'), { min: 0, max: 3 }, image('team/hello'), 2000);
    const split = [{ revision: 'hello-00001', percent: 10 }, { revision: 'hello-00002', percent: 90 }];
    await serving.setTraffic('hello', split, 3000);
    let s = await serving.getService('hello');
    assert.deepEqual(s?.traffic, split);
    assert.equal(s?.previousServing, 'hello-00002');
    assert.equal(s?.latestRevision, 'hello-00002');
    assert.equal(s?.updatedAt, 3000);
    await serving.setTraffic('hello', [{ revision: 'hello-00001', percent: 100 }], 4000);
    assert.equal((await serving.getService('hello'))?.previousServing, 'hello-00002');
    await serving.setScale('hello', { min: 4, max: 40 }, 5000);
    s = await serving.getService('hello');
    assert.deepEqual(s?.scale, { min: 4, max: 40 });
    assert.deepEqual(s?.traffic, [{ revision: 'hello-00001', percent: 100 }]);
    assert.equal(s?.updatedAt, 5000);
    await serving.setTraffic('ghost', split, 6000);
    await serving.setScale('ghost', { min: 1, max: 1 }, 6000);
    assert.equal(await serving.getService('ghost'), undefined);
    assert.deepEqual((await serving.listServices()).map((x) => x.name), ['hello']);
  });

  test('listServices by name; revisionsOf newest first; allRevisions newest first per service in one list', async (t) => {
    const { serving } = await open(t, await target.fresh(t));
    for (const [name, times] of [['web', 3], ['api', 2], ['a-b', 1], ['worker', 0]] as const) {
      for (let i = 0; i < times; i++) await serving.deploy('acme', serviceSpec(name), { min: 0, max: 1 }, image(`team/${name}`, `${name}${i}`), 1000 + i);
    }
    assert.deepEqual((await serving.listServices()).map((s) => s.name), ['a-b', 'api', 'web']);
    assert.deepEqual((await serving.revisionsOf('web')).map((r) => r.name), ['web-00003', 'web-00002', 'web-00001']);
    assert.deepEqual((await serving.revisionsOf('web'))[2]?.image, image('team/web', 'web0'));
    assert.deepEqual(await serving.revisionsOf('worker'), []);
    const all = await serving.allRevisions();
    assert.deepEqual(all.map((r) => r.name), ['a-b-00001', 'api-00002', 'api-00001', 'web-00003', 'web-00002', 'web-00001']);
    assert.deepEqual(all[1], await serving.getRevision('api-00002'));
  });

  test('deleteService removes the service, its revisions, events and keep-alive state, and nothing else', async (t) => {
    const { serving } = await open(t, await target.fresh(t));
    for (const name of ['doomed', 'kept']) {
      await serving.deploy('acme', serviceSpec(name), { min: 0, max: 1 }, image(`team/${name}`), 1000);
      await serving.deploy('acme', serviceSpec(name), { min: 0, max: 1 }, image(`team/${name}`), 1001);
      await serving.addEvent(name, `${name}-00001`, 'deploy', `deployed ${name}`, 1002);
      await serving.putKeepAlive(name, `{"of":"${name}"}`, 1003);
    }
    assert.equal(await serving.deleteService('doomed'), true);
    assert.equal(await serving.deleteService('doomed'), false);
    assert.equal(await serving.getService('doomed'), undefined);
    assert.deepEqual(await serving.revisionsOf('doomed'), []);
    assert.equal(await serving.getRevision('doomed-00001'), undefined);
    assert.deepEqual(await serving.events('doomed', 10), []);
    assert.deepEqual(await serving.listKeepAlive(), [{ service: 'kept', state: '{"of":"kept"}' }]);
    assert.equal((await serving.revisionsOf('kept')).length, 2);
    assert.equal((await serving.events('kept', 10)).length, 1);
    // a deleted name starts again at generation 1
    assert.equal((await serving.deploy('acme', serviceSpec('doomed'), { min: 0, max: 1 }, image('team/doomed'), 2000)).revision.name, 'doomed-00001');
  });

  test('instances: put inserts then updates state and address, list, delete', async (t) => {
    const { serving } = await open(t, await target.fresh(t));
    await serving.putInstance({ id: 'web-00001-aaaaaa', revision: 'web-00001', service: 'web', state: 'pre-created', address: null }, 1000);
    await serving.putInstance({ id: 'api-00001-bbbbbb', revision: 'api-00001', service: 'api', state: 'starting', address: null }, 2000);
    await serving.putInstance({ id: 'web-00001-aaaaaa', revision: 'web-00001', service: 'web', state: 'ready', address: '10.0.0.2:8080' }, 3000);
    assert.deepEqual(await serving.listInstances(), [
      { id: 'web-00001-aaaaaa', revision: 'web-00001', service: 'web', state: 'ready', address: '10.0.0.2:8080', createdAt: 1000, updatedAt: 3000 },
      { id: 'api-00001-bbbbbb', revision: 'api-00001', service: 'api', state: 'starting', address: null, createdAt: 2000, updatedAt: 2000 },
    ]);
    await serving.deleteInstance('web-00001-aaaaaa');
    await serving.deleteInstance('web-00001-aaaaaa');
    assert.deepEqual((await serving.listInstances()).map((i) => i.id), ['api-00001-bbbbbb']);
  });

  test('events: newest `limit` oldest first; a service keeps its newest 200; recentEvents per service', async (t) => {
    const { serving } = await open(t, await target.fresh(t));
    for (let i = 1; i <= 205; i++) await serving.addEvent('busy', i % 2 ? 'busy-00001' : null, 'tick', `event ${i}`, 10_000 + i);
    await serving.addEvent('quiet', 'quiet-00001', 'deploy', 'only one', 5000);
    const busy = await serving.events('busy', 1000);
    assert.equal(busy.length, 200);
    assert.deepEqual(busy.map((e) => e.message), Array.from({ length: 200 }, (_, i) => `event ${i + 6}`));
    assert.ok(busy.every((e, i) => i === 0 || e.id > busy[i - 1]!.id), 'ids ascend');
    const last3 = await serving.events('busy', 3);
    assert.deepEqual(last3.map(({ id: _id, ...rest }) => rest), [
      { service: 'busy', revision: 'busy-00001', at: 10_203, kind: 'tick', message: 'event 203' },
      { service: 'busy', revision: null, at: 10_204, kind: 'tick', message: 'event 204' },
      { service: 'busy', revision: 'busy-00001', at: 10_205, kind: 'tick', message: 'event 205' },
    ]);
    assert.equal(typeof last3[0]!.id, 'number');
    const recent = await serving.recentEvents(2);
    assert.deepEqual([...recent.keys()], ['busy', 'quiet']);
    assert.deepEqual(recent.get('busy'), busy.slice(-2));
    assert.deepEqual(recent.get('quiet')?.map((e) => e.message), ['only one']);
    assert.deepEqual(await serving.events('nobody', 5), []);
    assert.equal((await serving.recentEvents(500)).get('busy')?.length, 200);
  });

  test('keep-alive state: put, overwrite, list', async (t) => {
    const { serving } = await open(t, await target.fresh(t));
    assert.deepEqual(await serving.listKeepAlive(), []);
    await serving.putKeepAlive('web', '{"buckets":[1,2]}', 1000);
    await serving.putKeepAlive('api', '{"buckets":[]}', 1000);
    await serving.putKeepAlive('web', '{"buckets":[3]}', 2000);
    assert.deepEqual(await serving.listKeepAlive(), [
      { service: 'api', state: '{"buckets":[]}' },
      { service: 'web', state: '{"buckets":[3]}' },
    ]);
  });
}
