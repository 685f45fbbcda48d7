// runtime/runc/log-archive: the output of a service's deleted instances, kept so `skiff logs` still
// shows what an instance printed after it scaled to zero, crashed or was replaced. An instance's log
// directory (log-file.ts format, rotated by size while it ran) is moved here whole when it is deleted
// — a rename on the data dir's filesystem, no copy — with a note of its revision and end:
//   <dir>/<group>/<instance id>/output.log[.1..N]
//   <dir>/<group>/<instance id>/ended.json      { "revision": "web-00003", "endedAt": 1733… }
// A group is a service (of a revision's instances) or a log group an instance was created with
// (InstanceSpec.logGroup: `job.<name>` for a job's task attempts, which no service name can be).
// Bounded per group (pruned at each keep): the newest KEEP_INSTANCES instances, KEEP_BYTES in all,
// none older than KEEP_MS. One-off runs (`skiff run`) are not kept: their output went to the caller.
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import type { LogLine, PastInstance } from '../../core/instance.ts';
import { readLogLines } from './log-file.ts';
import { revisionOfInstance } from '../../core/names.ts';
import { SkiffError } from '../../core/errors.ts';

const KEEP_INSTANCES = 50;
const KEEP_BYTES = 64 * 1024 ** 2;
const KEEP_MS = 7 * 24 * 3600_000;
const ENDED = 'ended.json';
/** a group is one directory name: a service (DNS label) or a log group such as `job.<name>` */
const GROUP_RE = /^[a-z0-9][a-z0-9.-]{0,127}$/;

export function isLogGroup(group: string): boolean {
  return GROUP_RE.test(group);
}

function assertGroup(group: string): string {
  if (!isLogGroup(group)) throw new SkiffError('BAD_REQUEST', `invalid log group ${JSON.stringify(group.slice(0, 80))}`);
  return group;
}


/** `<service>-<5+ digits>` → the service (revision names, core/names.ts revisionName). */
export function serviceOfRevision(revision: string): string {
  return revision.replace(/-\d{5,}$/, '');
}

export class LogArchive {
  constructor(
    private readonly dir: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Where an instance of `group` keeps its logs once deleted (the parent exists after this). */
  async destination(id: string, group: string): Promise<string> {
    const dir = path.join(this.dir, assertGroup(group));
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    return path.join(dir, id);
  }

  /** Records that `id`'s logs were moved to destination(): its revision ('' for none) and end; prunes the group. */
  async kept(id: string, group: string, revision: string): Promise<void> {
    const dir = path.join(this.dir, assertGroup(group), id);
    await fsp.writeFile(path.join(dir, ENDED), JSON.stringify({ revision, endedAt: this.now() })).catch(() => undefined);
    await this.prune(group);
  }

  /** The kept instances of `service`, oldest first. */
  async past(service: string): Promise<PastInstance[]> {
    const dir = path.join(this.dir, service);
    const ids = await fsp.readdir(dir).catch(() => [] as string[]);
    const found = await Promise.all(
      ids.map(async (id) => {
        try {
          const e = JSON.parse(await fsp.readFile(path.join(dir, id, ENDED), 'utf8')) as { revision: string; endedAt: number };
          return [{ id, revision: e.revision, endedAt: e.endedAt }];
        } catch {
          return []; // being moved in, or half gone: not listed
        }
      }),
    );
    return found.flat().sort((a, b) => a.endedAt - b.endedAt || a.id.localeCompare(b.id));
  }

  /** A kept instance's lines (with `tail`, the last ones); none when it is not kept. */
  async *logs(id: string, tail?: number): AsyncGenerator<LogLine> {
    const dir = await this.locate(id);
    if (dir) yield* readLogLines(dir, tail);
  }

  /** A kept instance's directory: under the service its id names (`<service>-<gen>-<hex>`), else found
   *  by a look through the services (ids are unique across them). */
  private async locate(id: string): Promise<string | undefined> {
    const guess = path.join(this.dir, serviceOfRevision(revisionOfInstance(id)), id);
    if (existsSync(guess)) return guess;
    for (const service of await fsp.readdir(this.dir).catch(() => [] as string[])) {
      const dir = path.join(this.dir, service, id);
      if (existsSync(dir)) return dir;
    }
    return undefined;
  }

  /** Everything kept of `service` (deleting the service deletes its logs). */
  async forget(service: string): Promise<void> {
    if (!isLogGroup(service)) return;
    await fsp.rm(path.join(this.dir, service), { recursive: true, force: true });
  }

  private async prune(service: string): Promise<void> {
    const dir = path.join(this.dir, service);
    const newestFirst = (await this.past(service)).reverse();
    const cutoff = this.now() - KEEP_MS;
    let bytes = 0;
    for (const [i, p] of newestFirst.entries()) {
      const files = await fsp.readdir(path.join(dir, p.id)).catch(() => [] as string[]);
      for (const f of files) bytes += (await fsp.stat(path.join(dir, p.id, f)).catch(() => undefined))?.size ?? 0;
      if (i >= KEEP_INSTANCES || bytes > KEEP_BYTES || p.endedAt < cutoff) await fsp.rm(path.join(dir, p.id), { recursive: true, force: true });
    }
  }
}
