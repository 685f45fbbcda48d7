// store/volumes-repository: volumes' records on either dialect (core/volumes.ts). Names are global,
// each owned by one tenant; `shared` is 0/1.
import { SkiffError } from '../core/errors.ts';
import type { VolumesRepository } from '../core/repositories.ts';
import type { VolumeRecord } from '../core/volumes.ts';
import type { Db, VolumesTable } from './database.ts';
import { isUniqueViolation } from './token-repository.ts';

function toVolume(r: VolumesTable): VolumeRecord {
  return { name: r.name, tenant: r.tenant, sizeBytes: Number(r.size_bytes), shared: Number(r.shared) === 1, createdAt: Number(r.created_at) };
}

export class KyselyVolumesRepository implements VolumesRepository {
  constructor(private readonly db: Db) {}

  async createVolume(v: VolumeRecord): Promise<void> {
    try {
      await this.db.insertInto('volumes').values({ name: v.name, tenant: v.tenant, size_bytes: v.sizeBytes, shared: v.shared ? 1 : 0, created_at: v.createdAt }).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new SkiffError('CONFLICT', `a volume named ${v.name} exists`);
      throw err;
    }
  }

  async getVolume(name: string): Promise<VolumeRecord | undefined> {
    const r = await this.db.selectFrom('volumes').selectAll().where('name', '=', name).executeTakeFirst();
    return r ? toVolume(r) : undefined;
  }

  async listVolumes(tenant?: string): Promise<VolumeRecord[]> {
    let q = this.db.selectFrom('volumes').selectAll();
    if (tenant !== undefined) q = q.where('tenant', '=', tenant);
    return (await q.orderBy('name').execute()).map(toVolume);
  }

  async deleteVolume(name: string): Promise<boolean> {
    const r = await this.db.deleteFrom('volumes').where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
