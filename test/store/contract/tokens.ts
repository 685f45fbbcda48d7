// test/store/contract/tokens: TokenRepository on one dialect: secrets, hashes, the verify cache and
// how soon a revoke made by another process (another store on the same database) takes effect.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { FakeClock } from '../../../src/core/clock.ts';
import { openDatabase } from '../../../src/store/open.ts';
import { TOKEN_CACHE_TTL_MS } from '../../../src/store/token-repository.ts';
import { open, sha256hex, type StoreTarget } from '../fixtures.ts';

export function tokensContract(target: StoreTarget): void {
  test('tokens: create returns a secret once; only its sha256 is stored; verify; list without hashes', async (t) => {
    const o = await target.fresh(t);
    const { tokens } = await open(t, o);
    const a = await tokens.create('ci', 'acme', 'push', 1000);
    const b = await tokens.create('admin', 'root', 'admin', 2000);
    assert.match(a.secret, /^skf_[A-Za-z0-9_-]{32}$/);
    assert.notEqual(a.secret, b.secret);
    assert.notEqual(a.id, b.id);
    assert.deepEqual(await tokens.verify(a.secret), { tokenId: a.id, name: 'ci', tenant: 'acme', role: 'push' });
    assert.deepEqual(await tokens.verify(b.secret), { tokenId: b.id, name: 'admin', tenant: 'root', role: 'admin' });
    assert.equal(await tokens.verify(a.secret + 'x'), undefined);
    assert.equal(await tokens.verify(''), undefined);
    assert.deepEqual(await tokens.list(), [
      { id: a.id, name: 'ci', tenant: 'acme', role: 'push', createdAt: 1000 },
      { id: b.id, name: 'admin', tenant: 'root', role: 'admin', createdAt: 2000 },
    ]);

    const raw = await openDatabase(o);
    t.after(() => raw.db.destroy());
    const rows = await sql<Record<string, unknown>>`SELECT * FROM tokens ORDER BY created_at`.execute(raw.db);
    assert.deepEqual(rows.rows.map((r) => r.hash), [sha256hex(a.secret), sha256hex(b.secret)]);
    assert.ok(!JSON.stringify(rows.rows).includes(a.secret.slice(4)), 'the secret itself is stored nowhere');
  });

  test('tokens: revoke takes effect at once in the revoking store, even for a cached secret', async (t) => {
    const { tokens } = await open(t, await target.fresh(t));
    const a = await tokens.create('ci', 'acme', 'pull', 1000);
    const b = await tokens.create('other', 'acme', 'pull', 1000);
    assert.equal((await tokens.verify(a.secret))?.tokenId, a.id);
    assert.equal(await tokens.revoke(a.id), true);
    assert.equal(await tokens.revoke(a.id), false);
    assert.equal(await tokens.verify(a.secret), undefined);
    assert.equal((await tokens.verify(b.secret))?.tokenId, b.id);
    assert.deepEqual((await tokens.list()).map((x) => x.id), [b.id]);
  });

  test('tokens: another store sharing the database sees a revoke within the cache TTL, and a new token at once', async (t) => {
    const o = await target.fresh(t);
    const writer = await open(t, o);
    const clock = new FakeClock(1_000_000);
    const reader = await open(t, { ...o, clock });
    const a = await writer.tokens.create('ci', 'acme', 'push', 1000);
    // an unknown secret is cached as unknown, but a newly created one is a different secret
    assert.equal(await reader.tokens.verify('skf_unknown'), undefined);
    assert.equal((await reader.tokens.verify(a.secret))?.tokenId, a.id);
    assert.equal(await writer.tokens.revoke(a.id), true);
    // answered from the reader's cache: the revoke is not visible yet...
    await clock.advance(TOKEN_CACHE_TTL_MS - 1);
    assert.equal((await reader.tokens.verify(a.secret))?.tokenId, a.id);
    // ...and is once the entry has expired
    await clock.advance(1);
    assert.equal(await reader.tokens.verify(a.secret), undefined);
    assert.equal(TOKEN_CACHE_TTL_MS, 10_000);
  });
}
