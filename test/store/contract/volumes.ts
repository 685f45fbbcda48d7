// test/store/contract/volumes: VolumesRepository on one dialect — created once (a name is global,
// whatever the tenant), read back whole, listed by name per tenant, removed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { VolumeRecord } from '../../../src/core/volumes.ts';
import { open, type StoreTarget } from '../fixtures.ts';

const volume = (name: string, tenant = 'acme', o: Partial<VolumeRecord> = {}): VolumeRecord => ({ name, tenant, sizeBytes: 5 * 1024 ** 4, shared: false, createdAt: 1_700_000_000_123, ...o });

export function volumesContract(target: StoreTarget): void {
  test('volumes: created once per name (any tenant), read back whole, listed per tenant by name, removed', async (t) => {
    const { volumes } = await open(t, await target.fresh(t));
    await volumes.createVolume(volume('data'));
    await volumes.createVolume(volume('assets', 'acme', { shared: true, sizeBytes: 8 * 1024 ** 2 }));
    await volumes.createVolume(volume('cache', 'other'));
    await assert.rejects(volumes.createVolume(volume('data', 'other')), (err: Error & { code?: string }) => err.code === 'CONFLICT' && /data exists/.test(err.message));
    assert.deepEqual(await volumes.getVolume('data'), volume('data'), 'sizes past 2^32 and ms times survive');
    assert.deepEqual(await volumes.getVolume('assets'), volume('assets', 'acme', { shared: true, sizeBytes: 8 * 1024 ** 2 }));
    assert.equal(await volumes.getVolume('nope'), undefined);
    assert.deepEqual((await volumes.listVolumes('acme')).map((v) => v.name), ['assets', 'data']);
    assert.deepEqual((await volumes.listVolumes('other')).map((v) => v.name), ['cache']);
    assert.deepEqual((await volumes.listVolumes()).map((v) => v.name), ['assets', 'cache', 'data']);
    assert.equal(await volumes.deleteVolume('data'), true);
    assert.equal(await volumes.deleteVolume('data'), false);
    assert.equal(await volumes.getVolume('data'), undefined);
    await volumes.createVolume(volume('data', 'other')); // the name is free again
  });
}
