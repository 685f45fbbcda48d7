// Custom domains with a user-supplied certificate (made here with openssl), through the CLI and the API:
// served by SNI and trusted by the client through its own CA; the key rests 0600 in the data dir and is
// printed nowhere; bad input is refused with errors naming the flag; tenants point domains only at
// their own services; a taken host is CONFLICT; rm stops serving it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, statSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { removeTestNetwork, startTestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot, requireTool } from '../helpers/tools.ts';
import { skiff } from '../helpers/cli.ts';
import { SkiffClient } from '../../src/api/client.ts';
import { SkiffError } from '../../src/core/errors.ts';
import { expiredCert, makeCa, tempDir } from './certs.ts';
import { handshake, httpsGet } from './tls-client.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : requireTool('openssl', 'openssl') ?? false;

const code = (c: string, re: RegExp) => (e: unknown) => e instanceof SkiffError && e.code === c && re.test(e.message);

test('a user-supplied certificate: served by SNI, key at rest 0600 and never printed, clear errors, tenants, rm', { skip, timeout: 120_000 }, async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const d = await startTestDaemon(t, { settings: (s) => void (s.gatewayTls = '127.0.0.1:0') });
  const tlsPort = Number(new URL(d.daemon.gatewayTlsUrl!).port);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const repo = uniqueRepo('owncert');
  const img = await pushHttpdImage(d, repo, 'v1', 'own');
  await client.deploy({ name: 'api', image: img.reference });
  const { ca, leaf } = makeCa(dir);
  const own = leaf('own.example.net');

  // bad input, each error naming what to fix
  const add = (args: string[]) => skiff(d, ['domain', 'add', ...args]);
  let r = await add(['not_a host!', '--service', 'api']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^skiff: error BAD_REQUEST: host: "not_a host!" is not a valid host name/);
  r = await add(['10.0.0.1', '--service', 'api']);
  assert.match(r.stderr, /BAD_REQUEST: host: .* IP address/);
  r = await add(['own.example.net', '--service', 'api', '--cert', own.certFile]);
  assert.match(r.stderr, /^skiff: error USAGE: --cert needs --key/);
  r = await add(['own.example.net', '--service', 'api', '--cert', own.certFile, '--key', path.join(dir, 'missing.key')]);
  assert.match(r.stderr, /BAD_REQUEST: --key: cannot read .*missing\.key: ENOENT/);
  const other = leaf('other.example.net');
  r = await add(['own.example.net', '--service', 'api', '--cert', own.certFile, '--key', other.keyFile]);
  assert.match(r.stderr, /CERTIFICATE_INVALID: --key: the private key does not match the certificate given with --cert/);
  r = await add(['own.example.net', '--service', 'api', '--cert', other.certFile, '--key', other.keyFile]);
  assert.match(r.stderr, /CERTIFICATE_INVALID: --cert: the certificate does not cover own\.example\.net/);
  const old = expiredCert(dir, 'own.example.net');
  r = await add(['own.example.net', '--service', 'api', '--cert', old.certFile, '--key', old.keyFile]);
  assert.match(r.stderr, /CERTIFICATE_INVALID: --cert: the certificate expired on 2020-01-02T00:00:00\.000Z/);
  r = await add(['own.example.net', '--service', 'api', '--cert', own.keyFile, '--key', own.keyFile]);
  assert.match(r.stderr, /CERTIFICATE_INVALID: --cert: no PEM certificate found/);
  r = await add(['own.example.net', '--service', 'nope']);
  assert.match(r.stderr, /NOT_FOUND: --service: no service named nope/);
  assert.deepEqual((await client.listDomains()).domains, [], 'nothing was added by the refused commands');

  // added through the CLI
  r = await add(['own.example.net', '--service', 'api', '--cert', own.certFile, '--key', own.keyFile]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^added own\.example\.net → api; certificate: supplied, valid until /);
  const got = await httpsGet(tlsPort, 'own.example.net', ca, '/index.html');
  assert.equal(got.status, 200);
  assert.equal(got.body, 'hello from own\n');
  const described = await skiff(d, ['domain', 'describe', 'own.example.net']);
  assert.match(described.stdout, /Certificate: {2}supplied; ready, valid .* issued by Skiff Test CA/);
  assert.match(described.stdout, new RegExp(`URL: {10}https://own\\.example\\.net:${tlsPort}/`));
  const json = JSON.parse((await skiff(d, ['domain', 'ls', '-o', 'json'])).stdout) as { domains: Array<Record<string, unknown>> };
  assert.equal(json.domains.length, 1);
  assert.equal(json.domains[0]!.source, 'user');
  assert.equal(json.domains[0]!.renews_at, null, 'Skiff never renews a user certificate');

  // the key: 0600 in <data dir>/certs/HOST/, in a 0700 directory; printed by nothing
  const keyFile = path.join(d.dataDir, 'certs', 'own.example.net', 'key.pem');
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  assert.equal(statSync(path.dirname(keyFile)).mode & 0o777, 0o700);
  assert.equal(readFileSync(keyFile, 'utf8'), own.key);
  const keyBody = own.key.split('\n')[1]!;
  for (const out of [described.stdout, JSON.stringify(json), (await skiff(d, ['domain', 'ls'])).stdout, JSON.stringify(await client.getDomain('own.example.net'))]) {
    assert.ok(!out.includes(keyBody), 'the private key is printed nowhere');
  }

  // taken: CONFLICT, whatever the certificate
  await assert.rejects(client.addDomain({ host: 'own.example.net', service: 'api' }), code('CONFLICT', /own\.example\.net is already added/));
  // projects: another project's token cannot point a domain at this project's service, nor remove its
  // domain; both are not there for it (404, as a name that does not exist)
  await client.createProject('other');
  const { secret } = await client.createToken('other-deployer', 'deploy', 'other');
  const stranger = new SkiffClient({ baseUrl: d.url, token: secret });
  await assert.rejects(stranger.addDomain({ host: 'steal.example.net', service: 'api' }), code('NOT_FOUND', /no service named api/));
  await assert.rejects(stranger.deleteDomain('own.example.net'), code('NOT_FOUND', /no domain own\.example\.net/));
  // roles: push tokens may not read or change domains
  const { secret: push } = await client.createToken('pusher', 'push');
  await assert.rejects(new SkiffClient({ baseUrl: d.url, token: push }).listDomains(), code('DENIED', /domains:read/));
  await assert.rejects(client.getDomain('nope.example.net'), code('NOT_FOUND', /no domain nope\.example\.net/));

  // the service is not removed under its domain: the error names it
  r = await skiff(d, ['rm', 'api']);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /CONFLICT: service api: domain own\.example\.net routes to it: remove it first \(skiff domain rm own\.example\.net\)/);

  // rm: no certificate, no route, no files
  r = await skiff(d, ['domain', 'rm', 'own.example.net']);
  assert.equal(r.code, 0, r.stderr);
  assert.notEqual(await handshake(tlsPort, 'own.example.net'), 'ok');
  assert.ok(!existsSync(path.dirname(keyFile)));
  assert.deepEqual(readdirSync(path.join(d.dataDir, 'certs')), []);
});

test('a daemon restarted on the same data dir serves the domains it had', { skip, timeout: 120_000 }, async (t) => {
  const dir = tempDir();
  const dataDir = path.join(dir, 'data');
  const { ca, leaf } = makeCa(dir);
  const own = leaf('kept.example.net');
  const first = await startTestDaemon({ after: () => {} }, { dataDir, settings: (s) => void (s.gatewayTls = '127.0.0.1:0') });
  const client = new SkiffClient({ baseUrl: first.url, token: first.token });
  const img = await pushHttpdImage(first, uniqueRepo('kept'), 'v1', 'kept');
  await client.deploy({ name: 'kept', image: img.reference });
  await client.addDomain({ host: 'kept.example.net', service: 'kept', certificate: own.cert, key: own.key });
  await first.daemon.stop();
  await first.daemon.stopInstances();
  await removeTestNetwork(first.settings.runtime);
  const second = await startTestDaemon(t, { dataDir, settings: (s) => void (s.gatewayTls = '127.0.0.1:0') });
  // after hooks run in order: this one after the daemon's stop
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const got = await httpsGet(Number(new URL(second.daemon.gatewayTlsUrl!).port), 'kept.example.net', ca, '/index.html');
  assert.equal(got.body, 'hello from kept\n');
});
