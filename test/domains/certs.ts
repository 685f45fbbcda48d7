// test/domains/certs: certificates made with openssl for the custom-domain tests — a CA and leaves it
// signs (a user-supplied certificate), and a self-signed one with chosen dates (an expired one).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface MadeCert {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

const quiet = { stdio: 'ignore' as const };

export function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'skiff-certs-'));
}

/** A CA (its cert as `ca`) and a function making leaves it signs for one host each. */
export function makeCa(dir: string): { ca: string; leaf(host: string): MadeCert } {
  const caKey = path.join(dir, 'ca.key');
  const caCert = path.join(dir, 'ca.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30', '-subj', '/CN=Skiff Test CA', '-keyout', caKey, '-out', caCert], quiet);
  let n = 0;
  return {
    ca: readFileSync(caCert, 'utf8'),
    leaf(host: string): MadeCert {
      const base = path.join(dir, `leaf-${n++}`);
      execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${host}`, '-keyout', `${base}.key`, '-out', `${base}.csr`], quiet);
      writeFileSync(`${base}.ext`, `subjectAltName=DNS:${host}\n`);
      execFileSync('openssl', ['x509', '-req', '-in', `${base}.csr`, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-days', '10', '-extfile', `${base}.ext`, '-out', `${base}.pem`], quiet);
      return { certFile: `${base}.pem`, keyFile: `${base}.key`, cert: readFileSync(`${base}.pem`, 'utf8'), key: readFileSync(`${base}.key`, 'utf8') };
    },
  };
}

/** A self-signed certificate for `host` valid only in 2020. */
export function expiredCert(dir: string, host: string): MadeCert {
  const d = mkdtempSync(path.join(dir, 'expired-'));
  writeFileSync(path.join(d, 'index.txt'), '');
  writeFileSync(path.join(d, 'serial'), '01\n');
  writeFileSync(path.join(d, 'ca.cnf'), `[ca]\ndefault_ca = d\n[d]\ndatabase = ${d}/index.txt\nnew_certs_dir = ${d}\nserial = ${d}/serial\ndefault_md = sha256\npolicy = p\ncopy_extensions = copy\n[p]\ncommonName = supplied\n`);
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`, '-keyout', `${d}/k.pem`, '-out', `${d}/csr.pem`], quiet);
  execFileSync('openssl', ['ca', '-batch', '-config', `${d}/ca.cnf`, '-selfsign', '-keyfile', `${d}/k.pem`, '-in', `${d}/csr.pem`, '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-out', `${d}/c.pem`], quiet);
  return { certFile: `${d}/c.pem`, keyFile: `${d}/k.pem`, cert: readFileSync(`${d}/c.pem`, 'utf8'), key: readFileSync(`${d}/k.pem`, 'utf8') };
}
