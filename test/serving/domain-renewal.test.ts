// The certificate decider (serving/domain-renewal.ts) and the domain service's renewals on a FakeClock:
// obtain at once, renew at 2/3 of the lifetime, back off after failures (1 min doubling, capped at 6 h)
// with the error shown, keep serving the old certificate meanwhile, and never touch a user certificate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { CertificateState, DomainRecord } from '../../src/core/domains.ts';
import type { DomainsRepository } from '../../src/core/repositories.ts';
import { afterFailure, afterSuccess, decideCertificate, renewAt, retryDelayMs, RETRY_MAX_MS } from '../../src/serving/domain-renewal.ts';
import { DomainService } from '../../src/serving/domains.ts';
import type { CertificatePair } from '../../src/serving/domain-ports.ts';
import { parseDomainHost } from '../../src/core/domains.ts';
import { SkiffError } from '../../src/core/errors.ts';
import { makeSelfSigned } from './domain-certs.ts';

const DAY = 86_400_000;
const EMPTY: CertificateState = { status: 'pending', notBefore: null, notAfter: null, issuer: null, lastError: null, attempts: 0, nextAttemptAt: null, issuedAt: null };

test('decider: missing → issue; valid → wait until 2/3 of the lifetime; then renew', () => {
  assert.deepEqual(decideCertificate('acme', EMPTY, 0), { do: 'issue', reason: 'missing' });
  const s = afterSuccess({ notBefore: 0, notAfter: 90 * DAY, issuer: 'x' }, 0);
  assert.equal(s.status, 'ready');
  assert.deepEqual(decideCertificate('acme', s, DAY), { do: 'wait', until: 60 * DAY });
  assert.equal(renewAt(0, 90 * DAY), 60 * DAY);
  assert.deepEqual(decideCertificate('acme', s, 60 * DAY - 1), { do: 'wait', until: 60 * DAY });
  assert.deepEqual(decideCertificate('acme', s, 60 * DAY), { do: 'issue', reason: 'renew' });
  assert.deepEqual(decideCertificate('user', s, 89 * DAY), { do: 'nothing' });
  assert.deepEqual(decideCertificate('user', EMPTY, 0), { do: 'nothing' });
});

test('decider: failures back off 1 min, 2 min, 4 min … up to 6 h, keeping the certificate', () => {
  assert.deepEqual([1, 2, 3, 4].map(retryDelayMs), [60_000, 120_000, 240_000, 480_000]);
  assert.equal(retryDelayMs(30), RETRY_MAX_MS);
  const valid = afterSuccess({ notBefore: 0, notAfter: 90 * DAY, issuer: 'x' }, 0);
  const failed = afterFailure(valid, 'connection refused', 60 * DAY);
  assert.equal(failed.status, 'failing');
  assert.equal(failed.notAfter, 90 * DAY, 'the current certificate is kept');
  assert.equal(failed.lastError, 'connection refused');
  assert.deepEqual(decideCertificate('acme', failed, 60 * DAY + 59_999), { do: 'wait', until: 60 * DAY + 60_000 });
  assert.deepEqual(decideCertificate('acme', failed, 60 * DAY + 60_000), { do: 'issue', reason: 'retry' });
  const twice = afterFailure(failed, 'again', 60 * DAY + 60_000);
  assert.equal(twice.nextAttemptAt, 60 * DAY + 60_000 + 120_000);
  assert.equal(afterFailure(EMPTY, 'x', 0).status, 'pending');
  assert.equal(afterFailure(valid, 'x', 91 * DAY).status, 'expired');
});

test('host names: lower-cased; invalid ones refused naming the field', () => {
  assert.equal(parseDomainHost('API.Example.com.'), 'api.example.com');
  for (const bad of ['', 'localhost', 'a..b', '-a.com', 'a_b.com', '*.example.com', 'example.com:443', 'https://x.com', '1.2.3.4', 'x'.repeat(64) + '.com']) {
    assert.throws(() => parseDomainHost(bad, '--host'), (e: unknown) => e instanceof SkiffError && e.code === 'BAD_REQUEST' && e.message.startsWith('--host: '), bad);
  }
});

/** an in-memory DomainsRepository */
function memoryDomains(): DomainsRepository {
  const rows = new Map<string, DomainRecord>();
  return {
    addDomain: async (d) => void rows.set(d.host, structuredClone(d)),
    getDomain: async (h) => structuredClone(rows.get(h)),
    listDomains: async () => [...rows.values()].map((d) => structuredClone(d)),
    updateCertificate: async (h, state, now) => void (rows.has(h) && rows.set(h, { ...rows.get(h)!, certificate: state, updatedAt: now })),
    deleteDomain: async (h) => rows.delete(h),
  };
}

test('domain service on a fake clock: issue, renew at 2/3, back off on failures with the error in describe', async () => {
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  const served = new Map<string, string>();
  let fail: string | undefined;
  const issued: number[] = [];
  // the issuer answers real certificates (openssl) valid 90 days from the fake clock's now: the
  // service reads the dates from the leaf
  const svc = new DomainService({
    records: memoryDomains(),
    services: { getService: async (n) => (n === 'api' ? { tenant: 'default' } : undefined) },
    certs: { write: async () => {}, read: async () => undefined, remove: async () => {} },
    issuer: {
      issue: async (host): Promise<CertificatePair> => {
        issued.push(clock.now());
        if (fail) throw new Error(fail);
        return makeSelfSigned(host, clock.now());
      },
    },
    gateway: { setDomains: () => {}, setCertificate: (h, p) => void (p ? served.set(h, p.chain) : served.delete(h)) },
    clock,
    log: silentLogger,
  });
  await svc.start();
  await svc.add({ host: 'api.example.com', service: 'api' }, 'default');
  await clock.advance(10);
  await svc.renewDue();
  assert.equal(issued.length, 1, 'ordered at once');
  let v = await svc.get('api.example.com');
  assert.equal(v.status, 'ready');
  const first = served.get('api.example.com');
  assert.ok(first);
  const life = Date.parse(v.not_after!) - Date.parse(v.not_before!);
  // nothing until 2/3 of the lifetime
  await clock.advance(Math.floor(life * (2 / 3)) - 60_000);
  assert.equal(issued.length, 1);
  // renewal fails: the error and the next attempt show, the old certificate is still served
  fail = 'acme: urn:ietf:params:acme:error:connection: refused';
  await clock.advance(61_000);
  await svc.renewDue();
  assert.equal(issued.length, 2);
  v = await svc.get('api.example.com');
  assert.equal(v.status, 'failing');
  assert.equal(v.last_error, fail);
  assert.equal(v.attempts, 1);
  assert.equal(served.get('api.example.com'), first);
  // back-off: 1 min after the failure (the timer fired it at 2/3 of the lifetime, 1 s ago), then 2 min
  await clock.advance(58_000);
  assert.equal(issued.length, 2);
  await clock.advance(2_000);
  await svc.renewDue();
  assert.equal(issued.length, 3);
  assert.equal((await svc.get('api.example.com')).attempts, 2);
  fail = undefined;
  await clock.advance(121_000);
  await svc.renewDue();
  assert.equal(issued.length, 4);
  v = await svc.get('api.example.com');
  assert.equal(v.status, 'ready');
  assert.equal(v.last_error, null);
  assert.equal(v.attempts, 0);
  assert.notEqual(served.get('api.example.com'), first, 'the renewed certificate is served');
  await svc.stop();
});
