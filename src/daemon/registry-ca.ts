// daemon/registry-ca: the registry's own certificate authority, for the TLS listener of the control API
// and registry (`registryTls`). Nodes pulling from Skiff trust this CA (`skiff ca` prints it) instead of
// listing Skiff under insecure-registries. Everything lives in the data dir; the CA is made once and
// kept (nodes trust it: a restart must not change it); the server certificate is issued by it and
// re-issued at start when the names it should carry change or it nears its end.
//
//   <dataDir>/ca/
//     ca.key       the CA's private key (ECDSA P-256, PKCS#8 PEM, 0600), made at the first start with TLS on
//     ca.crt       the CA's certificate (~10 years, 0644): what `skiff ca` and GET /api/v1/ca answer
//     server.key   the listener's private key (ECDSA P-256, 0600)
//     server.crt   the listener's certificate (~1 year, issued by the CA for the names wantedNames() gives)
//
// Certificates are made with @peculiar/x509 (WebCrypto keys) and read back with node's X509Certificate.
import { promises as fsp } from 'node:fs';
import { X509Certificate, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { writeFileAtomic } from '../core/fsutil.ts';
import { SkiffError } from '../core/errors.ts';

export const CA_DIR = 'ca';
const DAY_MS = 24 * 3600_000;
/** the CA's lifetime: nodes install it once */
const CA_VALIDITY_MS = 3652 * DAY_MS;
/** the server certificate's lifetime: re-issued at a start within RENEW_BEFORE_MS of its end */
const SERVER_VALIDITY_MS = 365 * DAY_MS;
const RENEW_BEFORE_MS = 30 * DAY_MS;
const EC: EcKeyGenParams & EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const crypto = webcrypto as unknown as Crypto;

export interface RegistryCaFiles {
  dir: string;
  caKey: string;
  caCert: string;
  serverKey: string;
  serverCert: string;
}

export function registryCaFiles(dataDir: string): RegistryCaFiles {
  const dir = path.join(dataDir, CA_DIR);
  return { dir, caKey: path.join(dir, 'ca.key'), caCert: path.join(dir, 'ca.crt'), serverKey: path.join(dir, 'server.key'), serverCert: path.join(dir, 'server.crt') };
}

export interface RegistryTlsMaterial {
  /** the CA certificate (PEM) nodes install */
  caPem: string;
  /** its SHA-256 fingerprint (AA:BB:…), as `openssl x509 -fingerprint -sha256` prints it */
  caFingerprint: string;
  /** the listener's certificate (PEM) and private key */
  cert: string;
  key: string;
  /** the names (DNS names and IP addresses) the certificate carries */
  names: string[];
  /** what this start did: the CA and the server certificate were made now, or read back */
  created: { ca: boolean; server: boolean };
}

/** A name as the certificate compares it: IPs canonical (::1, not 0:0:…:1), DNS names lower case. */
function canonical(name: string): string {
  const v = name.trim();
  if (isIP(v) === 6) return new URL(`http://[${v}]/`).hostname.slice(1, -1);
  return v.toLowerCase();
}

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** Whether `name` may stand in a certificate's subjectAltName: an IP address or a DNS name. */
export function isCertificateName(name: string): boolean {
  return isIP(name) !== 0 || DNS_NAME.test(name);
}

const WILDCARD = new Set(['0.0.0.0', '::', '']);

/**
 * The names the listener's certificate carries: its host unless a wildcard, then every non-loopback
 * interface address; the machine's hostname; 127.0.0.1 and localhost; and the extra names
 * (`registryTlsNames`). Sorted, without duplicates (the comparison with a stored certificate's).
 */
export function wantedNames(
  host: string,
  extra: readonly string[],
  machine: { hostname: string; interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> } = { hostname: os.hostname(), interfaces: os.networkInterfaces() },
): string[] {
  const names = new Set<string>(['127.0.0.1', 'localhost']);
  if (WILDCARD.has(host)) {
    for (const list of Object.values(machine.interfaces)) {
      for (const a of list ?? []) {
        // link-local IPv6 addresses need a zone (%eth0) no certificate can carry
        if (a.internal || (a.family === 'IPv6' && /^fe80:/i.test(a.address))) continue;
        names.add(canonical(a.address));
      }
    }
  } else {
    names.add(canonical(host));
  }
  if (isCertificateName(machine.hostname)) names.add(canonical(machine.hostname));
  for (const n of extra) names.add(canonical(n));
  return [...names].sort();
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

async function exportKey(key: CryptoKey): Promise<string> {
  return pem('PRIVATE KEY', await crypto.subtle.exportKey('pkcs8', key));
}

/** A PEM private key (any PKCS#8 or SEC1 EC key node reads) as a WebCrypto signing key. */
async function importSigningKey(keyPem: string): Promise<CryptoKey> {
  const der = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
  return crypto.subtle.importKey('pkcs8', der, EC, false, ['sign']);
}

async function readIfThere(file: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

const serial = () => {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // a positive INTEGER
  return b.toString('hex');
};

async function createCa(now: Date): Promise<{ cert: string; key: string }> {
  const keys = (await crypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial(),
      name: `CN=Skiff registry CA ${os.hostname().replace(/[,+="<>#;\\]/g, '')} ${now.toISOString().slice(0, 10)}`.trim(),
      notBefore: new Date(now.getTime() - 3600_000),
      notAfter: new Date(now.getTime() + CA_VALIDITY_MS),
      keys,
      signingAlgorithm: EC,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { cert: cert.toString('pem') + '\n', key: await exportKey(keys.privateKey) };
}

async function issueServer(ca: { cert: string; key: string }, names: string[], now: Date): Promise<{ cert: string; key: string }> {
  const caCert = new x509.X509Certificate(ca.cert);
  const keys = (await crypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const first = names.find((n) => isIP(n) === 0) ?? names[0]!;
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial(),
      subject: `CN=${first}`,
      issuer: caCert.subject,
      notBefore: new Date(now.getTime() - 3600_000),
      notAfter: new Date(now.getTime() + SERVER_VALIDITY_MS),
      publicKey: keys.publicKey,
      signingKey: await importSigningKey(ca.key),
      signingAlgorithm: EC,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(names.map((n) => (isIP(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n }))),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        await x509.AuthorityKeyIdentifierExtension.create(caCert, false, crypto),
      ],
    },
    crypto,
  );
  return { cert: cert.toString('pem') + '\n', key: await exportKey(keys.privateKey) };
}

/** The subjectAltNames of a certificate, canonical and sorted. */
export function certificateNames(certPem: string): string[] {
  const ext = new x509.X509Certificate(certPem).getExtension(x509.SubjectAlternativeNameExtension);
  const names = (ext?.names.toJSON() ?? []).filter((n) => n.type === 'dns' || n.type === 'ip').map((n) => canonical(n.value));
  return [...new Set(names)].sort();
}

/** Why the stored server certificate must be re-issued, or undefined when it may be kept. */
function staleBecause(stored: { cert: string; key: string } | undefined, ca: X509Certificate, names: string[], now: Date): string | undefined {
  if (!stored) return 'none yet';
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(stored.cert);
    if (!cert.checkPrivateKey(createPrivateKey(stored.key))) return 'its key does not match';
  } catch {
    return 'unreadable';
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return 'not issued by the CA';
  if (new Date(cert.validTo).getTime() - now.getTime() < RENEW_BEFORE_MS) return 'expires within 30 days';
  const had = certificateNames(stored.cert);
  if (had.join(',') !== names.join(',')) return `names changed (${had.join(', ')} → ${names.join(', ')})`;
  return undefined;
}

/**
 * The CA (made on the first call, read back after) and a server certificate for `names` (kept while
 * its names are these, its CA this one and it is more than 30 days from its end; else issued anew).
 */
export async function ensureRegistryTls(dataDir: string, names: string[], now: Date, log?: { info(obj: object, msg: string): void }): Promise<RegistryTlsMaterial> {
  if (names.length === 0) throw new SkiffError('CONFIG_INVALID', 'the registry TLS certificate needs at least one name');
  const files = registryCaFiles(dataDir);
  await fsp.mkdir(files.dir, { recursive: true, mode: 0o700 });
  await fsp.chmod(files.dir, 0o700);

  let caCreated = false;
  const storedCa = { cert: await readIfThere(files.caCert), key: await readIfThere(files.caKey) };
  let ca: { cert: string; key: string };
  if (storedCa.cert === undefined) {
    // no certificate: never handed out, so a key left alone (a crash between the two writes) goes too
    ca = await createCa(now);
    // the key first: a crash in between leaves a key without a certificate, which is replaced here
    await writeFileAtomic(files.caKey, ca.key, 0o600);
    await writeFileAtomic(files.caCert, ca.cert, 0o644);
    caCreated = true;
    log?.info({ file: files.caCert }, 'registry TLS: created a CA (nodes trust it: `skiff ca` prints it)');
  } else if (storedCa.key === undefined) {
    throw new SkiffError('CONFIG_INVALID', `${files.caKey} is missing while ${files.caCert} is there: restore the key (nodes trust this CA), or remove ${files.dir} to make a new CA (then install the new ca.crt on every node)`);
  } else {
    ca = { cert: storedCa.cert, key: storedCa.key };
  }
  const caX509 = new X509Certificate(ca.cert);
  try {
    if (!caX509.checkPrivateKey(createPrivateKey(ca.key))) throw new Error('the key is not the certificate’s');
  } catch (err) {
    throw new SkiffError('CONFIG_INVALID', `${files.caKey} does not belong to ${files.caCert}: ${(err as Error).message}`, { cause: err });
  }
  // the key file stays private whoever wrote it
  await fsp.chmod(files.caKey, 0o600);

  const storedCert = await readIfThere(files.serverCert);
  const storedKey = await readIfThere(files.serverKey);
  const stored = storedCert !== undefined && storedKey !== undefined ? { cert: storedCert, key: storedKey } : undefined;
  const why = staleBecause(stored, caX509, names, now);
  let server = stored;
  if (why !== undefined || !server) {
    server = await issueServer(ca, names, now);
    await writeFileAtomic(files.serverKey, server.key, 0o600);
    await writeFileAtomic(files.serverCert, server.cert, 0o644);
    log?.info({ file: files.serverCert, names, reason: why }, 'registry TLS: issued the listener’s certificate');
  }
  return {
    caPem: ca.cert,
    caFingerprint: caX509.fingerprint256,
    cert: server.cert,
    key: server.key,
    names,
    created: { ca: caCreated, server: why !== undefined },
  };
}

