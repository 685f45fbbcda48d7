// daemon/acme-issuer: obtains certificates by ACME (RFC 8555) with the HTTP-01 challenge, through
// acme-client (docs/dependencies.md). The challenge's answer is published on the gateway's plain port
// (/.well-known/acme-challenge/TOKEN) for the time of the order. The account key is made on the first
// order and kept in <dataDir>/certs/acme-account.key (0600); each certificate gets a fresh P-256 key.
import https from 'node:https';
import tls from 'node:tls';
import path from 'node:path';
import { promises as fsp, readFileSync } from 'node:fs';
import acme from 'acme-client';
import { SkiffError } from '../core/errors.ts';
import { writeFileAtomic } from '../core/fsutil.ts';
import type { Logger } from '../core/logger.ts';
import type { Settings } from '../config/settings.ts';
import type { CertificateIssuerPort, CertificatePair } from '../serving/domain-ports.ts';
import { ACME_ACCOUNT_KEY } from './cert-files.ts';

export interface ChallengeBoard {
  set(token: string, keyAuthorization: string): void;
  delete(token: string): void;
}

/** The CAs (directory origins) an issuer of this process still orders from, with how many issuers,
 *  and those a closed issuer ordered from. acme-client's axios instance is one per process, so a
 *  stopped issuer cannot cancel its own requests; instead a request to a CA that only closed issuers
 *  used is refused before it is sent. Any other origin (a CA serving orders from a second host, any
 *  other user of that axios instance) is left alone. */
const liveCAs = new Map<string, number>();
const closedCAs = new Set<string>();
let refusing = false;

function refuseClosedCAs(): void {
  if (refusing) return;
  refusing = true;
  acme.axios.interceptors.request.use((config) => {
    const url = config.url ?? '';
    const origin = URL.canParse(url) ? new URL(url).origin : undefined;
    // thrown without a `config`: acme-client's retry interceptor passes such an error on at once
    if (origin && closedCAs.has(origin) && !liveCAs.has(origin)) throw new Error(`acme: ${origin}: the daemon's certificate issuer has stopped`);
    return config;
  });
}

export function acmeIssuer(settings: Settings['acme'], certsDir: string, challenges: ChallengeBoard, log: Logger): CertificateIssuerPort {
  const ca = URL.canParse(settings.directoryUrl) ? new URL(settings.directoryUrl).origin : settings.directoryUrl;
  liveCAs.set(ca, (liveCAs.get(ca) ?? 0) + 1);
  refuseClosedCAs();
  let closed = false;
  if (settings.caFile) {
    let extra: string;
    try {
      extra = readFileSync(settings.caFile, 'utf8');
    } catch (err) {
      throw new SkiffError('CONFIG_INVALID', `acme.caFile: cannot read ${settings.caFile}: ${(err as Error).message}`);
    }
    // acme-client talks through its own axios instance: one per process, so the extra CA is trusted
    // for every ACME request this process makes (the system's CAs still are)
    acme.axios.defaults.httpsAgent = new https.Agent({ ca: [...tls.rootCertificates, extra], keepAlive: true });
  }
  // axios waits forever by default: a CA that accepts a connection and never answers would hold an
  // order (and a renewal pass) for good
  if (!acme.axios.defaults.timeout) acme.axios.defaults.timeout = 30_000;
  let client: Promise<acme.Client> | undefined;
  const clientOf = () =>
    (client ??= (async () => {
      const file = path.join(certsDir, ACME_ACCOUNT_KEY);
      let accountKey: string | undefined = await fsp.readFile(file, 'utf8').catch(() => undefined);
      if (!accountKey) {
        accountKey = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
        await fsp.mkdir(certsDir, { recursive: true, mode: 0o700 });
        await writeFileAtomic(file, accountKey, 0o600);
      }
      return new acme.Client({ directoryUrl: settings.directoryUrl, accountKey, backoffAttempts: 10, backoffMin: 200, backoffMax: 5000 });
    })().catch((err: unknown) => {
      client = undefined;
      throw err;
    }));
  return {
    close() {
      if (closed) return;
      closed = true;
      const n = (liveCAs.get(ca) ?? 1) - 1;
      if (n > 0) liveCAs.set(ca, n);
      else liveCAs.delete(ca);
      closedCAs.add(ca);
    },
    async issue(host: string): Promise<CertificatePair> {
      if (closed) throw new SkiffError('UNAVAILABLE', 'acme: the certificate issuer has stopped');
      const c = await clientOf();
      const [key, csr] = await acme.crypto.createCsr({ commonName: host, altNames: [host] }, await acme.crypto.createPrivateEcdsaKey('P-256'));
      const chain = await c.auto({
        csr,
        ...(settings.email ? { email: settings.email } : {}),
        termsOfServiceAgreed: true,
        challengePriority: ['http-01'],
        // acme-client would fetch http://HOST/.well-known/… on port 80 itself first; the CA's own
        // validation is the one that counts, and its errors say more
        skipChallengeVerification: true,
        challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
          if (challenge.type !== 'http-01') throw new Error(`unsupported challenge ${challenge.type}`);
          challenges.set(challenge.token, keyAuthorization);
          log.debug({ host, token: challenge.token }, 'acme: challenge published');
        },
        challengeRemoveFn: async (_authz, challenge) => challenges.delete(challenge.token),
      });
      return { chain, key: key.toString() };
    },
  };
}
