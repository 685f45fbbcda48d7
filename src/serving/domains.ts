// serving/domains: custom domains (docs/domains.md) — add, list, describe, remove, and keeping each
// one's certificate current. The decisions (obtain now, or wait until when; back-off after failures)
// are domain-renewal.ts's, pure on the injected clock; this file carries them out one domain at a time
// and wakes itself for the earliest next one. A domain's certificate is served from the moment it is
// written; a failed renewal keeps the current certificate served until it expires.
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { SkiffError } from '../core/errors.ts';
import { withTimeout } from '../core/timeout.ts';
import { parseDomainHost, type CertificateState, type DomainDocument, type DomainRecord, type DomainView } from '../core/domains.ts';
import type { DomainsRepository } from '../core/repositories.ts';
import type { CertificateFilesPort, CertificateIssuerPort, DomainGatewayPort, DomainServicesPort } from './domain-ports.ts';
import { afterFailure, afterSuccess, decideCertificate, renewAt, statusAt } from './domain-renewal.ts';
import { certificateInfo, checkCertificate, leafOf } from './certificates.ts';

/** the longest the service sleeps between looks (a changed clock, a missed timer) */
const MAX_SLEEP_MS = 3600_000;
/** how long a stop waits for an ACME order under way */
const STOP_WAIT_MS = 5000;

export interface DomainServiceDeps {
  records: DomainsRepository;
  services: DomainServicesPort;
  certs: CertificateFilesPort;
  issuer: CertificateIssuerPort;
  gateway: DomainGatewayPort;
  clock: Clock;
  log: Logger;
  /** the gateway's TLS listener, for the views' URLs; undefined when it has none */
  tls?: { port: number };
}

const EMPTY: CertificateState = { status: 'pending', notBefore: null, notAfter: null, issuer: null, lastError: null, attempts: 0, nextAttemptAt: null, issuedAt: null };

export class DomainService {
  private cancelWake: (() => void) | undefined;
  private pumping: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly d: DomainServiceDeps) {}

  /** Serves every domain's certificate kept on disk, routes the hosts, and starts the renewals. */
  async start(): Promise<void> {
    const all = await this.d.records.listDomains();
    for (const domain of all) {
      const pair = await this.d.certs.read(domain.host).catch(() => undefined);
      if (pair) this.d.gateway.setCertificate(domain.host, pair);
    }
    this.d.gateway.setDomains(all.map(routeOf));
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelWake?.();
    // An ACME order under way is waited for a little, not to its end (a CA that stops answering would
    // hold the daemon's stop); what it brings after that is dropped, and the next start orders again.
    await withTimeout(this.pumping?.catch(() => {}) ?? Promise.resolve(), STOP_WAIT_MS);
    this.d.issuer.close?.();
  }

  async add(doc: DomainDocument, tenant: string): Promise<DomainView> {
    const host = parseDomainHost(doc.host, 'host');
    const svc = await this.d.services.getService(doc.service);
    // another project's service is not there, as far as this project can tell: the same 404
    if (!svc || svc.tenant !== tenant) throw new SkiffError('NOT_FOUND', `--service: no service named ${doc.service} (skiff ls lists them)`);
    if ((doc.certificate === undefined) !== (doc.key === undefined)) {
      throw new SkiffError('BAD_REQUEST', doc.certificate === undefined ? '--key: given without --cert; give both, or neither for a certificate from ACME' : '--cert: given without --key; give both, or neither for a certificate from ACME');
    }
    if (await this.d.records.getDomain(host)) throw new SkiffError('CONFLICT', `the domain ${host} is already added (skiff domain describe ${host})`);
    const now = this.d.clock.now();
    const user = doc.certificate !== undefined && doc.key !== undefined ? { chain: doc.certificate, key: doc.key } : undefined;
    const certificate = user ? afterSuccess(checkCertificate(host, user.chain, user.key, now), now) : EMPTY;
    const record: DomainRecord = { host, tenant, service: doc.service, redirectHttp: doc.redirectHttp ?? true, source: user ? 'user' : 'acme', certificate, createdAt: now, updatedAt: now };
    await this.d.records.addDomain(record);
    if (user) {
      try {
        await this.d.certs.write(host, user);
      } catch (err) {
        await this.d.records.deleteDomain(host);
        throw err;
      }
      this.d.gateway.setCertificate(host, user);
    }
    await this.pushRoutes();
    if (!user) this.wake();
    return this.view(record);
  }

  async list(): Promise<DomainView[]> {
    return (await this.d.records.listDomains()).map((r) => this.view(r));
  }

  async get(host: string): Promise<DomainView> {
    return this.view(await this.found(host));
  }

  async remove(host: string, tenant: string): Promise<void> {
    const domain = await this.found(host);
    if (domain.tenant !== tenant) throw new SkiffError('NOT_FOUND', `no domain ${domain.host} (skiff domain ls lists them)`);
    await this.d.records.deleteDomain(domain.host);
    this.d.gateway.setCertificate(domain.host, undefined);
    await this.pushRoutes();
    await this.d.certs.remove(domain.host);
  }

  /** Runs the renewals due now (tests and the wake timer); resolves when they are done. */
  async renewDue(): Promise<void> {
    if (this.pumping) {
      this.again = true;
      return this.pumping;
    }
    this.pumping = this.pump().finally(() => (this.pumping = undefined));
    return this.pumping;
  }

  private async found(raw: string): Promise<DomainRecord> {
    const host = parseDomainHost(raw, 'host');
    const domain = await this.d.records.getDomain(host);
    if (!domain) throw new SkiffError('NOT_FOUND', `no domain ${host} (skiff domain ls lists them)`);
    return domain;
  }

  private async pushRoutes(): Promise<void> {
    this.d.gateway.setDomains((await this.d.records.listDomains()).map(routeOf));
  }

  private wake(): void {
    if (this.stopped) return;
    void this.renewDue().catch((err: unknown) => this.d.log.error({ err }, 'domains: renewal pass failed'));
  }

  private async pump(): Promise<void> {
    do {
      this.again = false;
      this.cancelWake?.();
      let next = this.d.clock.now() + MAX_SLEEP_MS;
      for (const domain of await this.d.records.listDomains()) {
        if (this.stopped) return;
        const action = decideCertificate(domain.source, domain.certificate, this.d.clock.now());
        if (action.do === 'wait') next = Math.min(next, action.until);
        if (action.do !== 'issue') continue;
        const state = await this.obtain(domain, action.reason);
        const after = decideCertificate(domain.source, state, this.d.clock.now());
        if (after.do === 'wait') next = Math.min(next, after.until);
      }
      if (this.stopped) return;
      this.cancelWake = this.d.clock.after(Math.max(1_000, next - this.d.clock.now()), () => this.wake());
    } while (this.again);
  }

  /** One ACME order for the domain; the new state, stored (and the certificate served) either way. */
  private async obtain(domain: DomainRecord, reason: string): Promise<CertificateState> {
    const log = this.d.log.child({ domain: domain.host });
    let state: CertificateState;
    try {
      log.info({ reason }, 'domains: requesting a certificate');
      const pair = await this.d.issuer.issue(domain.host);
      if (this.stopped) return domain.certificate;
      const info = certificateInfo(leafOf(pair.chain, 'the ACME certificate'));
      // still there? (removed while the order ran: its files must not come back)
      if (!(await this.d.records.getDomain(domain.host))) return domain.certificate;
      await this.d.certs.write(domain.host, pair);
      this.d.gateway.setCertificate(domain.host, pair);
      state = afterSuccess(info, this.d.clock.now());
      log.info({ notAfter: new Date(info.notAfter).toISOString() }, 'domains: certificate installed');
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      state = afterFailure(domain.certificate, message.slice(0, 1000), this.d.clock.now());
      log.warn({ err, attempts: state.attempts, retryAt: state.nextAttemptAt }, 'domains: could not obtain a certificate');
    }
    await this.d.records.updateCertificate(domain.host, state, this.d.clock.now());
    return state;
  }

  private view(r: DomainRecord): DomainView {
    const c = r.certificate;
    const now = this.d.clock.now();
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    const renews = r.source === 'acme' ? (c.attempts > 0 ? c.nextAttemptAt : c.notBefore !== null && c.notAfter !== null ? renewAt(c.notBefore, c.notAfter) : null) : null;
    const port = this.d.tls?.port;
    return {
      host: r.host,
      service: r.service,
      tenant: r.tenant,
      redirect_http: r.redirectHttp,
      source: r.source,
      status: statusAt(c, now),
      not_before: iso(c.notBefore),
      not_after: iso(c.notAfter),
      issuer: c.issuer,
      renews_at: iso(renews),
      last_error: c.lastError,
      attempts: c.attempts,
      next_attempt_at: iso(c.nextAttemptAt),
      url: port === undefined ? null : `https://${r.host}${port === 443 ? '' : `:${port}`}/`,
      created_at: new Date(r.createdAt).toISOString(),
    };
  }
}

function routeOf(d: DomainRecord): { host: string; service: string; redirectHttp: boolean } {
  return { host: d.host, service: d.service, redirectHttp: d.redirectHttp };
}
