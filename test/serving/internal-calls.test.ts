// Service-to-service calls by name, end to end with the compiled CLI and real runc instances: an
// internal HTTP service is off the public gateway yet answers `http://api/` and `http://api.internal/`
// from the tenant's other instances (scaling from zero for it); a TCP service answers `db:PORT` from
// them (also from zero), and so do a job's tasks; another tenant's instance resolves none of these names and, dialling the
// addresses anyway, is refused; a service deployed after an instance started is resolvable at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { skiff, skiffFails, skiffOk } from '../helpers/cli.ts';
import { gatewayGet, readyCount, until } from '../helpers/serving.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, netns, nftables)' : false;

test('calls by name: internal HTTP, TCP, scale from zero, tenants', { skip, timeout: 240_000 }, async (t) => {
  const d = await startTestDaemon(t);
  const img = await pushHttpdImage(d, uniqueRepo('names'), 'v1', 'api-says-hi', { resolver: true });
  await skiffOk(d, ['deploy', 'web', '--image', img.reference, '--min', '1']);
  await skiffOk(d, ['deploy', 'api', '--image', img.reference, '--ingress', 'internal', '--min', '0']);
  await skiffOk(d, ['deploy', 'db', '--image', img.reference, '--protocol', 'tcp', '--port', '8080', '--min', '0']);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });

  // off the public gateway: by Host and by path
  assert.equal((await gatewayGet(d.gatewayUrl, 'api')).status, 404);
  const byPath = await fetch(`${d.gatewayUrl}/s/api/`);
  assert.equal(byPath.status, 404);
  await byPath.arrayBuffer();
  assert.equal((await gatewayGet(d.gatewayUrl, 'db')).status, 404);
  assert.match(await skiffOk(d, ['describe', 'api']), /internal: reached only by the tenant's services/);
  assert.match(await skiffOk(d, ['describe', 'db']), /tcp port 8080/);

  // from web's instance, by name: the internal service scales from zero for it
  await until('api at zero', async () => (await readyCount(client, 'api')) === 0, 30_000);
  const call = async (from: string, target: string) => (await gatewayGet(d.gatewayUrl, from, `/cgi-bin/call?${target}`)).body;
  assert.match(await call('web', 'http://api/'), /hello from api-says-hi/);
  assert.match(await call('web', 'http://api.internal/cgi-bin/host'), /^api/m, 'the hostname of an api instance');
  assert.equal(await readyCount(client, 'api'), 1);
  // and the TCP service, from zero too, relayed as bytes (an HTTP/1.0 exchange over nc)
  const tcp = (await gatewayGet(d.gatewayUrl, 'web', '/cgi-bin/tcp?db:8080')).body;
  assert.match(tcp, /^HTTP\/1\.[01] 200/m);
  assert.match(tcp, /hello from api-says-hi/);
  // a service deployed now: web's running instance resolves it at once (its /etc/hosts is rewritten)
  await skiffOk(d, ['deploy', 'later', '--image', img.reference, '--ingress', 'internal']);
  await until('later resolvable', async () => /hello from/.test(await call('web', 'http://later/')), 20_000);
  // a name that is no service
  assert.match(await call('web', 'http://nosuch/'), /call failed|bad address|resolve/i);

  // a job's tasks call by name too (the CGI script, run as a command: it prints what api answered)
  await skiffOk(d, ['job', 'create', 'caller', '--image', img.reference, '--', '/bin/sh', '-c', 'QUERY_STRING=http://api/ /www/cgi-bin/call']);
  await skiffOk(d, ['job', 'run', 'caller', '--wait']);
  assert.match(await skiffOk(d, ['job', 'logs', 'caller']), /hello from api-says-hi/);

  // another project: none of these names, and the addresses refuse it
  await client.createProject('other');
  const other = (await client.createToken('other', 'admin', 'other')).secret;
  const theirImage = await pushHttpdImage(d, 'other/app', 'v1', 'theirs', { resolver: true });
  const theirs = await skiff(d, ['deploy', 'theirs', '--image', theirImage.reference, '--min', '1'], other);
  assert.equal(theirs.code, 0, theirs.stderr);
  assert.match(await call('theirs', 'http://api/'), /call failed|bad address/i);
  const hosts = (await gatewayGet(d.gatewayUrl, 'web', '/cgi-bin/get?/etc/hosts')).body;
  const apiVip = /^(\S+)\s+api api\.internal$/m.exec(hosts)?.[1];
  const dbVip = /^(\S+)\s+db db\.internal$/m.exec(hosts)?.[1];
  assert.ok(apiVip && dbVip, hosts);
  assert.doesNotMatch((await gatewayGet(d.gatewayUrl, 'theirs', '/cgi-bin/get?/etc/hosts')).body, /\bapi\b|\bdb\b|\bweb\b/);
  assert.match(await call('theirs', `http://${apiVip}/`), /call failed|404|not found/i);
  assert.match(await call('theirs', `http://${apiVip}/`), /^(?!.*hello from)/s);
  assert.doesNotMatch((await gatewayGet(d.gatewayUrl, 'theirs', `/cgi-bin/tcp?${dbVip}:8080`)).body, /hello from/);

  // a TCP service is never public, and bad values are named
  await skiffFails(d, ['deploy', 'bad', '--image', img.reference, '--protocol', 'tcp', '--ingress', 'all'], /BAD_REQUEST: ingress: a TCP service/);
  await skiffFails(d, ['deploy', 'bad', '--image', img.reference, '--ingress', 'private'], /BAD_REQUEST: --ingress: expected one of all, internal/);
  // made public by an update: the gateway routes it
  await skiffOk(d, ['update', 'api', '--ingress', 'all']);
  await until('api public', async () => (await gatewayGet(d.gatewayUrl, 'api')).status === 200, 20_000);
});
