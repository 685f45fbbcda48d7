// The hostile-layer corpus (hostile-cases.ts) against the real unpacker. Every case runs in a fresh
// cache at <sandbox>/x/dest/c<N>, beside sentinels at <sandbox>/x/dest-evil and <sandbox>/outside.txt;
// after each case a snapshot of everything outside the cache must be byte-for-byte unchanged, and a
// rejected layer must leave nothing visible in the cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SkiffError } from '../../src/core/errors.ts';
import { LayerCache } from '../../src/images/layer-cache.ts';
import { hostileCases } from './hostile-cases.ts';
import { gzip, MemoryBlobs, removeTree, snapshot, tarOf, zstd } from './fixtures.ts';

const isRoot = process.getuid?.() === 0;
const isCI = process.env.CI === 'true';

test('hostile layers are rejected or neutralised without touching anything outside the layer', async (t) => {
  const sandbox = mkdtempSync(path.join(tmpdir(), 'skiff-hostile-'));
  t.after(() => removeTree(sandbox));
  const evil = path.join(sandbox, 'x', 'dest-evil');
  const outside = path.join(sandbox, 'outside.txt');
  const cacheParent = path.join(sandbox, 'x', 'dest');
  mkdirSync(path.join(evil, 'dir'), { recursive: true });
  mkdirSync(cacheParent);
  writeFileSync(path.join(evil, 'secret'), 'secret');
  writeFileSync(outside, 'outside');
  symlinkSync(outside, path.join(evil, 'link-to-outside'));
  const before = snapshot(sandbox, [cacheParent]);

  const cases = hostileCases(evil, outside);
  assert.ok(cases.length >= 40, `corpus has ${cases.length} cases`);
  for (const [i, c] of cases.entries()) {
    const skip = c.needsRoot && !isRoot && !isCI ? 'creates an overlay whiteout: needs root' : undefined;
    await t.test(c.name, { skip }, async () => {
      const raw = c.blob ? await c.blob() : await tarOf(c.entries ?? []);
      const blob = c.compress === 'gzip' ? gzip(raw) : c.compress === 'zstd' ? zstd(raw) : raw;
      const blobs = new MemoryBlobs();
      const digest = blobs.add(blob);
      const dir = path.join(cacheParent, `c${i}`);
      const cache = new LayerCache({ dir, blobs, budgets: c.budgets });
      await cache.init();
      if ('code' in c.expect) {
        const { code, message } = c.expect;
        await assert.rejects(cache.ensureLayer(digest), (err: unknown) => {
          assert.ok(err instanceof SkiffError, `not a SkiffError: ${String(err)}`);
          assert.equal(err.code, code, err.message);
          assert.match(err.message, message);
          return true;
        });
        assert.deepEqual(readdirSync(dir), [], 'a rejected layer leaves nothing in the cache');
        assert.equal(await cache.get(digest), undefined);
      } else {
        const layer = await cache.ensureLayer(digest);
        c.expect.check(layer.path, layer);
      }
      assert.deepEqual(snapshot(sandbox, [cacheParent]), before, 'something outside the layer directory changed');
      removeTree(dir);
    });
  }
});
