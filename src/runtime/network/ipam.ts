// runtime/network/ipam: reserves instance addresses across processes and daemon restarts, the way CNI's
// host-local plugin does: one file per address, created with O_EXCL, holding the owning instance id.
//   <dir>/<ip>   contents: instance id
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../../core/errors.ts';
import { nextFreeIp, type Subnet } from './allocator.ts';

export class Ipam {
  constructor(private readonly dir: string, private readonly subnet: Subnet) {}

  async reserve(owner: string): Promise<string> {
    await fsp.mkdir(this.dir, { recursive: true });
    for (;;) {
      const used = new Set(await fsp.readdir(this.dir));
      // a random starting point keeps concurrent reservers from racing for the same address
      const ip = nextFreeIp(this.subnet, used, Math.floor(Math.random() * 2 ** (32 - this.subnet.prefix)));
      if (ip === undefined) throw new SkiffError('UNAVAILABLE', 'instance subnet is full');
      try {
        await fsp.writeFile(path.join(this.dir, ip), owner, { flag: 'wx' });
        return ip;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  }

  /** The address `owner` holds, if any. */
  async addressOf(owner: string): Promise<string | undefined> {
    return (await this.heldBy(owner))[0];
  }

  /** Frees every address held by `owner` (normally one). */
  async release(owner: string): Promise<void> {
    for (const ip of await this.heldBy(owner)) await fsp.rm(path.join(this.dir, ip), { force: true });
  }

  private async heldBy(owner: string): Promise<string[]> {
    const names = await fsp.readdir(this.dir).catch(() => [] as string[]);
    const held: string[] = [];
    for (const ip of names) if ((await fsp.readFile(path.join(this.dir, ip), 'utf8').catch(() => '')) === owner) held.push(ip);
    return held;
  }

}
