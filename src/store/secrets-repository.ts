// store/secrets-repository: secrets and their versions on either dialect (core/secrets.ts). A version
// is written once and never changed; the secret row holds the latest version number, bumped in the same
// transaction as the version is added, so two concurrent `secret set`s get two versions, never one.
import type { SecretsRepository } from '../core/repositories.ts';
import type { SecretRecord, SecretVersionRecord } from '../core/secrets.ts';
import type { Db, SecretVersionsTable } from './database.ts';
import type { Transactor } from './transaction.ts';

function toVersion(r: Omit<SecretVersionsTable, 'sealed'> & { sealed?: string }): SecretVersionRecord {
  return {
    tenant: r.tenant,
    name: r.name,
    version: Number(r.version),
    keys: JSON.parse(r.keys) as string[],
    sealed: r.sealed ?? '',
    keyId: r.key_id,
    createdAt: Number(r.created_at),
  };
}

export class KyselySecretsRepository implements SecretsRepository {
  constructor(
    private readonly db: Db,
    private readonly tx: Transactor,
  ) {}

  async addVersion(
    tenant: string,
    name: string,
    make: (version: number, latest: SecretVersionRecord | undefined) => Pick<SecretVersionRecord, 'keys' | 'sealed' | 'keyId'>,
    now: number,
  ): Promise<SecretVersionRecord> {
    return this.tx.write(async (tx) => {
      const secret = await tx.selectFrom('secrets').selectAll().where('tenant', '=', tenant).where('name', '=', name).executeTakeFirst();
      const latestRow = secret
        ? await tx.selectFrom('secret_versions').selectAll().where('tenant', '=', tenant).where('name', '=', name).where('version', '=', secret.latest_version).executeTakeFirst()
        : undefined;
      const version = secret ? Number(secret.latest_version) + 1 : 1;
      const made = make(version, latestRow ? toVersion(latestRow) : undefined);
      if (secret) {
        await tx.updateTable('secrets').set({ latest_version: version, updated_at: now }).where('tenant', '=', tenant).where('name', '=', name).execute();
      } else {
        await tx.insertInto('secrets').values({ tenant, name, latest_version: version, created_at: now, updated_at: now }).execute();
      }
      await tx.insertInto('secret_versions').values({ tenant, name, version, keys: JSON.stringify(made.keys), sealed: made.sealed, key_id: made.keyId, created_at: now }).execute();
      return { tenant, name, version, keys: made.keys, sealed: made.sealed, keyId: made.keyId, createdAt: now };
    });
  }

  async getVersion(tenant: string, name: string, version?: number): Promise<SecretVersionRecord | undefined> {
    let v = version;
    if (v === undefined) {
      const secret = await this.db.selectFrom('secrets').select('latest_version').where('tenant', '=', tenant).where('name', '=', name).executeTakeFirst();
      if (!secret) return undefined;
      v = Number(secret.latest_version);
    }
    const r = await this.db.selectFrom('secret_versions').selectAll().where('tenant', '=', tenant).where('name', '=', name).where('version', '=', v).executeTakeFirst();
    return r ? toVersion(r) : undefined;
  }

  async getSecret(tenant: string, name: string): Promise<SecretRecord | undefined> {
    return (await this.records(tenant, name))[0];
  }

  async listSecrets(tenant: string): Promise<SecretRecord[]> {
    return this.records(tenant);
  }

  async versionsOf(tenant: string, name: string): Promise<SecretVersionRecord[]> {
    const rows = await this.db
      .selectFrom('secret_versions')
      .select(['tenant', 'name', 'version', 'keys', 'key_id', 'created_at'])
      .where('tenant', '=', tenant)
      .where('name', '=', name)
      .orderBy('version', 'desc')
      .execute();
    return rows.map(toVersion);
  }

  async deleteSecret(tenant: string, name: string): Promise<boolean> {
    return this.tx.write(async (tx) => {
      await tx.deleteFrom('secret_versions').where('tenant', '=', tenant).where('name', '=', name).execute();
      const r = await tx.deleteFrom('secrets').where('tenant', '=', tenant).where('name', '=', name).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }

  /** the tenant's secrets (or the one named) with their latest version's keys and the version count */
  private async records(tenant: string, name?: string): Promise<SecretRecord[]> {
    let q = this.db
      .selectFrom('secrets as s')
      .innerJoin('secret_versions as v', (j) => j.onRef('v.tenant', '=', 's.tenant').onRef('v.name', '=', 's.name').onRef('v.version', '=', 's.latest_version'))
      .select(['s.tenant', 's.name', 's.latest_version', 's.created_at', 's.updated_at', 'v.keys'])
      .select((eb) => eb.selectFrom('secret_versions as c').select((e) => e.fn.countAll<number>().as('n')).whereRef('c.tenant', '=', 's.tenant').whereRef('c.name', '=', 's.name').as('versions'))
      .where('s.tenant', '=', tenant);
    if (name !== undefined) q = q.where('s.name', '=', name);
    const rows = await q.orderBy('s.name').execute();
    return rows.map((r) => ({
      tenant: r.tenant,
      name: r.name,
      latestVersion: Number(r.latest_version),
      keys: JSON.parse(r.keys) as string[],
      versions: Number(r.versions),
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
    }));
  }
}
