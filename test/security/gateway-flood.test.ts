// Finding 5 (pen test): 21 000 partial request heads against the gateway used up the daemon's 20 000
// fds; the control API, the registry and the gateway all stopped accepting connections. Replayed here
// scaled down (total 200, 100 per client address) against a real daemon on loopback, on both gateway
// paths. The flood comes from a child process, so the fds this process holds are the daemon's alone.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { retrying } from '../helpers/tools.ts';
import { startTestDaemon } from '../helpers/daemon.ts';
import { Gateway } from '../../src/gateway/gateway.ts';
import { silentLogger } from '../../src/core/logger.ts';

const TOTAL = 200;
const PER_CLIENT = 100;

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/**
 * The flood, in a child process: for each [address, count], `count` connections from that loopback
 * address, each sending a head that never ends. Then one more from a fresh address: the gateway
 * handles connections in the order they arrive, so once that one is dealt with every earlier one
 * has been. Prints how many of each address's connections are still open, then holds them all until
 * its stdin closes.
 */
const FLOOD = `
const net = require('node:net');
const [port, plan] = [Number(process.argv[1]), JSON.parse(process.argv[2])];
const open = (address) => new Promise((resolve) => {
  const s = net.connect({ port, host: '127.0.0.1', localAddress: address });
  s.alive = true;
  s.on('error', () => {});
  s.on('close', () => { s.alive = false; });
  s.on('connect', () => { s.write('GET / HTTP/1.1\\r\\nHost: flood.test\\r\\nX-Slow: '); resolve(s); });
  s.on('close', () => resolve(s));
});
(async () => {
  const groups = [];
  for (const [address, count] of plan) {
    const sockets = [];
    for (let i = 0; i < count; i++) sockets.push(await open(address));
    groups.push([address, sockets]);
  }
  const sentinel = await open('127.0.0.250');
  // (bounded only so that a gateway without limits, which never closes it, fails with the counts)
  if (sentinel.alive) await Promise.race([new Promise((r) => sentinel.once('close', r)), new Promise((r) => setTimeout(r, 3000))]);
  await new Promise((r) => setTimeout(r, 200)); // the earlier closes' events, already on their way
  const held = Object.fromEntries(groups.map(([a, s]) => [a, s.filter((x) => x.alive).length]));
  process.stdout.write(JSON.stringify(held) + '\\n');
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
})();
`;

async function flood(t: TestContext, port: number, plan: Array<[string, number]>): Promise<{ held: Record<string, number>; end: () => Promise<void> }> {
  const child = spawn(process.execPath, ['-e', FLOOD, String(port), JSON.stringify(plan)], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => (out += d));
  while (!out.includes('\n')) {
    const [code] = await Promise.race([once(child.stdout, 'data'), once(child, 'exit')]);
    if (typeof code === 'number' || code === null) throw new Error(`flood exited early: ${out}`);
  }
  return {
    held: JSON.parse(out.trim()) as Record<string, number>,
    end: async () => {
      child.stdin.end();
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

function request(url: string, opts: http.RequestOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false, ...opts }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
}

/** Retries while the gateway still counts the flood's connections (their closes are in flight). */
function eventually(url: string, opts: http.RequestOptions = {}): Promise<{ status: number; body: string }> {
  return retrying(() => request(url, opts), { tries: 101, pauseMs: 50 });
}

for (const fastPath of [true, false]) {
  describe(fastPath ? 'fast path' : 'node:http path only', () => {
    test('a flood of partial heads from several addresses is held to the limits; the control API and registry still answer; the gateway serves again after', { timeout: 60_000 }, async (t) => {
      const d = await startTestDaemon(t, {
        settings: (s) => {
          s.gatewayFastPath = fastPath;
          // the head timeout far beyond the test: every close seen here is the limits' doing
          s.gatewayLimits = { ...s.gatewayLimits, maxConnections: TOTAL, maxConnectionsPerClient: PER_CLIENT, headTimeoutMs: 60_000 };
        },
      });
      const port = Number(new URL(d.gatewayUrl).port);
      const before = openFds();
      const { held, end } = await flood(t, port, [['127.0.0.2', 150], ['127.0.0.3', 150], ['127.0.0.4', 150]]);

      assert.deepEqual(held, { '127.0.0.2': PER_CLIENT, '127.0.0.3': PER_CLIENT, '127.0.0.4': 0 }, 'per-client limit, then the total');
      const during = openFds() - before;
      assert.ok(during <= TOTAL + 20, `the daemon holds ${during} more fds under a flood of 450 connections (limit ${TOTAL})`);

      // the operator is not locked out
      const health = await request(`${d.url}/api/v1/health`, { headers: { authorization: `Bearer ${d.token}` } });
      assert.equal(health.status, 200);
      const registry = await request(`${d.url}/v2/`);
      assert.equal(registry.status, 401, 'the registry answers (and asks for credentials)');
      // a new client while the gateway is full: closed at once, not queued behind the flood
      await assert.rejects(request(`${d.gatewayUrl}/`, { localAddress: '127.0.0.5' }));

      await end();
      const after = await eventually(`${d.gatewayUrl}/`, { localAddress: '127.0.0.2' });
      assert.equal(after.status, 404, 'the gateway answers again (no service is deployed)');
      assert.equal(JSON.parse(after.body).error.code, 'NOT_FOUND');
    });
  });
}

for (const fastPath of [true, false]) {
  describe(`head timeout (${fastPath ? 'fast path' : 'node:http path only'})`, () => {
    test('a head that does not arrive within headTimeoutMs gets 408 REQUEST_TIMEOUT and the connection closed', { timeout: 10_000 }, async (t) => {
      const gw = new Gateway({ requestCapacity: () => {} }, silentLogger, { fastPath, limits: { headTimeoutMs: 300 } });
      const { port } = await gw.listen('127.0.0.1', 0);
      t.after(() => gw.close());
      const socket = net.connect(port, '127.0.0.1');
      t.after(() => socket.destroy());
      await once(socket, 'connect');
      socket.write('GET / HTTP/1.1\r\nHost: s.test\r\nX-Slow: ');
      let got = '';
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => (got += d));
      socket.on('error', () => {});
      await once(socket, 'close');
      assert.match(got, /^HTTP\/1\.1 408 /);
      assert.equal(JSON.parse(got.slice(got.indexOf('\r\n\r\n') + 4)).error.code, 'REQUEST_TIMEOUT');
    });
  });
}

test('the default limits come from the fd limit and leave the rest of the daemon at least half of it', async () => {
  const { connectionLimits } = await import('../../src/gateway/limits.ts');
  const l = connectionLimits({}, 20_000);
  assert.equal(l.maxConnections, 5_000);
  assert.equal(l.maxConnectionsPerClient, 625);
  assert.ok(l.maxConnections * 2 <= 20_000 / 2, 'a proxied connection holds two fds');
  assert.equal(connectionLimits({ maxConnections: 10, maxConnectionsPerClient: 3 }, 20_000).maxConnectionsPerClient, 3);
});
