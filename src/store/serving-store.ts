// store/serving-store: desired state for serving: services (spec, traffic), their immutable
// revisions, the instances the scheduler runs (for re-adoption after a restart) and service events.
import type { Db } from './sqlite.ts';
import type { RevisionRecord, ServiceRecord, ServiceSpec, TrafficTarget } from '../core/service.ts';

interface ServiceRow {
  name: string;
  tenant: string;
  spec: string;
  traffic: string;
  latest_revision: string;
  previous_serving: string | null;
  generation: number;
  created_at: number;
  updated_at: number;
}

interface RevisionRow {
  name: string;
  service: string;
  generation: number;
  image_ref: string;
  image_digest: string;
  spec: string;
  created_at: number;
}

export interface InstanceRow {
  id: string;
  revision: string;
  service: string;
  state: string;
  address: string | null;
  created_at: number;
  updated_at: number;
}

export interface EventRow {
  id: number;
  service: string;
  revision: string | null;
  at: number;
  kind: string;
  message: string;
}

const EVENTS_KEPT_PER_SERVICE = 200;

function topRevision(traffic: TrafficTarget[]): string | null {
  let best: TrafficTarget | undefined;
  for (const t of traffic) if (!best || t.percent > best.percent) best = t;
  return best && best.percent > 0 ? best.revision : null;
}

function toService(r: ServiceRow): ServiceRecord {
  return {
    name: r.name,
    tenant: r.tenant,
    spec: JSON.parse(r.spec) as ServiceSpec,
    traffic: JSON.parse(r.traffic) as TrafficTarget[],
    latestRevision: r.latest_revision,
    previousServing: r.previous_serving,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    deleted: false,
  };
}

function toRevision(r: RevisionRow): RevisionRecord {
  return {
    name: r.name,
    service: r.service,
    generation: r.generation,
    imageRef: r.image_ref,
    imageDigest: r.image_digest,
    spec: JSON.parse(r.spec) as ServiceSpec,
    createdAt: r.created_at,
  };
}

export class ServingStore {
  private readonly s;

  constructor(private readonly db: Db) {
    this.s = {
      getService: db.prepare<[string], ServiceRow>('SELECT * FROM services WHERE name = ?'),
      listServices: db.prepare<[], ServiceRow>('SELECT * FROM services ORDER BY name'),
      insertService: db.prepare(
        `INSERT INTO services (name, tenant, spec, traffic, latest_revision, previous_serving, generation, created_at, updated_at)
         VALUES (@name, @tenant, @spec, @traffic, @latest, @previous, @generation, @now, @now)`,
      ),
      updateService: db.prepare(
        `UPDATE services SET spec = @spec, traffic = @traffic, latest_revision = @latest, previous_serving = @previous, generation = @generation, updated_at = @now WHERE name = @name`,
      ),
      setTraffic: db.prepare('UPDATE services SET traffic = ?, previous_serving = ?, updated_at = ? WHERE name = ?'),
      setSpec: db.prepare('UPDATE services SET spec = ?, updated_at = ? WHERE name = ?'),
      deleteService: db.prepare('DELETE FROM services WHERE name = ?'),
      deleteRevisions: db.prepare('DELETE FROM revisions WHERE service = ?'),
      insertRevision: db.prepare(
        `INSERT INTO revisions (name, service, generation, image_ref, image_digest, spec, created_at)
         VALUES (@name, @service, @generation, @imageRef, @imageDigest, @spec, @createdAt)`,
      ),
      getRevision: db.prepare<[string], RevisionRow>('SELECT * FROM revisions WHERE name = ?'),
      revisionsOf: db.prepare<[string], RevisionRow>('SELECT * FROM revisions WHERE service = ? ORDER BY generation DESC'),
      putInstance: db.prepare(
        `INSERT INTO instances (id, revision, service, state, address, created_at, updated_at) VALUES (@id, @revision, @service, @state, @address, @now, @now)
         ON CONFLICT(id) DO UPDATE SET state = excluded.state, address = excluded.address, updated_at = excluded.updated_at`,
      ),
      deleteInstance: db.prepare('DELETE FROM instances WHERE id = ?'),
      listInstances: db.prepare<[], InstanceRow>('SELECT * FROM instances ORDER BY created_at'),
      addEvent: db.prepare('INSERT INTO events (service, revision, at, kind, message) VALUES (?, ?, ?, ?, ?)'),
      trimEvents: db.prepare('DELETE FROM events WHERE service = ? AND id <= (SELECT id FROM events WHERE service = ? ORDER BY id DESC LIMIT 1 OFFSET ?)'),
      eventsOf: db.prepare<[string, number], EventRow>('SELECT * FROM (SELECT * FROM events WHERE service = ? ORDER BY id DESC LIMIT ?) ORDER BY id'),
      deleteEvents: db.prepare('DELETE FROM events WHERE service = ?'),
      putKeepAlive: db.prepare('INSERT INTO keep_alive (service, state, updated_at) VALUES (?, ?, ?) ON CONFLICT (service) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at'),
      listKeepAlive: db.prepare<[], { service: string; state: string }>('SELECT service, state FROM keep_alive'),
      deleteKeepAlive: db.prepare('DELETE FROM keep_alive WHERE service = ?'),
    };
  }

  getService(name: string): ServiceRecord | undefined {
    const r = this.s.getService.get(name);
    return r ? toService(r) : undefined;
  }

  listServices(): ServiceRecord[] {
    return this.s.listServices.all().map(toService);
  }

  /**
   * Records a deploy: a new immutable revision, and the service pointing at it. Unless the service
   * pins traffic to named revisions, the new revision takes 100 %.
   */
  deploy(tenant: string, spec: ServiceSpec, image: { ref: string; digest: string }, now: number): { service: ServiceRecord; revision: RevisionRecord } {
    return this.db.transaction(() => {
      const existing = this.s.getService.get(spec.name);
      const generation = (existing?.generation ?? 0) + 1;
      const revision: RevisionRecord = {
        name: `${spec.name}-${String(generation).padStart(5, '0')}`,
        service: spec.name,
        generation,
        imageRef: image.ref,
        imageDigest: image.digest,
        spec,
        createdAt: now,
      };
      this.s.insertRevision.run({ ...revision, spec: JSON.stringify(spec) });
      const traffic = JSON.stringify([{ revision: revision.name, percent: 100 }]);
      const previous = existing ? topRevision(JSON.parse(existing.traffic) as TrafficTarget[]) : null;
      const row = { name: spec.name, tenant, spec: JSON.stringify(spec), traffic, latest: revision.name, previous, generation, now };
      if (existing) this.s.updateService.run(row);
      else this.s.insertService.run(row);
      return { service: this.getService(spec.name)!, revision };
    })();
  }

  setTraffic(service: string, traffic: TrafficTarget[], now: number): void {
    const old = this.s.getService.get(service);
    this.s.setTraffic.run(JSON.stringify(traffic), old ? topRevision(JSON.parse(old.traffic) as TrafficTarget[]) : null, now, service);
  }

  /** Updates scaling bounds and similar settings that do not need a new revision. */
  updateSpec(service: string, spec: ServiceSpec, now: number): void {
    this.s.setSpec.run(JSON.stringify(spec), now, service);
  }

  deleteService(name: string): boolean {
    return this.db.transaction(() => {
      this.s.deleteRevisions.run(name);
      this.s.deleteEvents.run(name);
      this.s.deleteKeepAlive.run(name);
      return this.s.deleteService.run(name).changes > 0;
    })();
  }

  getRevision(name: string): RevisionRecord | undefined {
    const r = this.s.getRevision.get(name);
    return r ? toRevision(r) : undefined;
  }

  revisionsOf(service: string): RevisionRecord[] {
    return this.s.revisionsOf.all(service).map(toRevision);
  }

  putInstance(row: Omit<InstanceRow, 'created_at' | 'updated_at'>, now: number): void {
    this.s.putInstance.run({ ...row, now });
  }

  deleteInstance(id: string): void {
    this.s.deleteInstance.run(id);
  }

  listInstances(): InstanceRow[] {
    return this.s.listInstances.all();
  }

  addEvent(service: string, revision: string | null, kind: string, message: string, now: number): void {
    this.s.addEvent.run(service, revision, now, kind, message);
    this.s.trimEvents.run(service, service, EVENTS_KEPT_PER_SERVICE);
  }

  events(service: string, limit = 50): EventRow[] {
    return this.s.eventsOf.all(service, limit);
  }

  /** A service's saved keep-alive state (opaque JSON of the autoscaler's idle-time histogram). */
  putKeepAlive(service: string, state: string, now: number): void {
    this.s.putKeepAlive.run(service, state, now);
  }

  listKeepAlive(): Array<{ service: string; state: string }> {
    return this.s.listKeepAlive.all();
  }
}
