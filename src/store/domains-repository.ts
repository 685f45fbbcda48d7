// store/domains-repository: custom domains on either dialect (core/domains.ts). The certificate's
// state is JSON text; the certificate and its key are files in the data dir, not rows.
import { SkiffError } from '../core/errors.ts';
import type { CertificateState, DomainRecord } from '../core/domains.ts';
import type { DomainsRepository } from '../core/repositories.ts';
import type { Db, DomainsTable } from './database.ts';
import { isUniqueViolation } from './token-repository.ts';

function toDomain(r: DomainsTable): DomainRecord {
  return {
    host: r.host,
    tenant: r.tenant,
    service: r.service,
    redirectHttp: Number(r.redirect_http) === 1,
    source: r.source as DomainRecord['source'],
    certificate: JSON.parse(r.certificate) as CertificateState,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export class KyselyDomainsRepository implements DomainsRepository {
  constructor(private readonly db: Db) {}

  async addDomain(d: DomainRecord): Promise<void> {
    try {
      await this.db
        .insertInto('domains')
        .values({ host: d.host, tenant: d.tenant, service: d.service, redirect_http: d.redirectHttp ? 1 : 0, source: d.source, certificate: JSON.stringify(d.certificate), created_at: d.createdAt, updated_at: d.updatedAt })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new SkiffError('CONFLICT', `the domain ${d.host} is already added (skiff domain describe ${d.host})`);
      throw err;
    }
  }

  async getDomain(host: string): Promise<DomainRecord | undefined> {
    const r = await this.db.selectFrom('domains').selectAll().where('host', '=', host).executeTakeFirst();
    return r ? toDomain(r) : undefined;
  }

  async listDomains(): Promise<DomainRecord[]> {
    return (await this.db.selectFrom('domains').selectAll().orderBy('host').execute()).map(toDomain);
  }

  async updateCertificate(host: string, state: CertificateState, now: number): Promise<void> {
    await this.db.updateTable('domains').set({ certificate: JSON.stringify(state), updated_at: now }).where('host', '=', host).execute();
  }

  async deleteDomain(host: string): Promise<boolean> {
    const r = await this.db.deleteFrom('domains').where('host', '=', host).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
