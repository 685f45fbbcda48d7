// runtime/runc/secret-files: where an instance's secrets live on the host — in the instance's own tmpfs
// (images/rootfs.ts `rw/`, the writable layer's), never on persistent disk, and gone with the instance
// (its delete unmounts that tmpfs):
//   <instance dir>/rw/            tmpfs, 0700 root
//     private/                    0700 root: the OCI bundle of an instance with secrets (config.json holds
//                                 the env values), written here by driver.ts instead of under the state root
//       secret-<n>/               0500, owned by the instance's user: bind-mounted read-only at the mount path
//         <key>                   0400, owned by the instance's user: the value
// Not world-readable: only the process's user (and root) can read a file, inside or outside the instance.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../../core/errors.ts';
import type { SecretMaterial } from '../../core/secrets.ts';
import type { ContainerSpec } from './container-runtime.ts';

/** statfs f_type of tmpfs and ramfs */
const MEMORY_FS = new Set([0x01021994, 0x858458f6]);

export async function writeSecretFiles(instanceDir: string, secrets: SecretMaterial, user: { uid: number; gid: number }): Promise<Pick<ContainerSpec, 'privateDir' | 'secretMounts'>> {
  const rw = path.join(instanceDir, 'rw');
  const fs = await fsp.statfs(rw);
  if (!MEMORY_FS.has(Number(fs.type))) throw new SkiffError('INTERNAL', `${rw} is not a tmpfs: secrets are never written to persistent disk`);
  const privateDir = path.join(rw, 'private');
  await fsp.mkdir(privateDir, { mode: 0o700 });
  const secretMounts: NonNullable<ContainerSpec['secretMounts']> = [];
  for (const [n, m] of secrets.mounts.entries()) {
    const dir = path.join(privateDir, `secret-${n}`);
    await fsp.mkdir(dir, { mode: 0o700 });
    for (const [key, value] of Object.entries(m.files)) {
      const file = path.join(dir, key);
      await fsp.writeFile(file, value, { mode: 0o400, flag: 'wx' });
      await fsp.chown(file, user.uid, user.gid);
    }
    await fsp.chown(dir, user.uid, user.gid);
    await fsp.chmod(dir, 0o500);
    secretMounts.push({ destination: m.path, source: dir });
  }
  return { privateDir, ...(secretMounts.length ? { secretMounts } : {}) };
}
