// serving/certificates: reads a PEM certificate chain and private key (node:crypto) and checks what a
// served certificate must be: a key that matches the leaf, a leaf that covers the host and is valid
// now. Errors are CERTIFICATE_INVALID naming the flag (--cert, --key) so the CLI's user knows which.
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { SkiffError } from '../core/errors.ts';

export interface CertificateInfo {
  notBefore: number;
  notAfter: number;
  issuer: string | null;
  /** SHA-256 fingerprint of the leaf */
  fingerprint: string;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The leaf (first) certificate of a PEM chain. */
export function leafOf(chain: string, flag = '--cert'): X509Certificate {
  const first = chain.match(PEM_CERT)?.[0];
  if (!first) throw new SkiffError('CERTIFICATE_INVALID', `${flag}: no PEM certificate found (expected "-----BEGIN CERTIFICATE-----")`);
  try {
    return new X509Certificate(first);
  } catch (err) {
    throw new SkiffError('CERTIFICATE_INVALID', `${flag}: the certificate cannot be read: ${(err as Error).message}`);
  }
}

export function certificateInfo(leaf: X509Certificate): CertificateInfo {
  const issuer = /(?:^|\n)CN=([^\n]+)/.exec(leaf.issuer)?.[1] ?? /(?:^|\n)O=([^\n]+)/.exec(leaf.issuer)?.[1] ?? null;
  return { notBefore: Date.parse(leaf.validFrom), notAfter: Date.parse(leaf.validTo), issuer, fingerprint: leaf.fingerprint256 };
}

function privateKey(pem: string, flag: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new SkiffError('CERTIFICATE_INVALID', `${flag}: the private key cannot be read (PEM, unencrypted): ${(err as Error).message}`);
  }
}

/**
 * Checks a user-supplied certificate chain and key for `host` at `now`; returns the leaf's dates.
 * Refused: no certificate or key, a key that does not match, a certificate that does not cover the
 * host (SAN, with wildcards as TLS clients match them), or one not valid now.
 */
export function checkCertificate(host: string, chain: string, keyPem: string, now: number, flags = { cert: '--cert', key: '--key' }): CertificateInfo {
  const leaf = leafOf(chain, flags.cert);
  const key = privateKey(keyPem, flags.key);
  const mine = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const theirs = leaf.publicKey.export({ type: 'spki', format: 'der' });
  if (!mine.equals(theirs)) throw new SkiffError('CERTIFICATE_INVALID', `${flags.key}: the private key does not match the certificate given with ${flags.cert}`);
  if (leaf.checkHost(host) === undefined) throw new SkiffError('CERTIFICATE_INVALID', `${flags.cert}: the certificate does not cover ${host} (its subject: ${leaf.subjectAltName ?? leaf.subject.replace(/\n/g, ', ')})`);
  const info = certificateInfo(leaf);
  if (now >= info.notAfter) throw new SkiffError('CERTIFICATE_INVALID', `${flags.cert}: the certificate expired on ${new Date(info.notAfter).toISOString()}`);
  if (now < info.notBefore) throw new SkiffError('CERTIFICATE_INVALID', `${flags.cert}: the certificate is not valid before ${new Date(info.notBefore).toISOString()}`);
  return info;
}
