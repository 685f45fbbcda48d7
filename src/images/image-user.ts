// images/image-user: resolves an image's USER (`name`, `uid`, `uid:gid`, `name:group`, …) to numeric ids
// with the image's own /etc/passwd and /etc/group, read through its mounted rootfs — runc's rules
// (libcontainer/user.GetExecUser): a named user without a group gets the passwd gid plus every group
// listing it as a member; an explicit group gets only that gid; an unknown numeric uid gets gid 0.
//
// The rootfs is the image author's: /etc/passwd may be a symlink to a host path. Reading happens on the
// host, so symlinks are never followed (a symlinked file counts as absent) and files are size-capped.
import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../core/errors.ts';

export interface ImageUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** from passwd, for $HOME; '/' when the user has no entry */
  home: string;
}

const MAX_FILE = 1024 * 1024;
const MAX_ID = 2 ** 31 - 1;

/** Reads root/rel without following any symlink on the way; undefined when absent, a symlink, or not a file. */
async function readInRoot(root: string, rel: string): Promise<string | undefined> {
  const parts = rel.split('/');
  for (let i = 1; i < parts.length; i++) {
    const st = await fsp.lstat(path.join(root, ...parts.slice(0, i))).catch(() => undefined);
    if (!st?.isDirectory()) return undefined;
  }
  const fh = await fsp.open(path.join(root, rel), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
  if (!fh) return undefined;
  try {
    const st = await fh.stat();
    if (!st.isFile()) return undefined;
    const buf = Buffer.alloc(Math.min(st.size, MAX_FILE));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}

interface Entry { name: string; id: number; gid: number; home: string; members: string[] }

// passwd: name:pw:uid:gid:gecos:home:shell; group: name:pw:gid:member,member
function parseDb(text: string | undefined, kind: 'passwd' | 'group'): Entry[] {
  return (text ?? '').split('\n').flatMap((line) => {
    const f = line.trim().split(':');
    if (line.startsWith('#') || f.length < (kind === 'passwd' ? 4 : 3)) return [];
    const id = Number(f[2]);
    if (!Number.isInteger(id) || id < 0) return [];
    return kind === 'passwd'
      ? [{ name: f[0]!, id, gid: Number(f[3]) || 0, home: f[5] || '/', members: [] }]
      : [{ name: f[0]!, id, gid: id, home: '', members: (f[3] ?? '').split(',').filter(Boolean) }];
  });
}

const numeric = (s: string) => (/^\d+$/.test(s) ? Number(s) : undefined);

function lookup(db: Entry[], spec: string, what: string, user: string): Entry | number {
  const n = numeric(spec);
  if (n !== undefined) {
    if (n > MAX_ID) throw new SkiffError('IMAGE_INVALID', `USER ${JSON.stringify(user)}: ${what} ${n} is out of range`);
    return db.find((e) => e.id === n) ?? n;
  }
  const hit = db.find((e) => e.name === spec);
  if (!hit) throw new SkiffError('IMAGE_INVALID', `USER ${JSON.stringify(user)}: no ${what} named ${JSON.stringify(spec)} in the image's /etc/${what === 'user' ? 'passwd' : 'group'}`);
  return hit;
}

/** Resolves `user` (empty = root) against the image mounted at `rootfs`. */
export async function resolveImageUser(rootfs: string, user: string): Promise<ImageUser> {
  const [userPart = '', groupPart, ...extra] = user.split(':');
  if (userPart === '' || extra.length > 0 || groupPart === '') {
    if (user === '') return { uid: 0, gid: 0, additionalGids: [], home: '/root' };
    throw new SkiffError('IMAGE_INVALID', `USER ${JSON.stringify(user)} is not user[:group]`);
  }
  const passwd = parseDb(await readInRoot(rootfs, 'etc/passwd'), 'passwd');
  const u = lookup(passwd, userPart, 'user', user);
  const uid = typeof u === 'number' ? u : u.id;
  const home = typeof u === 'number' ? '/' : u.home;
  const groups = parseDb(await readInRoot(rootfs, 'etc/group'), 'group');
  if (groupPart !== undefined) {
    const g = lookup(groups, groupPart, 'group', user);
    return { uid, gid: typeof g === 'number' ? g : g.id, additionalGids: [], home };
  }
  if (typeof u === 'number') return { uid, gid: 0, additionalGids: [], home };
  const additionalGids = [...new Set(groups.filter((g) => g.members.includes(u.name) && g.id !== u.gid).map((g) => g.id))];
  return { uid, gid: u.gid, additionalGids, home };
}
