// test/store/contract/secrets: SecretsRepository on one dialect — versions numbered from 1 per tenant and
// secret, the latest read by default, metadata listed per tenant (another tenant's secret of the same
// name is another secret), concurrent sets getting distinct versions, a removal taking every version.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { open, type StoreTarget } from '../fixtures.ts';

const sealed = (keys: string[], tag: string) => () => ({ keys, sealed: `sealed-${tag}`, keyId: 'k1' });

export function secretsContract(target: StoreTarget): void {
  test('secrets: versions from 1, latest by default, listed per tenant with key names, removed with every version', async (t) => {
    const { secrets } = await open(t, await target.fresh(t));
    const v1 = await secrets.addVersion('acme', 'db', sealed(['password', 'user'], 'a1'), 1000);
    assert.deepEqual(v1, { tenant: 'acme', name: 'db', version: 1, keys: ['password', 'user'], sealed: 'sealed-a1', keyId: 'k1', createdAt: 1000 });
    const seen: Array<number | undefined> = [];
    const v2 = await secrets.addVersion('acme', 'db', (version, latest) => (seen.push(version, latest?.version), { keys: ['password'], sealed: `sealed-a${version}`, keyId: 'k1' }), 2000);
    assert.equal(v2.version, 2);
    assert.deepEqual(seen.slice(-2), [2, 1], 'make gets the new version and the latest one');
    await secrets.addVersion('other', 'db', sealed(['token'], 'o1'), 1500);
    await secrets.addVersion('acme', 'api', sealed(['key'], 'b1'), 1200);

    assert.equal((await secrets.getVersion('acme', 'db'))?.sealed, 'sealed-a2');
    assert.equal((await secrets.getVersion('acme', 'db', 1))?.sealed, 'sealed-a1');
    assert.equal(await secrets.getVersion('acme', 'db', 3), undefined);
    assert.equal(await secrets.getVersion('acme', 'nope'), undefined);
    assert.equal((await secrets.getVersion('other', 'db'))?.sealed, 'sealed-o1', "another tenant's db is its own");

    assert.deepEqual(await secrets.listSecrets('acme'), [
      { tenant: 'acme', name: 'api', latestVersion: 1, keys: ['key'], versions: 1, createdAt: 1200, updatedAt: 1200 },
      { tenant: 'acme', name: 'db', latestVersion: 2, keys: ['password'], versions: 2, createdAt: 1000, updatedAt: 2000 },
    ]);
    assert.deepEqual((await secrets.listSecrets('other')).map((s) => s.name), ['db']);
    assert.deepEqual(await secrets.listSecrets('nobody'), []);
    assert.equal((await secrets.getSecret('acme', 'db'))?.latestVersion, 2);
    assert.equal(await secrets.getSecret('other', 'api'), undefined);
    const versions = await secrets.versionsOf('acme', 'db');
    assert.deepEqual(versions.map((v) => [v.version, v.keys, v.sealed]), [[2, ['password'], ''], [1, ['password', 'user'], '']], 'newest first, without the sealed values');

    assert.equal(await secrets.deleteSecret('acme', 'db'), true);
    assert.equal(await secrets.deleteSecret('acme', 'db'), false);
    assert.equal(await secrets.getVersion('acme', 'db', 1), undefined, 'every version went');
    assert.equal((await secrets.getVersion('other', 'db'))?.version, 1, "another tenant's is untouched");
    const again = await secrets.addVersion('acme', 'db', sealed(['x'], 'new'), 3000);
    assert.equal(again.version, 1, 'a secret made again starts over');
  });

  test('secrets: a failing make stores nothing; concurrent sets get distinct versions', async (t) => {
    const o = await target.fresh(t);
    const { secrets } = await open(t, o);
    await assert.rejects(secrets.addVersion('acme', 'db', () => { throw new Error('refused'); }, 1000), /refused/);
    assert.equal(await secrets.getSecret('acme', 'db'), undefined);
    await secrets.addVersion('acme', 'db', sealed(['a'], '1'), 1000);
    await assert.rejects(secrets.addVersion('acme', 'db', () => { throw new Error('refused'); }, 1000), /refused/);
    assert.equal((await secrets.getSecret('acme', 'db'))?.latestVersion, 1);

    const stores = [secrets, ...(await Promise.all(Array.from({ length: target.clients - 1 }, () => open(t, o).then((s) => s.secrets))))];
    const made = await Promise.all(Array.from({ length: 8 }, (_, i) => stores[i % stores.length]!.addVersion('acme', 'db', (v) => ({ keys: ['a'], sealed: `s${v}`, keyId: 'k1' }), 2000 + i)));
    assert.deepEqual(made.map((m) => m.version).sort((a, b) => a - b), [2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal((await secrets.getSecret('acme', 'db'))?.versions, 9);
  });
}
