// daemon/node-key: the node key that seals secret values (core/secret-box.ts), <data-dir>/secrets.key:
// 32 random bytes, mode 0600, made on first use (the first `secret set`, or the first instance that
// needs a secret) and never rewritten. Losing it loses every secret sealed with it; a daemon sharing a
// PostgreSQL store with others needs the same file (docs/secrets.md).
import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { SkiffError } from '../core/errors.ts';
import { fsyncDir } from '../core/fsutil.ts';
import { NODE_KEY_BYTES, SecretBox } from '../core/secret-box.ts';

export const NODE_KEY_FILE = 'secrets.key';

async function readKey(file: string): Promise<Buffer> {
  const key = await fsp.readFile(file);
  if (key.length !== NODE_KEY_BYTES) throw new SkiffError('CONFIG_INVALID', `${file}: a node key is ${NODE_KEY_BYTES} bytes, this file has ${key.length}`);
  // whoever made it, it is readable by root only
  if (((await fsp.stat(file)).mode & 0o077) !== 0) await fsp.chmod(file, 0o600);
  return key;
}

/** Reads the key, or creates it (O_EXCL: two daemons starting on one data dir agree on one key). */
export async function loadNodeKey(dataDir: string): Promise<Buffer> {
  const file = path.join(dataDir, NODE_KEY_FILE);
  try {
    return await readKey(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await fsp.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(NODE_KEY_BYTES);
  // written whole under a temporary name, then linked into place: link fails if another daemon won the
  // race, and nobody ever reads a half-written key
  const tmp = path.join(dataDir, `.${NODE_KEY_FILE}-${randomBytes(6).toString('hex')}`);
  const fh = await fsp.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await fh.writeFile(key);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fsp.link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return readKey(file);
  } finally {
    await fsp.rm(tmp, { force: true });
  }
  await fsyncDir(dataDir);
  return key;
}

/** The cipher over the node key, loaded on first call and kept. */
export function nodeKeyCipher(dataDir: string): () => Promise<SecretBox> {
  let box: Promise<SecretBox> | undefined;
  return () => {
    box ??= loadNodeKey(dataDir).then((k) => new SecretBox(k));
    box.catch(() => (box = undefined));
    return box;
  };
}
