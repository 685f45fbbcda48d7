// The secret box (AES-256-GCM under the node key, the tenant/secret/version as associated data) and the
// node key file: a sealed value opens only with the same key and the same AAD; a flipped bit, a value
// moved to another secret, version or tenant, or another key is refused (SECRET_UNREADABLE), never
// opened into something else. The node key is made once, 0600, and read back the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, readFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../src/core/secret-box.ts';
import { secretAad } from '../../src/core/secrets.ts';
import { loadNodeKey, NODE_KEY_FILE } from '../../src/daemon/node-key.ts';

const unreadable = (err: Error & { code?: string }) => err.code === 'SECRET_UNREADABLE' && !err.message.includes('hunter2');

test('sealed values open with the same key and AAD only; tampering is refused', () => {
  const box = new SecretBox(randomBytes(32));
  const aad = secretAad('acme', 'db', 3);
  const plain = Buffer.from(JSON.stringify({ password: 'hunter2' }));
  const sealed = box.seal(aad, plain);
  assert.ok(!Buffer.from(sealed, 'base64').includes(Buffer.from('hunter2')), 'the value is not in the sealed bytes');
  assert.notEqual(box.seal(aad, plain), sealed, 'a fresh nonce per seal');
  assert.deepEqual(box.open(aad, sealed, 'v3'), plain);

  const bytes = Buffer.from(sealed, 'base64');
  for (const at of [0, 1, 13, bytes.length - 20, bytes.length - 1]) {
    const flipped = Buffer.from(bytes);
    flipped[at]! ^= 0x01;
    assert.throws(() => box.open(aad, flipped.toString('base64'), 'v3'), unreadable, `a flipped bit at ${at}`);
  }
  assert.throws(() => box.open(aad, bytes.subarray(0, 20).toString('base64'), 'v3'), unreadable, 'truncated');
  assert.throws(() => box.open(secretAad('acme', 'db', 2), sealed, 'v2'), unreadable, 'moved to another version');
  assert.throws(() => box.open(secretAad('acme', 'api', 3), sealed, 'api'), unreadable, 'moved to another secret');
  assert.throws(() => box.open(secretAad('other', 'db', 3), sealed, 'other'), unreadable, 'moved to another tenant');
  const other = new SecretBox(randomBytes(32));
  assert.throws(() => other.open(aad, sealed, 'v3'), unreadable, 'another key');
  assert.throws(() => other.open(aad, sealed, 'v3', box.keyId), (err: Error & { code?: string }) => err.code === 'SECRET_UNREADABLE' && /sealed with another node key/.test(err.message), 'a known other key is named');
  assert.throws(() => new SecretBox(randomBytes(16)), /32 bytes/);
});

test('the node key is made once, 0600, and read back the same', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-nodekey-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const [a, b] = await Promise.all([loadNodeKey(dir), loadNodeKey(dir)]);
  assert.equal(a.length, 32);
  assert.deepEqual(a, b, 'two racing first uses agree on one key');
  const file = path.join(dir, NODE_KEY_FILE);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(readFileSync(file), a);
  chmodSync(file, 0o644);
  assert.deepEqual(await loadNodeKey(dir), a);
  assert.equal(statSync(file).mode & 0o777, 0o600, 'a key left readable by others is made 0600 again');
});
