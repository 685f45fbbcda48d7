// serving/volumes: persistent volumes as users manage them — create, list, describe, remove, export,
// import — and the rules a deploy must keep with them (assertVolumes): a tenant sees and uses only its
// own volumes; a read-write volume on a service that may run more than one instance must be shared;
// a volume any revision of any service names cannot be removed. The records are the store's, the
// data the node's (VolumeHostPort: runtime/volumes on this machine).
import type { Readable } from 'node:stream';
import type { Clock } from '../core/clock.ts';
import { SkiffError } from '../core/errors.ts';
import { parseMemory } from '../core/quantity.ts';
import type { ScaleBounds, ServiceSpec } from '../core/service.ts';
import { assertVolumeName, DEFAULT_VOLUME_BYTES, MAX_VOLUME_BYTES, MIN_VOLUME_BYTES, type VolumeCreateBody, type VolumeRecord } from '../core/volumes.ts';
import type { VolumeView } from '../core/views.ts';
import type { ServingRecords, VolumeHostPort, VolumeRecords } from './ports.ts';

export interface VolumeServiceDeps {
  records: VolumeRecords;
  /** which revisions name a volume (the in-use check) */
  serving: Pick<ServingRecords, 'allRevisions' | 'getService'>;
  host: VolumeHostPort;
  clock: Clock;
}

const mib = (n: number) => `${Math.round(n / 1024 ** 2)} MiB`;

export class VolumeService {
  constructor(private readonly d: VolumeServiceDeps) {}

  async create(tenant: string, req: VolumeCreateBody): Promise<VolumeView> {
    const name = assertVolumeName(req.name);
    const sizeBytes = req.size !== undefined ? parseMemory(req.size, 'size') : DEFAULT_VOLUME_BYTES;
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes < MIN_VOLUME_BYTES || sizeBytes > MAX_VOLUME_BYTES) {
      throw new SkiffError('BAD_REQUEST', `size: between ${mib(MIN_VOLUME_BYTES)} and 16 TiB, got ${sizeBytes} bytes`);
    }
    const record: VolumeRecord = { name, tenant, sizeBytes, shared: req.shared ?? false, createdAt: this.d.clock.now() };
    // the row first: a name taken (by any tenant) is CONFLICT before anything is made on the node
    await this.d.records.createVolume(record);
    try {
      await this.d.host.create(name, sizeBytes);
    } catch (err) {
      await this.d.records.deleteVolume(name);
      throw err;
    }
    return this.view(record, []);
  }

  async list(tenant: string): Promise<VolumeView[]> {
    const [volumes, users] = await Promise.all([this.d.records.listVolumes(tenant), this.users()]);
    return Promise.all(volumes.map((v) => this.view(v, users.get(v.name) ?? [])));
  }

  async get(tenant: string, name: string): Promise<VolumeView> {
    const v = await this.volume(tenant, name);
    return this.view(v, (await this.users()).get(v.name) ?? []);
  }

  /** Refused (CONFLICT, naming them) while any revision of any service names the volume. */
  async remove(tenant: string, name: string): Promise<void> {
    const v = await this.volume(tenant, name);
    const services = (await this.users()).get(v.name) ?? [];
    if (services.length > 0) {
      throw new SkiffError('CONFLICT', `volume ${name} is in use by ${services.length === 1 ? 'service' : 'services'} ${services.join(', ')}: delete ${services.length === 1 ? 'it' : 'them'} first (skiff rm SERVICE; every revision counts, not only the serving one)`);
    }
    await this.d.host.remove(name);
    await this.d.records.deleteVolume(name);
  }

  async export(tenant: string, name: string): Promise<Readable> {
    await this.volume(tenant, name);
    return this.d.host.export(name);
  }

  async import(tenant: string, name: string, tar: Readable): Promise<{ volume: string; entries: number; dropped: string[] }> {
    await this.volume(tenant, name);
    const r = await this.d.host.import(name, tar);
    return { volume: name, ...r };
  }

  /** Mounts the node has not (after a reboot): every volume's filesystem (daemon start). */
  async restore(): Promise<void> {
    await this.d.host.restore((await this.d.records.listVolumes()).map((v) => v.name));
  }

  /**
   * A deploy's volumes: each one the tenant's (NOT_FOUND naming the field otherwise, nothing stored),
   * each path once, and a read-write volume on a service that may have more than one instance only
   * when the volume is shared.
   */
  async assertVolumes(tenant: string, spec: Pick<ServiceSpec, 'name' | 'volumes'>, scale: ScaleBounds): Promise<void> {
    const paths = new Set<string>();
    for (const [i, m] of (spec.volumes ?? []).entries()) {
      const field = `volumes[${i}]`;
      if (paths.has(m.path)) throw new SkiffError('BAD_REQUEST', `${field}.path: ${m.path} is mounted twice`);
      paths.add(m.path);
      const v = await this.d.records.getVolume(m.volume);
      if (!v || v.tenant !== tenant) throw new SkiffError('NOT_FOUND', `${field}.volume: no volume named ${m.volume} (create it first: skiff volume create ${m.volume})`);
      if (!m.readOnly && !v.shared && scale.max > 1) {
        throw new SkiffError('BAD_REQUEST', `${field}: volume ${m.volume} is mounted read-write and ${spec.name} may run ${scale.max} instances (max ${scale.max}); a read-write volume on more than one instance must be created --shared (skiff volume create ${m.volume} --shared), or mount it :ro, or set --max 1`);
      }
    }
  }

  private async volume(tenant: string, name: string): Promise<VolumeRecord> {
    const v = await this.d.records.getVolume(name);
    // another tenant's volume is not there, as far as this tenant can tell
    if (!v || v.tenant !== tenant) throw new SkiffError('NOT_FOUND', `no volume named ${name}`);
    return v;
  }

  /** volume name → the services any of whose revisions name it, by name */
  private async users(): Promise<Map<string, string[]>> {
    const users = new Map<string, Set<string>>();
    for (const r of await this.d.serving.allRevisions()) {
      for (const m of r.spec.volumes ?? []) {
        let set = users.get(m.volume);
        if (!set) users.set(m.volume, (set = new Set()));
        set.add(r.service);
      }
    }
    return new Map([...users].map(([k, v]) => [k, [...v].sort()]));
  }

  private async view(v: VolumeRecord, usedBy: string[]): Promise<VolumeView> {
    const usage = await this.d.host.usage(v.name).catch(() => undefined);
    return {
      name: v.name,
      sizeBytes: v.sizeBytes,
      shared: v.shared,
      createdAt: new Date(v.createdAt).toISOString(),
      usedBy,
      ...(usage ? { usedBytes: usage.usedBytes, mounted: usage.mounted } : {}),
    };
  }
}
