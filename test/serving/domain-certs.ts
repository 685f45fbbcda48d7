// test/serving/domain-certs: a self-signed certificate for a host valid for 90 days from a given time
// (a FakeClock's now), made with `openssl ca` (which takes explicit dates), for the renewal tests.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const asn1 = (ms: number) => new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';

export function makeSelfSigned(host: string, nowMs: number, days = 90): { chain: string; key: string } {
  const d = mkdtempSync(path.join(os.tmpdir(), 'skiff-selfsigned-'));
  try {
    writeFileSync(path.join(d, 'index.txt'), '');
    writeFileSync(path.join(d, 'serial'), '01\n');
    writeFileSync(path.join(d, 'ca.cnf'), `[ca]\ndefault_ca = d\n[d]\ndatabase = ${d}/index.txt\nnew_certs_dir = ${d}\nserial = ${d}/serial\ndefault_md = sha256\npolicy = p\ncopy_extensions = copy\n[p]\ncommonName = supplied\n`);
    const quiet = { stdio: 'ignore' as const };
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`, '-keyout', `${d}/k.pem`, '-out', `${d}/csr.pem`], quiet);
    execFileSync('openssl', ['ca', '-batch', '-notext', '-config', `${d}/ca.cnf`, '-selfsign', '-keyfile', `${d}/k.pem`, '-in', `${d}/csr.pem`, '-startdate', asn1(nowMs), '-enddate', asn1(nowMs + days * 86_400_000), '-out', `${d}/c.pem`], quiet);
    return { chain: readFileSync(`${d}/c.pem`, 'utf8'), key: readFileSync(`${d}/k.pem`, 'utf8') };
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}
