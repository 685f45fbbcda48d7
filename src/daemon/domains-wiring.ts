// daemon/domains-wiring: custom domains — the DomainService (serving/domains.ts) on the store's
// domains, the certificate files in the data dir, the ACME issuer and the gateway's routes, SNI
// certificates and HTTP-01 answers. Started after serving (the gateway exists), stopped before it.
import type { Settings } from '../config/settings.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { Store } from '../store/repositories.ts';
import type { Gateway } from '../gateway/gateway.ts';
import { DomainService } from '../serving/domains.ts';
import { acmeIssuer } from './acme-issuer.ts';
import { certFiles } from './cert-files.ts';

export async function startDomains(deps: {
  settings: Settings;
  store: Pick<Store, 'domains' | 'serving'>;
  gateway: Gateway;
  tlsAddress: { port: number } | undefined;
  clock: Clock;
  log: Logger;
}): Promise<DomainService> {
  const log = deps.log.child({ component: 'domains' });
  const files = certFiles(deps.settings.dataDir);
  const domains = new DomainService({
    records: deps.store.domains,
    services: { getService: (name) => deps.store.serving.getService(name) },
    certs: files,
    issuer: acmeIssuer(deps.settings.acme, files.dir, deps.gateway.challenges, log),
    gateway: {
      setDomains: (list) => deps.gateway.setDomains(list),
      setCertificate: (host, pair) => {
        try {
          deps.gateway.certificates.set(host, pair);
        } catch (err) {
          // a certificate file damaged on disk: the host is served no certificate until the next one
          log.error({ err, domain: host }, 'domains: the certificate cannot be loaded; the host has none until it is renewed or replaced');
          deps.gateway.certificates.set(host, undefined);
        }
      },
    },
    clock: deps.clock,
    log,
    ...(deps.tlsAddress ? { tls: { port: deps.tlsAddress.port } } : {}),
  });
  await domains.start();
  return domains;
}
