// The gateway's request counters (gateway/request-stats.ts) on both paths: the raw fast path and
// node:http (gatewayFastPath: false). Each finished request is counted once in its revision's pool, by
// status class, with its latency; the activator's own refusals count too.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { Gateway } from '../../src/gateway/gateway.ts';
import { silentLogger } from '../../src/core/logger.ts';

async function backend(t: TestContext): Promise<number> {
  const server = http.createServer((req, res) => {
    res.statusCode = req.url === '/missing' ? 404 : req.url === '/boom' ? 500 : 200;
    res.end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  return (server.address() as net.AddressInfo).port;
}

function get(port: number, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    }).on('error', reject);
  });
}

for (const fastPath of [true, false]) {
  test(`${fastPath ? 'fast path' : 'node:http path'}: requests counted by status class, with their latency`, async (t) => {
    const gw = new Gateway({ requestCapacity: () => {} }, silentLogger, { fastPath });
    const { port } = await gw.listen('127.0.0.1', 0);
    t.after(() => gw.close());
    const up = await backend(t);
    gw.setRevision('shop-00001', { concurrency: 0, queueLimit: 0, timeoutMs: 5_000 });
    gw.setRoutes([{ service: 'shop', hosts: ['shop.test'], targets: [{ revision: 'shop-00001', percent: 100 }] }]);
    // no instance yet and no queue: the activator refuses (503 QUEUE_FULL), and that is counted too
    assert.equal(await get(port, '/', 'shop.test'), 503);
    gw.setEndpoints('shop-00001', [{ id: 'shop-00001-aaaaaa', host: '127.0.0.1', port: up }]);
    for (const [path, status] of [['/', 200], ['/', 200], ['/missing', 404], ['/boom', 500]] as const) assert.equal(await get(port, path, 'shop.test'), status);
    const stats = gw.pool('shop-00001')!.requests;
    // node:http counts when the response closes, just after the client has read it
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(stats.byClass, [0, 0, 2, 0, 1, 2], 'none, 1xx, 2xx, 3xx, 4xx, 5xx');
    assert.equal(stats.count, 5);
    assert.equal(stats.buckets.reduce((a, b) => a + b, 0), 5);
    assert.ok(stats.sumSeconds > 0 && stats.sumSeconds < 5);
    assert.equal(gw.pool('shop-00001')!.active, 0, 'nothing in flight afterwards');
  });
}
