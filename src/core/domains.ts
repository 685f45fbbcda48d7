// core/domains: custom domains — a host name routed to a service by the gateway, served over TLS with
// a certificate obtained by ACME (HTTP-01) or supplied by the user (docs/domains.md). The records the
// store keeps, what users send and what the API answers. Private keys are never part of any of them:
// they live in 0600 files in the data dir (daemon/cert-files.ts).
import { SkiffError } from './errors.ts';

/** where a domain's certificate comes from */
export type CertificateSource = 'acme' | 'user';

/**
 * pending: no certificate yet (the first ACME order has not finished, or keeps failing);
 * ready:   a valid certificate is served;
 * failing: the latest attempt to renew failed (the current certificate is still served while valid);
 * expired: the certificate served has expired (a user certificate nobody replaced, or renewals failing).
 */
export type DomainStatus = 'pending' | 'ready' | 'failing' | 'expired';

/** What the certificate decider and the views need of a domain's certificate, as the store keeps it. */
export interface CertificateState {
  status: DomainStatus;
  /** epoch ms; null before the first certificate */
  notBefore: number | null;
  notAfter: number | null;
  /** the certificate's issuer (its common name or organisation) */
  issuer: string | null;
  /** the last failed attempt's cause, cleared by a success */
  lastError: string | null;
  /** failed attempts since the last success */
  attempts: number;
  /** when the next attempt may run after a failure (back-off); null when none failed */
  nextAttemptAt: number | null;
  /** when the current certificate was installed */
  issuedAt: number | null;
}

export interface DomainRecord {
  host: string;
  tenant: string;
  service: string;
  /** plain-HTTP requests for the host are answered 308 to https:// (but ACME challenges) */
  redirectHttp: boolean;
  source: CertificateSource;
  certificate: CertificateState;
  createdAt: number;
  updatedAt: number;
}

/** `skiff domain add` as the API takes it */
export interface DomainDocument {
  host: string;
  service: string;
  /** default true */
  redirectHttp?: boolean;
  /** a user-supplied certificate chain (PEM) and its private key (PEM); both or neither */
  certificate?: string;
  key?: string;
}

export interface DomainView {
  host: string;
  service: string;
  tenant: string;
  redirect_http: boolean;
  source: CertificateSource;
  status: DomainStatus;
  /** ISO times */
  not_before: string | null;
  not_after: string | null;
  issuer: string | null;
  /** when Skiff will next try to obtain a certificate (ACME), ISO; null for user certificates */
  renews_at: string | null;
  last_error: string | null;
  attempts: number;
  next_attempt_at: string | null;
  /** where the domain answers: https://HOST:PORT/ (null while the gateway has no TLS listener) */
  url: string | null;
  created_at: string;
}

// RFC 1123 host names as DNS and ACME take them: labels of letters, digits and hyphens (not at either
// end), at most 63 characters each, 253 in all, at least two labels, not all-numeric at the top.
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const DOMAIN_HOST_PATTERN = '^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$';

/** The host, lower-cased, or BAD_REQUEST naming `what` (the flag or field). No wildcards, no IPs, no port. */
export function parseDomainHost(raw: string, what = 'host'): string {
  const host = raw.trim().toLowerCase().replace(/\.$/, '');
  const quoted = JSON.stringify(raw.slice(0, 300));
  const labels = host.split('.');
  if (host.length === 0 || host.length > 253 || labels.length < 2 || !labels.every((l) => LABEL.test(l))) {
    throw new SkiffError('BAD_REQUEST', `${what}: ${quoted} is not a valid host name (labels of letters, digits and hyphens separated by dots, such as api.example.com; no scheme, port, path or wildcard)`);
  }
  if (!/^[a-z]/.test(labels.at(-1)!)) throw new SkiffError('BAD_REQUEST', `${what}: ${quoted} is an IP address or ends in a numeric label; a domain needs a host name`);
  return host;
}
