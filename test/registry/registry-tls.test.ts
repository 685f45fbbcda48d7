// The registry's TLS listener (registryTls): the same app as `listen` over HTTPS, with a certificate
// from Skiff's own CA in <dataDir>/ca. Checked with node's https client: it verifies against ca.crt
// and fails without it; the certificate names 127.0.0.1 and the registryTlsNames; a restart keeps the
// CA and the certificate, a change of names re-issues the certificate under the same CA; `skiff ca`
// and GET /api/v1/ca answer ca.crt, and 404 saying how to turn it on while the listener is off.
// docker pulling through it: test/clients/docker-tls.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { removeTestNetwork, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { skiff, skiffOk } from '../helpers/cli.ts';
import { pushImage, uniqueRepo } from '../helpers/oci.ts';
import { loadSettings, type Settings } from '../../src/config/settings.ts';
import { SkiffError } from '../../src/core/errors.ts';
import { certificateNames, ensureRegistryTls, wantedNames } from '../../src/daemon/registry-ca.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  cert: tls.PeerCertificate;
}

/** An HTTPS request to the TLS listener, verified against `ca` (undefined: the system's CAs only). */
function httpsRequest(url: string, p: string, o: { ca?: string; token?: string; servername?: string } = {}): Promise<Answer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host: u.hostname,
        port: Number(u.port),
        path: p,
        agent: false,
        ...(o.ca ? { ca: o.ca } : {}),
        ...(o.servername ? { servername: o.servername } : {}),
        headers: o.token ? { authorization: `Bearer ${o.token}` } : {},
      },
      (res) => {
        const cert = (res.socket as tls.TLSSocket).getPeerCertificate();
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, cert }));
      },
    );
    req.on('error', reject);
  });
}

const EXTRA_NAMES = ['registry.skiff.test', '203.0.113.7'];
const tlsOn = (names = EXTRA_NAMES) => (s: Settings) => {
  s.registryTls = '127.0.0.1:0';
  s.registryTlsNames = names;
};

async function stopTestDaemon(d: TestDaemon): Promise<void> {
  await d.daemon.stop();
  await d.daemon.stopInstances();
  await removeTestNetwork(d.settings.runtime);
}

test('the TLS listener serves /v2 and /api/v1 with a certificate of its own CA; restarts keep both', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-regtls-'));
  const dataDir = path.join(dir, 'data');
  const first = await startTestDaemon({ after: () => {} }, { dataDir, settings: tlsOn() });
  let firstStopped = false;
  t.after(async () => {
    if (!firstStopped) await stopTestDaemon(first);
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { daemon } = first;

  // port 0: the daemon tells the port it got
  assert.ok(daemon.registryTlsUrl, 'registryTlsUrl');
  const url = new URL(daemon.registryTlsUrl);
  assert.equal(url.protocol, 'https:');
  assert.equal(url.hostname, '127.0.0.1');
  assert.ok(Number(url.port) > 0, daemon.registryTlsUrl);
  assert.equal(daemon.caFile, path.join(dataDir, 'ca', 'ca.crt'));
  const caPem = readFileSync(daemon.caFile, 'utf8');
  assert.match(caPem, /^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n$/);
  assert.equal(statSync(path.join(dataDir, 'ca', 'ca.key')).mode & 0o777, 0o600);
  assert.equal(statSync(path.join(dataDir, 'ca', 'server.key')).mode & 0o777, 0o600);
  const ca = new X509Certificate(caPem);
  assert.ok(ca.ca, 'ca.crt is a CA certificate');
  assert.ok(new Date(ca.validTo).getTime() - Date.now() > 9 * 365 * 86400_000, `the CA lasts ~10 years: ${ca.validTo}`);

  await t.test('HTTPS verifies against ca.crt and fails without it', async () => {
    const v2 = await httpsRequest(daemon.registryTlsUrl!, '/v2/', { ca: caPem, token: first.token });
    assert.equal(v2.status, 200, v2.body);
    assert.equal(v2.headers['docker-distribution-api-version'], 'registry/2.0');
    // without a token: the token endpoint a client is sent to is https on this very port
    const anon = await httpsRequest(daemon.registryTlsUrl!, '/v2/', { ca: caPem });
    assert.equal(anon.status, 401);
    assert.equal(anon.headers['www-authenticate'], `Bearer realm="https://${url.host}/v2/token",service="skiff"`);
    await assert.rejects(httpsRequest(daemon.registryTlsUrl!, '/v2/', { token: first.token }), (err: NodeJS.ErrnoException) => {
      assert.match(String(err.code), /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
      return true;
    });
    // every route of the plain listener: the API and the dashboard too
    const health = await httpsRequest(daemon.registryTlsUrl!, '/api/v1/health', { ca: caPem, token: first.token });
    assert.equal(health.status, 200, health.body);
    const page = await httpsRequest(daemon.registryTlsUrl!, '/', { ca: caPem });
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
  });

  await t.test('the certificate names 127.0.0.1, localhost, the hostname and the registryTlsNames, and verifies by name', async () => {
    const got = await httpsRequest(daemon.registryTlsUrl!, '/healthz', { ca: caPem });
    const sans = (got.cert.subjectaltname ?? '').split(', ');
    for (const want of ['IP Address:127.0.0.1', 'DNS:localhost', 'DNS:registry.skiff.test', 'IP Address:203.0.113.7']) assert.ok(sans.includes(want), `${want} in ${got.cert.subjectaltname}`);
    assert.deepEqual(daemon.registryTlsNames, wantedNames('127.0.0.1', EXTRA_NAMES));
    assert.deepEqual(certificateNames(readFileSync(path.join(dataDir, 'ca', 'server.crt'), 'utf8')), daemon.registryTlsNames);
    // a node naming the registry by one of its registryTlsNames verifies that name
    const byName = await httpsRequest(daemon.registryTlsUrl!, '/healthz', { ca: caPem, servername: 'registry.skiff.test' });
    assert.equal(byName.status, 200);
    const leaf = new X509Certificate(readFileSync(path.join(dataDir, 'ca', 'server.crt')));
    assert.ok(leaf.checkIssued(ca) && leaf.verify(ca.publicKey), 'issued by the CA');
    assert.equal(leaf.checkHost('registry.skiff.test'), 'registry.skiff.test');
    const days = (new Date(leaf.validTo).getTime() - Date.now()) / 86400_000;
    assert.ok(days > 360 && days < 367, `valid about a year: ${leaf.validTo}`);
    assert.equal(got.cert.fingerprint256, leaf.fingerprint256);
  });

  await t.test('skiff ca and GET /api/v1/ca answer ca.crt', async () => {
    assert.equal(await skiffOk(first, ['ca']), caPem);
    // the CLI over the TLS listener, trusting the CA
    const overTls = await skiff({ url: daemon.registryTlsUrl!, token: first.token }, ['ca'], first.token, { NODE_EXTRA_CA_CERTS: daemon.caFile! });
    assert.equal(overTls.code, 0, overTls.stderr);
    assert.equal(overTls.stdout, caPem);
    // the fingerprint to compare with the daemon's, on stderr (stdout stays the certificate alone)
    assert.ok(daemon.caFingerprint && overTls.stderr.includes(`CA fingerprint (SHA-256): ${daemon.caFingerprint}`), overTls.stderr);
    const api = await httpsRequest(daemon.registryTlsUrl!, '/api/v1/ca', { ca: caPem, token: first.token });
    assert.equal(api.status, 200);
    assert.equal(api.headers['content-type'], 'application/x-pem-file');
    assert.equal(api.body, caPem);
    const anon = await fetch(`${first.url}/api/v1/ca`);
    assert.equal(anon.status, 401);
  });

  const repo = uniqueRepo('tls');
  const pushed = await pushImage(first, repo, 'v1');
  const servedCert = readFileSync(path.join(dataDir, 'ca', 'server.crt'), 'utf8');
  await stopTestDaemon(first);
  firstStopped = true;

  await t.test('a restart on the same data dir keeps the CA and the certificate', async (st) => {
    const second = await startTestDaemon(st, { dataDir, settings: tlsOn() });
    assert.equal(readFileSync(second.daemon.caFile!, 'utf8'), caPem);
    assert.equal(new X509Certificate(readFileSync(second.daemon.caFile!)).fingerprint256, ca.fingerprint256);
    assert.equal(readFileSync(path.join(dataDir, 'ca', 'server.crt'), 'utf8'), servedCert);
    // what a node pushed before the restart, pulled over TLS with the CA it installed then
    const manifest = await httpsRequest(second.daemon.registryTlsUrl!, `/v2/${repo}/manifests/v1`, { ca: caPem, token: second.token });
    assert.equal(manifest.status, 200, manifest.body);
    assert.equal(manifest.headers['docker-content-digest'], pushed.digest);
    assert.equal(manifest.cert.fingerprint256, new X509Certificate(servedCert).fingerprint256);
  });

  await t.test('other names: a new certificate from the same CA', async (st) => {
    const third = await startTestDaemon(st, { dataDir, settings: tlsOn(['other.skiff.test']) });
    assert.equal(new X509Certificate(readFileSync(third.daemon.caFile!)).fingerprint256, ca.fingerprint256);
    const got = await httpsRequest(third.daemon.registryTlsUrl!, '/healthz', { ca: caPem, servername: 'other.skiff.test' });
    assert.equal(got.status, 200);
    assert.match(got.cert.subjectaltname ?? '', /DNS:other\.skiff\.test/);
    assert.doesNotMatch(got.cert.subjectaltname ?? '', /registry\.skiff\.test/);
    assert.notEqual(readFileSync(path.join(dataDir, 'ca', 'server.crt'), 'utf8'), servedCert);
  });
});

test('with the TLS listener off: no CA, and GET /api/v1/ca and skiff ca say how to turn it on', async (t) => {
  const d = await startTestDaemon(t);
  assert.equal(d.daemon.registryTlsUrl, undefined);
  assert.equal(d.daemon.caFile, undefined);
  assert.ok(!existsSync(path.join(d.dataDir, 'ca')), 'no CA is made while the listener is off');
  const res = await fetch(`${d.url}/api/v1/ca`, { headers: { authorization: `Bearer ${d.token}` } });
  assert.equal(res.status, 404);
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'NOT_FOUND');
  assert.match(body.error.message, /no TLS listener.*--registry-tls HOST:PORT/);
  const r = await skiff(d, ['ca']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /NOT_FOUND.*--registry-tls HOST:PORT/);
});

test('registryTls and registryTlsNames settings: flags, env, off, validation', () => {
  assert.equal(loadSettings({}).registryTls, '');
  assert.deepEqual(loadSettings({}).registryTlsNames, []);
  assert.equal(loadSettings({ flags: { registryTls: '0.0.0.0:5443' } }).registryTls, '0.0.0.0:5443');
  assert.equal(loadSettings({ env: { SKIFF_REGISTRY_TLS: '10.0.0.1:5443' } }).registryTls, '10.0.0.1:5443');
  assert.equal(loadSettings({ env: { SKIFF_REGISTRY_TLS: '10.0.0.1:5443' }, flags: { registryTls: 'off' } }).registryTls, '');
  assert.deepEqual(loadSettings({ env: { SKIFF_REGISTRY_TLS_NAMES: 'registry.example.com, 203.0.113.7,fd00::1' } }).registryTlsNames, ['registry.example.com', '203.0.113.7', 'fd00::1']);
  const invalid = (fn: () => unknown, re: RegExp) =>
    assert.throws(fn, (err: SkiffError) => {
      assert.equal(err.code, 'CONFIG_INVALID');
      assert.match(err.message, re);
      return true;
    });
  invalid(() => loadSettings({ flags: { registryTls: '5443' } }), /^registryTls: expected HOST:PORT/);
  invalid(() => loadSettings({ env: { SKIFF_REGISTRY_TLS_NAMES: 'ok.example.com,bad_name!' } }), /^registryTlsNames: expected DNS names or IP addresses.*"bad_name!"/);
});

test('wantedNames: the host, or every non-loopback address for a wildcard; the hostname; loopback names; extras', () => {
  const machine = {
    hostname: 'node-1',
    interfaces: {
      lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }, { address: '::1', family: 'IPv6', internal: true }],
      eth0: [{ address: '192.0.2.10', family: 'IPv4', internal: false }, { address: 'fe80::1', family: 'IPv6', internal: false }, { address: 'FD00:0:0::10', family: 'IPv6', internal: false }],
    },
  } as unknown as Parameters<typeof wantedNames>[2];
  assert.deepEqual(wantedNames('0.0.0.0', ['Registry.Example.com'], machine), ['127.0.0.1', '192.0.2.10', 'fd00::10', 'localhost', 'node-1', 'registry.example.com']);
  assert.deepEqual(wantedNames('10.1.2.3', [], machine), ['10.1.2.3', '127.0.0.1', 'localhost', 'node-1']);
  assert.deepEqual(wantedNames('skiff.internal', [], { ...machine!, hostname: 'not a name' }), ['127.0.0.1', 'localhost', 'skiff.internal']);
});

test('ensureRegistryTls: the CA is kept; the certificate is re-issued 30 days before its end; a lost CA key stops the start', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-regca-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const names = ['127.0.0.1', 'localhost'];
  const start = new Date();
  const first = await ensureRegistryTls(dir, names, start);
  assert.deepEqual(first.created, { ca: true, server: true });
  const later = await ensureRegistryTls(dir, names, new Date(start.getTime() + 300 * 86400_000));
  assert.deepEqual(later.created, { ca: false, server: false });
  assert.equal(later.cert, first.cert);
  const nearEnd = await ensureRegistryTls(dir, names, new Date(start.getTime() + 340 * 86400_000));
  assert.deepEqual(nearEnd.created, { ca: false, server: true });
  assert.equal(nearEnd.caPem, first.caPem);
  assert.notEqual(nearEnd.cert, first.cert);
  rmSync(path.join(dir, 'ca', 'ca.key'));
  await assert.rejects(ensureRegistryTls(dir, names, start), (err: SkiffError) => {
    assert.equal(err.code, 'CONFIG_INVALID');
    assert.match(err.message, /ca\.key is missing while .*ca\.crt is there/);
    return true;
  });
});
