// serving/domain-ports: what the domain service (domains.ts) needs from the rest of Skiff; daemon/
// plugs in the store, the certificate files, the ACME client and the gateway.

/** the services a domain may point at, and whose they are */
export interface DomainServicesPort {
  getService(name: string): Promise<{ tenant: string } | undefined>;
}

export interface CertificatePair {
  /** PEM: the leaf first, then intermediates */
  chain: string;
  /** PEM private key of the leaf */
  key: string;
}

/** Where certificates and their private keys rest (0600 files in the data dir: daemon/cert-files.ts). */
export interface CertificateFilesPort {
  write(host: string, pair: CertificatePair): Promise<void>;
  read(host: string): Promise<CertificatePair | undefined>;
  remove(host: string): Promise<void>;
}

/** Obtains a certificate for a host (ACME: daemon/acme-issuer.ts). Rejects with the cause. */
export interface CertificateIssuerPort {
  issue(host: string): Promise<CertificatePair>;
  /** At stop: an order still under way makes no further request (it fails at once instead of retrying
   *  a CA for minutes, which would also keep a process with a stopped daemon alive). */
  close?(): void;
}

/** What the gateway serves: which host goes to which service, and each host's certificate. */
export interface DomainGatewayPort {
  setDomains(domains: Array<{ host: string; service: string; redirectHttp: boolean }>): void;
  /** undefined: the host has no certificate (any more) */
  setCertificate(host: string, pair: CertificatePair | undefined): void;
}
