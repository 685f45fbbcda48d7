// Custom domains with ACME against pebble (Let's Encrypt's test CA), real runc behind the gateway:
// two domains get certificates by HTTP-01 on the gateway's plain port, the TLS port serves each its own
// by SNI, plain HTTP is redirected, an unknown name is refused at the handshake, and a certificate is
// renewed at 2/3 of its (shortened) lifetime and the new one served.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { freePort, isCI, isRoot } from '../helpers/tools.ts';
import { until } from '../helpers/serving.ts';
import { requirePebble, startPebble } from '../helpers/pebble.ts';
import { SkiffClient } from '../../src/api/client.ts';
import { handshake, httpsGet } from './tls-client.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : requirePebble() ?? false;
/** pebble's certificates live this long here: renewal (at 2/3) comes after 16 s */
const VALIDITY_S = 24;

function plainGet(port: number, host: string, path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    }).on('error', reject);
  });
}

test('ACME certificates from pebble: two domains by SNI, HTTP→HTTPS redirect, unknown names refused, renewal', { skip, timeout: 120_000 }, async (t) => {
  const gatewayPort = await freePort();
  const pebble = await startPebble({ httpPort: gatewayPort, validitySeconds: VALIDITY_S, t });
  const d = await startTestDaemon(t, {
    settings: (s) => {
      s.gateway = { host: '127.0.0.1', port: gatewayPort };
      s.gatewayTls = '127.0.0.1:0';
      s.acme = { directoryUrl: pebble.directoryUrl, email: 'ops@example.com', caFile: pebble.caFile };
    },
  });
  const tlsPort = Number(new URL(d.daemon.gatewayTlsUrl!).port);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const repo = uniqueRepo('domains');
  const v1 = await pushHttpdImage(d, repo, 'v1', 'api');
  const v2 = await pushHttpdImage(d, repo, 'v2', 'web');
  await client.deploy({ name: 'api', image: v1.reference });
  await client.deploy({ name: 'web', image: v2.reference });

  const added = await client.addDomain({ host: 'API.Example.com', service: 'api' });
  assert.equal(added.host, 'api.example.com', 'host names are lower-cased');
  assert.equal(added.source, 'acme');
  assert.equal(added.url, `https://api.example.com:${tlsPort}/`);
  await client.addDomain({ host: 'www.example.org', service: 'web', redirectHttp: false });
  await until('both certificates issued', async () => (await client.listDomains()).domains.every((x) => x.status === 'ready'), 60_000).catch(async (err) => {
    throw new Error(`${(err as Error).message}: ${JSON.stringify((await client.listDomains()).domains)}`);
  });
  const api = await client.getDomain('api.example.com');
  assert.equal(api.last_error, null);
  assert.ok(api.not_after && api.not_before && api.renews_at);
  const lifetime = Date.parse(api.not_after) - Date.parse(api.not_before);
  assert.ok(Math.abs(Date.parse(api.renews_at) - (Date.parse(api.not_before) + lifetime * (2 / 3))) < 1000, 'renewal at 2/3 of the lifetime');

  // the client trusts pebble's per-run root only
  const root = await pebble.rootPem();
  const a = await httpsGet(tlsPort, 'api.example.com', root, '/index.html');
  assert.equal(a.status, 200);
  assert.equal(a.body, 'hello from api\n');
  assert.match(a.cert.subjectaltname ?? '', /DNS:api\.example\.com/);
  const w = await httpsGet(tlsPort, 'www.example.org', root, '/index.html');
  assert.equal(w.body, 'hello from web\n');
  assert.match(w.cert.subjectaltname ?? '', /DNS:www\.example\.org/);
  assert.notEqual(a.cert.fingerprint256, w.cert.fingerprint256, 'each name its own certificate');
  const env = await httpsGet(tlsPort, 'api.example.com', root, '/cgi-bin/env');
  assert.match(env.body, /^HTTP_X_FORWARDED_PROTO=https$/m, 'the app is told the request came over https');

  // plain HTTP: api redirects (308, path and query kept), www is served; the service's own host too
  const redirected = await plainGet(gatewayPort, 'api.example.com', '/a/b?c=1');
  assert.equal(redirected.status, 308);
  assert.equal(redirected.headers.location, `https://api.example.com:${tlsPort}/a/b?c=1`);
  const plain = await plainGet(gatewayPort, 'www.example.org', '/index.html');
  assert.equal(plain.status, 200);
  assert.equal(plain.body, 'hello from web\n');
  assert.equal((await plainGet(gatewayPort, 'api.localhost', '/index.html')).body, 'hello from api\n');

  // names without a certificate: refused at the handshake (no certificate of another name is shown)
  assert.notEqual(await handshake(tlsPort, 'unknown.example.com'), 'ok');
  assert.notEqual(await handshake(tlsPort, undefined), 'ok', 'no SNI (a client dialling the IP)');
  assert.equal(await handshake(tlsPort, 'api.example.com'), 'ok');

  // renewal: at 2/3 of the lifetime a new certificate is ordered and served
  await until('api.example.com renewed', async () => (await client.getDomain('api.example.com')).not_before !== api.not_before, VALIDITY_S * 1000 + 20_000);
  const renewed = await client.getDomain('api.example.com');
  assert.equal(renewed.status, 'ready');
  assert.ok(Date.parse(renewed.not_after!) > Date.parse(api.not_after));
  const again = await httpsGet(tlsPort, 'api.example.com', root, '/index.html');
  assert.equal(again.body, 'hello from api\n');
  assert.notEqual(again.cert.fingerprint256, a.cert.fingerprint256, 'the renewed certificate is served');

  // removed: no route, no certificate
  await client.deleteDomain('www.example.org');
  assert.notEqual(await handshake(tlsPort, 'www.example.org'), 'ok');
  assert.equal((await plainGet(gatewayPort, 'www.example.org', '/')).status, 404);
});
