// core/free-space: the free-space floor of the data directory's filesystem. Below it Skiff refuses
// what would write more there — blob uploads, new instances, layer unpacks — with a clear error,
// instead of filling the disk under the store (SQLite's writes would fail next) and the registry.
import { promises as fsp } from 'node:fs';
import { SkiffError } from './errors.ts';

export interface FreeSpaceCheck {
  /** Throws INSUFFICIENT_STORAGE naming `what` when the filesystem has less free space than the floor. */
  assert(what: string): Promise<void>;
}

const mib = (n: number) => `${Math.floor(n / 1024 ** 2)} MiB`;

/** The floor for `dir`'s filesystem; 0 turns it off. (statfs: a few µs, so no cache.) */
export function freeSpaceFloor(dir: string, minFreeBytes: number): FreeSpaceCheck {
  return {
    async assert(what) {
      if (minFreeBytes <= 0) return;
      const s = await fsp.statfs(dir);
      const free = s.bavail * s.bsize; // what an unprivileged writer may still use
      if (free < minFreeBytes) {
        throw new SkiffError('INSUFFICIENT_STORAGE', `${what} refused: ${dir} has ${mib(free)} free, below the floor of ${mib(minFreeBytes)} (setting minFreeBytes)`);
      }
    },
  };
}
