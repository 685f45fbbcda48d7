// daemon/cert-files: custom domains' certificates and private keys at rest, as files in the data dir
// (the store keeps only their state). Private keys are 0600, in directories of mode 0700, written
// atomically (temp file, fsync, rename), and never logged or answered by the API.
//
//   <dataDir>/certs/
//     acme-account.key         the ACME account's key (0600), made on the first order
//     <host>/cert.pem          the chain served for the host, leaf first (0644)
//     <host>/key.pem           its private key (0600)
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../core/fsutil.ts';
import { parseDomainHost } from '../core/domains.ts';
import type { CertificateFilesPort, CertificatePair } from '../serving/domain-ports.ts';

export const CERTS_DIR = 'certs';
export const ACME_ACCOUNT_KEY = 'acme-account.key';

export function certFiles(dataDir: string): CertificateFilesPort & { dir: string } {
  const dir = path.join(dataDir, CERTS_DIR);
  // the host was validated by the API; validated again here, as it names a directory
  const hostDir = (host: string) => path.join(dir, parseDomainHost(host));
  return {
    dir,
    async write(host: string, pair: CertificatePair): Promise<void> {
      const d = hostDir(host);
      await fsp.mkdir(d, { recursive: true, mode: 0o700 });
      await fsp.chmod(dir, 0o700);
      await fsp.chmod(d, 0o700);
      // the key first: a crash in between leaves the new key with the old certificate, which the
      // gateway refuses to load (mismatch) until the next renewal, rather than a certificate served
      // with a key that is not its own
      await writeFileAtomic(path.join(d, 'key.pem'), pair.key, 0o600);
      await writeFileAtomic(path.join(d, 'cert.pem'), pair.chain, 0o644);
    },
    async read(host: string): Promise<CertificatePair | undefined> {
      const d = hostDir(host);
      try {
        return { chain: await fsp.readFile(path.join(d, 'cert.pem'), 'utf8'), key: await fsp.readFile(path.join(d, 'key.pem'), 'utf8') };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    async remove(host: string): Promise<void> {
      await fsp.rm(hostDir(host), { recursive: true, force: true });
    },
  };
}
