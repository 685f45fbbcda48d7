// serving/domain-renewal: pure decisions about a domain's certificate — obtain one now, or wait until
// when — from its state and `now` (never the system time), so tests step a fake clock through a
// certificate's whole life. Renewal starts at 2/3 of the lifetime (Let's Encrypt's advice for 90-day
// certificates: 30 days before expiry); failures back off exponentially, 1 min doubling to 6 h.
import type { CertificateSource, CertificateState, DomainStatus } from '../core/domains.ts';

export const RENEW_AT_FRACTION = 2 / 3;
export const RETRY_BASE_MS = 60_000;
export const RETRY_MAX_MS = 6 * 3600_000;

export type CertificateAction =
  | { do: 'issue'; reason: 'missing' | 'renew' | 'retry' }
  | { do: 'wait'; until: number }
  /** a user certificate: Skiff never replaces it */
  | { do: 'nothing' };

/** When a certificate valid from `notBefore` to `notAfter` should be renewed. */
export function renewAt(notBefore: number, notAfter: number): number {
  return notBefore + Math.floor((notAfter - notBefore) * RENEW_AT_FRACTION);
}

/** The pause after the `attempts`-th consecutive failure (attempts ≥ 1). */
export function retryDelayMs(attempts: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(20, Math.max(0, attempts - 1)));
}

export function decideCertificate(source: CertificateSource, s: CertificateState, now: number): CertificateAction {
  if (source === 'user') return { do: 'nothing' };
  if (s.attempts > 0 && s.nextAttemptAt !== null && now < s.nextAttemptAt) return { do: 'wait', until: s.nextAttemptAt };
  if (s.notBefore === null || s.notAfter === null) return { do: 'issue', reason: s.attempts > 0 ? 'retry' : 'missing' };
  const at = renewAt(s.notBefore, s.notAfter);
  if (now >= at) return { do: 'issue', reason: s.attempts > 0 ? 'retry' : 'renew' };
  return { do: 'wait', until: at };
}

/** The state after a certificate valid from `notBefore` to `notAfter` was installed at `now`. */
export function afterSuccess(cert: { notBefore: number; notAfter: number; issuer: string | null }, now: number): CertificateState {
  return { status: now >= cert.notAfter ? 'expired' : 'ready', notBefore: cert.notBefore, notAfter: cert.notAfter, issuer: cert.issuer, lastError: null, attempts: 0, nextAttemptAt: null, issuedAt: now };
}

/** The state after an attempt failed at `now` with `error`: the current certificate (if any) is kept. */
export function afterFailure(s: CertificateState, error: string, now: number): CertificateState {
  const attempts = s.attempts + 1;
  return { ...s, status: statusAt(s, now, true), lastError: error, attempts, nextAttemptAt: now + retryDelayMs(attempts) };
}

/** What a state means at `now` (a ready certificate past its notAfter is expired). */
export function statusAt(s: Pick<CertificateState, 'notAfter' | 'attempts' | 'status'>, now: number, failing = s.attempts > 0): DomainStatus {
  if (s.notAfter === null) return 'pending';
  if (now >= s.notAfter) return 'expired';
  return failing ? 'failing' : 'ready';
}
