// test/runtime/swarm-engine.test: the swarm driver's Docker Engine API client (runtime/swarm/engine.ts)
// against loopback servers: an https:// engine with --tlsverify (the client's certificate checked, the
// engine's against the CA), engine errors by status, an answer that is not JSON, Docker's multiplexed
// stream; and the address forms it takes.
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Engine, demux, parseDockerHost } from '../../src/runtime/swarm/engine.ts';
import { makeCa, tempDir } from '../domains/certs.ts';
import { requireTool } from '../helpers/tools.ts';

const skip = requireTool('openssl', 'openssl');

test('an https:// engine: the client certificate is presented, the engine\'s is checked; errors keep their status', { skip }, async (t) => {
  const ca = makeCa(tempDir());
  const server = ca.leaf('localhost');
  const client = ca.leaf('skiff-client');
  const seen: string[] = [];
  const engine = https.createServer({ cert: server.cert, key: server.key, ca: ca.ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    seen.push(`${req.method} ${req.url} ${(req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN}`);
    if (req.url === '/v1.41/info') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"Swarm":{"LocalNodeState":"active"}}');
    if (req.url === '/v1.41/html') return res.writeHead(200, { 'content-type': 'text/html' }).end('<html>a proxy</html>');
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"no such service: x"}');
  });
  await new Promise<void>((r) => engine.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => (engine.closeAllConnections(), engine.close(() => r()))));
  const url = `https://localhost:${(engine.address() as AddressInfo).port}`;

  const e = new Engine(url, { ca: ca.ca, cert: client.cert, key: client.key });
  t.after(() => e.close());
  assert.deepEqual(await e.call('GET', '/info'), { Swarm: { LocalNodeState: 'active' } });
  assert.deepEqual(seen, ['GET /v1.41/info skiff-client']);
  await assert.rejects(e.call('GET', '/services/x'), { code: 'NOT_FOUND', message: /no such service: x/ });
  await assert.rejects(e.call('GET', '/html'), { code: 'UNAVAILABLE', message: /an answer that is not JSON/ });

  // a client certificate of another CA is refused by the engine; an engine certificate of another CA by Skiff
  const other = makeCa(tempDir());
  const stranger = other.leaf('stranger');
  const refused = new Engine(url, { ca: ca.ca, cert: stranger.cert, key: stranger.key });
  t.after(() => refused.close());
  await assert.rejects(refused.call('GET', '/info'), { code: 'UNAVAILABLE' });
  const distrusting = new Engine(url, { ca: other.ca, cert: client.cert, key: client.key });
  t.after(() => distrusting.close());
  await assert.rejects(distrusting.call('GET', '/info'), { code: 'UNAVAILABLE', message: /unreachable/ });
  assert.throws(() => new Engine(url), { code: 'CONFIG_INVALID', message: /needs its client certificate \(runtime\.swarm\.tlsCertPath/ });
});

test('engine addresses: unix, tcp, http, https; anything else is CONFIG_INVALID naming --docker-host', () => {
  assert.deepEqual(parseDockerHost('unix:///var/run/docker.sock'), { socketPath: '/var/run/docker.sock' });
  assert.deepEqual(parseDockerHost('tcp://10.0.0.2:2375'), { host: '10.0.0.2', port: 2375 });
  assert.deepEqual(parseDockerHost('https://[fd00::2]:2376'), { host: 'fd00::2', port: 2376, tls: true });
  for (const bad of ['docker.sock', 'unix://relative.sock', 'tcp://host', 'ssh://user@host']) assert.throws(() => parseDockerHost(bad), { code: 'CONFIG_INVALID', message: /--docker-host/ }, bad);
});

test('demux: frames split anywhere across chunks, stdout and stderr told apart', async () => {
  const frame = (type: number, text: string) => {
    const body = Buffer.from(text);
    const head = Buffer.alloc(8);
    head[0] = type;
    head.writeUInt32BE(body.length, 4);
    return Buffer.concat([head, body]);
  };
  const all = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err\n'), frame(1, 'out two\n')]);
  const chunks = [all.subarray(0, 3), all.subarray(3, 13), all.subarray(13, 21), all.subarray(21)];
  const got: string[] = [];
  for await (const f of demux((async function* () { yield* chunks; })())) got.push(`${f.stream}:${f.data.toString()}`);
  assert.deepEqual(got, ['stdout:out one\n', 'stderr:err\n', 'stdout:out two\n']);
});
