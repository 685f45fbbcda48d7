// test/store/contract/concurrency: writers racing on one database (several stores where the dialect
// allows it: several processes' worth of clients), atomicity of a write that fails half way, and the
// GC-vs-push race that registry GC's safety rests on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import type { Store } from '../../../src/store/repositories.ts';
import { openDatabase } from '../../../src/store/open.ts';
import { digest, image, open, serviceSpec, type StoreTarget } from '../fixtures.ts';

export function concurrencyContract(target: StoreTarget): void {
  async function clients(t: Parameters<typeof open>[0], o: Parameters<typeof open>[1]): Promise<Store[]> {
    const out: Store[] = [];
    for (let i = 0; i < target.clients; i++) out.push(await open(t, o));
    return out;
  }

  test('30 concurrent deploys of one new service get generations 1..30, each exactly once', async (t) => {
    const stores = await clients(t, await target.fresh(t));
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        stores[i % stores.length]!.serving.deploy('acme', serviceSpec('race', { env: { N: String(i) } }), { min: 0, max: 3 }, image('team/race', `d${i}`), 1000 + i),
      ),
    );
    const generations = results.map((r) => r.revision.generation).sort((a, b) => a - b);
    assert.deepEqual(generations, Array.from({ length: 30 }, (_, i) => i + 1));
    for (const r of results) assert.equal(r.revision.name, `race-${String(r.revision.generation).padStart(5, '0')}`);
    const store = stores[0]!;
    const revisions = await store.serving.revisionsOf('race');
    assert.deepEqual(revisions.map((r) => r.generation), Array.from({ length: 30 }, (_, i) => 30 - i));
    // each revision holds the spec and image of the deploy that created it
    for (const r of results) assert.deepEqual(await store.serving.getRevision(r.revision.name), r.revision);
    const service = await store.serving.getService('race');
    assert.equal(service?.latestRevision, 'race-00030');
    assert.deepEqual(service?.traffic, [{ revision: 'race-00030', percent: 100 }]);
    assert.equal(service?.previousServing, 'race-00029');
  });

  test('concurrent pushes from many clients: every blob and manifest lands, shared layers once', async (t) => {
    const stores = await clients(t, await target.fresh(t));
    const shared = digest('shared base layer');
    const pushes = Array.from({ length: 24 }, async (_, i) => {
      const { registry } = stores[i % stores.length]!;
      const repository = `team/app${i % 4}`;
      const own = digest(`layer ${i}`);
      const config = digest(`config ${i}`);
      await Promise.all([registry.commitBlob(repository, shared, 1000, 1000 + i), registry.commitBlob(repository, own, 10 + i, 1000 + i), registry.commitBlob(repository, config, 5, 1000 + i)]);
      const manifestDigest = digest(`manifest ${i}`);
      const result = await registry.putManifest(
        { repository, digest: manifestDigest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 300, artifactType: null, subject: null, annotations: { i: String(i) }, blobRefs: [config, shared, own], manifestRefs: [], tag: `v${i}` },
        2000 + i,
      );
      return { repository, own, manifestDigest, result, i };
    });
    const done = await Promise.all(pushes);
    const { registry } = stores[0]!;
    for (const p of done) {
      assert.deepEqual(p.result, { ok: true });
      assert.equal(await registry.resolveTag(p.repository, `v${p.i}`), p.manifestDigest);
      assert.deepEqual((await registry.getManifest(p.repository, p.manifestDigest))?.annotations, { i: String(p.i) });
      assert.equal((await registry.linkedBlob(p.repository, p.own))?.size, 10 + p.i);
      assert.equal((await registry.linkedBlob(p.repository, shared))?.digest, shared);
    }
    assert.equal((await registry.blobDigests()).size, 1 + 24 * 3);
    assert.deepEqual(await registry.catalog('', 10), ['team/app0', 'team/app1', 'team/app2', 'team/app3']);
    assert.deepEqual(await registry.collectUnreferenced(1_000_000), []);
  });

  test('a write that fails after its first statement leaves nothing behind, and the store goes on', async (t) => {
    const o = await target.fresh(t);
    const store = await open(t, o);
    // createUpload = create the repository, then insert the session. A duplicate session id fails
    // the second statement; the repository the first one created must go with it.
    await store.registry.createUpload('session-1', 'team/first', 1000);
    await assert.rejects(store.registry.createUpload('session-1', 'team/second', 2000));
    assert.equal(await store.registry.repositoryExists('team/second'), false);
    assert.deepEqual(await store.registry.getUpload('session-1'), { id: 'session-1', repository: 'team/first', createdAt: 1000, touchedAt: 1000 });

    // deploy = write the service row, then insert the revision. A revision row left under the name
    // the deploy picks (as a hand-edited or half-restored database could have) fails the insert.
    const raw = await openDatabase(o);
    await sql`INSERT INTO revisions (name, service, generation, image_ref, image_repository, image_digest, spec, created_at)
              VALUES ('orphan-00001', 'orphan', 1, 'x', 'team/x', ${digest('x')}, '{}', 1)`.execute(raw.db);
    await raw.db.destroy();
    await assert.rejects(store.serving.deploy('acme', serviceSpec('orphan'), { min: 0, max: 1 }, image('team/orphan'), 3000));
    assert.equal(await store.serving.getService('orphan'), undefined);
    assert.deepEqual((await store.serving.revisionsOf('orphan')).map((r) => r.image.repository), ['team/x']);

    // the connection is not left inside a transaction: later writes commit and survive a reopen
    await store.registry.commitBlob('team/after', digest('after'), 1, 4000);
    await store.serving.deploy('acme', serviceSpec('fine'), { min: 0, max: 1 }, image('team/fine'), 4000);
    await store.close();
    const reopened = await open(t, o);
    assert.equal((await reopened.registry.linkedBlob('team/after', digest('after')))?.touchedAt, 4000);
    assert.equal((await reopened.serving.getService('fine'))?.latestRevision, 'fine-00001');
    assert.equal(await reopened.registry.repositoryExists('team/second'), false);
  });

  test('GC racing pushes: an accepted manifest keeps its blob; a refused one saw it collected', async (t) => {
    const stores = await clients(t, await target.fresh(t));
    const pusher = stores[0]!.registry;
    const collector = stores[stores.length - 1]!.registry;
    let accepted = 0;
    let refused = 0;
    // `race` starts both at once (either may win; which one depends on the machine's speed);
    // `sweep-first` and `put-first` finish one before starting the other, so each branch below is
    // checked on every machine, not only where the race happens to go both ways.
    const playRound = async (round: number, order: 'race' | 'sweep-first' | 'put-first') => {
      const t0 = 1_000_000 + round * 1000;
      const repository = `race/r${round}`;
      const layer = digest(`old layer ${round}`);
      const config = digest(`config ${round}`);
      await pusher.commitBlob(repository, layer, 100, t0);
      await pusher.commitBlob(repository, config, 10, t0 + 8);
      const put = () =>
        pusher.putManifest(
          { repository, digest: digest(`m ${round}`), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 200, artifactType: null, subject: null, annotations: null, blobRefs: [config, layer], manifestRefs: [], tag: 'latest' },
          t0 + 10,
        );
      // the cutoff is after the layer's last touch and before the config's: only the layer is at stake
      const sweep = () => collector.collectUnreferenced(t0 + 5);
      let result: Awaited<ReturnType<typeof put>>;
      let collected: string[];
      if (order === 'sweep-first') {
        collected = await sweep();
        result = await put();
      } else if (order === 'put-first') {
        result = await put();
        collected = await sweep();
      } else if (round % 2) {
        [result, collected] = await Promise.all([put(), sweep()]);
      } else {
        [collected, result] = await Promise.all([sweep(), put()]);
      }
      if (order !== 'race') assert.equal(result.ok, order === 'put-first', `round ${round} (${order})`);
      if (result.ok) {
        accepted++;
        assert.deepEqual(collected, [], `round ${round}: collected ${collected.join()} yet the manifest was accepted`);
        assert.equal((await pusher.linkedBlob(repository, layer))?.touchedAt, t0 + 10, `round ${round}`);
        assert.equal((await pusher.getManifest(repository, digest(`m ${round}`)))?.digest, digest(`m ${round}`));
      } else {
        refused++;
        assert.deepEqual(result.missing, [layer], `round ${round}`);
        assert.deepEqual(collected, [layer], `round ${round}`);
        assert.equal(await pusher.getBlob(layer), undefined, `round ${round}`);
        assert.equal(await pusher.getManifest(repository, digest(`m ${round}`)), undefined, `round ${round}`);
        assert.equal(await pusher.resolveTag(repository, 'latest'), undefined, `round ${round}`);
        assert.equal((await pusher.getBlob(config))?.touchedAt, t0 + 8, `round ${round}: a refused manifest touched nothing`);
        // leave no collectable blob behind for the next round's sweep
        assert.deepEqual(await collector.collectUnreferenced(t0 + 9), [config], `round ${round}`);
      }
    };
    for (let round = 0; round < 40; round++) await playRound(round, 'race');
    await playRound(40, 'sweep-first');
    await playRound(41, 'put-first');
    // both branches above were checked, by the ordered rounds at least
    assert.ok(accepted > 0 && refused > 0, `accepted ${accepted}, refused ${refused}`);
  });
}
