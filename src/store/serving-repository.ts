// store/serving-repository: the desired state of serving on either dialect: services (latest spec,
// scale bounds, traffic), their immutable revisions, the instances the scheduler runs (re-adoption
// after a restart), service events and saved keep-alive state. List views are one query each
// (window function / ordered scan): a list of 500 services must not cost 1000 round trips.
import type { DeployDocument } from '../core/documents.ts';
import type { Selectable } from 'kysely';
import { revisionName } from '../core/names.ts';
import type {
  InstanceRecord,
  PinnedImage,
  RecordedState,
  RevisionRecord,
  ScaleBounds,
  ServiceEvent,
  ServiceRecord,
  ServiceSpec,
  TrafficTarget,
} from '../core/service.ts';
import type { Db, EventsTable, InstancesTable, RevisionsTable, ServicesTable } from './database.ts';
import type { ServingRepository } from './repositories.ts';
import type { Transactor } from './transaction.ts';

const EVENTS_KEPT_PER_SERVICE = 200;

/** The revision with the largest positive share of `traffic` (the first of equals), if any. */
function topRevision(traffic: TrafficTarget[]): string | null {
  let best: TrafficTarget | undefined;
  for (const t of traffic) if (!best || t.percent > best.percent) best = t;
  return best && best.percent > 0 ? best.revision : null;
}

function toService(r: ServicesTable): ServiceRecord {
  return {
    name: r.name,
    tenant: r.tenant,
    spec: JSON.parse(r.spec) as ServiceSpec,
    scale: { min: r.min_scale, max: r.max_scale },
    traffic: JSON.parse(r.traffic) as TrafficTarget[],
    latestRevision: r.latest_revision,
    previousServing: r.previous_serving,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toRevision(r: RevisionsTable): RevisionRecord {
  return {
    name: r.name,
    service: r.service,
    generation: r.generation,
    image: { repository: r.image_repository ?? '', digest: r.image_digest },
    spec: JSON.parse(r.spec) as ServiceSpec,
    ...(r.document ? { document: JSON.parse(r.document) as DeployDocument } : {}),
    createdAt: r.created_at,
  };
}

function toInstance(r: InstancesTable): InstanceRecord {
  return { id: r.id, revision: r.revision, service: r.service, state: r.state as RecordedState, address: r.address, createdAt: r.created_at, updatedAt: r.updated_at };
}

function toEvent(r: Selectable<EventsTable>): ServiceEvent {
  return { id: r.id, service: r.service, revision: r.revision, at: r.at, kind: r.kind, message: r.message };
}

export class KyselyServingRepository implements ServingRepository {
  constructor(
    private readonly db: Db,
    private readonly tx: Transactor,
  ) {}

  async getService(name: string): Promise<ServiceRecord | undefined> {
    const r = await this.db.selectFrom('services').selectAll().where('name', '=', name).executeTakeFirst();
    return r && toService(r);
  }

  async listServices(): Promise<ServiceRecord[]> {
    return (await this.db.selectFrom('services').selectAll().orderBy('name').execute()).map(toService);
  }

  deploy(
    tenant: string,
    spec: ServiceSpec,
    scale: ScaleBounds,
    image: PinnedImage,
    now: number,
    document?: DeployDocument,
    traffic: (old: TrafficTarget[] | undefined, revision: string) => TrafficTarget[] = (_old, revision) => [{ revision, percent: 100 }],
  ): Promise<{ service: ServiceRecord; revision: RevisionRecord }> {
    // The generation is read and bumped in one transaction: concurrent deploys of one service (even
    // a new one) are serialised by it and get consecutive generations. The service row is written
    // before the revision so that two deploys racing on PostgreSQL collide on the row both read (a
    // serialization failure, retried) rather than on the revision's key, which neither read (a
    // unique violation, which is an error).
    return this.tx.write(async (db) => {
      const existing = await db.selectFrom('services').selectAll().where('name', '=', spec.name).executeTakeFirst();
      const generation = (existing?.generation ?? 0) + 1;
      const revision: RevisionRecord = { name: revisionName(spec.name, generation), service: spec.name, generation, image, spec, ...(document ? { document } : {}), createdAt: now };
      const specJson = JSON.stringify(spec);
      const row: ServicesTable = {
        name: spec.name,
        tenant: existing?.tenant ?? tenant,
        spec: specJson,
        traffic: JSON.stringify(traffic(existing ? (JSON.parse(existing.traffic) as TrafficTarget[]) : undefined, revision.name)),
        latest_revision: revision.name,
        previous_serving: existing ? topRevision(JSON.parse(existing.traffic) as TrafficTarget[]) : null,
        generation,
        min_scale: scale.min,
        max_scale: scale.max,
        created_at: existing?.created_at ?? now,
        updated_at: now,
      };
      if (existing) {
        // the tenant is the service's owner from its first deploy; checking the caller is api's job
        const { name, tenant: _tenant, created_at: _created, ...changes } = row;
        await db.updateTable('services').set(changes).where('name', '=', name).execute();
      } else {
        await db.insertInto('services').values(row).execute();
      }
      await db
        .insertInto('revisions')
        .values({
          name: revision.name,
          service: spec.name,
          generation,
          image_ref: spec.image,
          image_repository: image.repository,
          image_digest: image.digest,
          spec: specJson,
          document: document ? JSON.stringify(document) : null,
          created_at: now,
        })
        .execute();
      return { service: toService(row), revision };
    });
  }

  setTraffic(service: string, traffic: TrafficTarget[], now: number): Promise<void> {
    return this.tx.write(async (db) => {
      const old = await db.selectFrom('services').select('traffic').where('name', '=', service).executeTakeFirst();
      if (!old) return;
      await db
        .updateTable('services')
        .set({ traffic: JSON.stringify(traffic), previous_serving: topRevision(JSON.parse(old.traffic) as TrafficTarget[]), updated_at: now })
        .where('name', '=', service)
        .execute();
    });
  }

  async setScale(service: string, scale: ScaleBounds, now: number): Promise<void> {
    await this.db.updateTable('services').set({ min_scale: scale.min, max_scale: scale.max, updated_at: now }).where('name', '=', service).execute();
  }

  deleteService(name: string): Promise<boolean> {
    return this.tx.write(async (db) => {
      await db.deleteFrom('revisions').where('service', '=', name).execute();
      await db.deleteFrom('events').where('service', '=', name).execute();
      await db.deleteFrom('keep_alive').where('service', '=', name).execute();
      const r = await db.deleteFrom('services').where('name', '=', name).executeTakeFirst();
      return r.numDeletedRows > 0n;
    });
  }

  async getRevision(name: string): Promise<RevisionRecord | undefined> {
    const r = await this.db.selectFrom('revisions').selectAll().where('name', '=', name).executeTakeFirst();
    return r && toRevision(r);
  }

  async revisionsOf(service: string): Promise<RevisionRecord[]> {
    return (await this.db.selectFrom('revisions').selectAll().where('service', '=', service).orderBy('generation', 'desc').execute()).map(toRevision);
  }

  async allRevisions(): Promise<RevisionRecord[]> {
    return (await this.db.selectFrom('revisions').selectAll().orderBy('service').orderBy('generation', 'desc').execute()).map(toRevision);
  }

  async putInstance(instance: { id: string; revision: string; service: string; state: RecordedState; address: string | null }, now: number): Promise<void> {
    await this.db
      .insertInto('instances')
      .values({ ...instance, created_at: now, updated_at: now })
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => ({ state: eb.ref('excluded.state'), address: eb.ref('excluded.address'), updated_at: eb.ref('excluded.updated_at') })),
      )
      .execute();
  }

  async deleteInstance(id: string): Promise<void> {
    await this.db.deleteFrom('instances').where('id', '=', id).execute();
  }

  async listInstances(): Promise<InstanceRecord[]> {
    return (await this.db.selectFrom('instances').selectAll().orderBy('created_at').orderBy('id').execute()).map(toInstance);
  }

  addEvent(service: string, revision: string | null, kind: string, message: string, now: number): Promise<void> {
    return this.tx.write(async (db) => {
      await db.insertInto('events').values({ service, revision, at: now, kind, message }).execute();
      // everything at or below the id of the 201st newest event goes
      await db
        .deleteFrom('events')
        .where('service', '=', service)
        .where('id', '<=', (eb) => eb.selectFrom('events').select('id').where('service', '=', service).orderBy('id', 'desc').limit(1).offset(EVENTS_KEPT_PER_SERVICE))
        .execute();
    });
  }

  async events(service: string, limit: number): Promise<ServiceEvent[]> {
    const rows = await this.db.selectFrom('events').selectAll().where('service', '=', service).orderBy('id', 'desc').limit(limit).execute();
    return rows.reverse().map(toEvent);
  }

  async recentEvents(limit: number): Promise<Map<string, ServiceEvent[]>> {
    const rows = await this.db
      .selectFrom((eb) =>
        eb
          .selectFrom('events')
          .selectAll()
          .select((e) => e.fn.agg<number>('row_number').over((o) => o.partitionBy('service').orderBy('id', 'desc')).as('newness'))
          .as('e'),
      )
      .selectAll()
      .where('newness', '<=', limit)
      .orderBy('service')
      .orderBy('id')
      .execute();
    const out = new Map<string, ServiceEvent[]>();
    for (const r of rows) {
      let list = out.get(r.service);
      if (!list) out.set(r.service, (list = []));
      list.push(toEvent(r));
    }
    return out;
  }

  async putKeepAlive(service: string, state: string, now: number): Promise<void> {
    await this.db
      .insertInto('keep_alive')
      .values({ service, state, updated_at: now })
      .onConflict((oc) => oc.column('service').doUpdateSet((eb) => ({ state: eb.ref('excluded.state'), updated_at: eb.ref('excluded.updated_at') })))
      .execute();
  }

  async listKeepAlive(): Promise<Array<{ service: string; state: string }>> {
    return this.db.selectFrom('keep_alive').select(['service', 'state']).orderBy('service').execute();
  }
}
