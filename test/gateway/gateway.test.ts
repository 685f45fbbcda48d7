// The gateway over real HTTP on loopback, with plain node:http backends standing in for instances.
// Every behaviour is checked twice: with the fast path (the default) and with every request on the
// node:http path (`gatewayFastPath: false`, the escape hatch).
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { Gateway } from '../../src/gateway/gateway.ts';
import { pickRevision } from '../../src/gateway/routing.ts';
import type { Endpoint, RevisionLimits } from '../../src/gateway/ports.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { refusedPort } from '../helpers/http1.ts';

const LIMITS: RevisionLimits = { concurrency: 0, queueLimit: 100, timeoutMs: 5_000 };

interface Backend {
  endpoint: Endpoint;
  server: http.Server;
  active: number;
  maxActive: number;
  hits: number;
}

async function backend(t: TestContext, id: string, handler?: http.RequestListener): Promise<Backend> {
  const b: Backend = { endpoint: { id, host: '127.0.0.1', port: 0 }, server: undefined as unknown as http.Server, active: 0, maxActive: 0, hits: 0 };
  b.server = http.createServer((req, res) => {
    b.hits++;
    b.active++;
    b.maxActive = Math.max(b.maxActive, b.active);
    res.on('close', () => b.active--);
    if (handler) return handler(req, res);
    res.setHeader('x-backend', id);
    res.end(JSON.stringify({ id, url: req.url, headers: req.headers }));
  });
  const upgraded = new Set<import('node:stream').Duplex>();
  b.server.on('upgrade', (_req, socket) => upgraded.add(socket));
  b.server.listen(0, '127.0.0.1');
  await once(b.server, 'listening');
  b.endpoint.port = (b.server.address() as net.AddressInfo).port;
  t.after(() => new Promise<void>((r) => {
    for (const s of upgraded) s.destroy();
    b.server.closeAllConnections();
    b.server.close(() => r());
  }));
  return b;
}

async function startGateway(t: TestContext, fastPath: boolean, onCapacity: (rev: string) => void = () => {}, random?: () => number) {
  const gw = new Gateway({ requestCapacity: onCapacity }, silentLogger, { random, fastPath });
  const { port } = await gw.listen('127.0.0.1', 0);
  t.after(() => gw.close());
  return { gw, url: `http://127.0.0.1:${port}` };
}

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    }).on('error', reject);
  });
}

for (const fastPath of [true, false]) {
  describe(fastPath ? 'fast path' : 'node:http path only (gatewayFastPath: false)', () => {
    const gateway = (t: TestContext, onCapacity?: (rev: string) => void, random?: () => number) => startGateway(t, fastPath, onCapacity, random);

    test('routes by Host header and by /s/NAME/ with the prefix stripped; unknown hosts get 404 NOT_FOUND', async (t) => {
      const b = await backend(t, 'a');
      const { gw, url } = await gateway(t);
      gw.setRevision('hello-1', LIMITS);
      gw.setEndpoints('hello-1', [b.endpoint]);
      gw.setRoutes([{ service: 'hello', hosts: ['hello.skiff.localhost'], targets: [{ revision: 'hello-1', percent: 100 }] }]);

      const byHost = await get(`${url}/x?y=1`, { host: 'hello.skiff.localhost:8080' });
      assert.equal(byHost.status, 200);
      assert.equal(JSON.parse(byHost.body).url, '/x?y=1');
      const byPath = await get(`${url}/s/hello/deep/path?q=2`);
      assert.equal(JSON.parse(byPath.body).url, '/deep/path?q=2');
      const root = await get(`${url}/s/hello`);
      assert.equal(JSON.parse(root.body).url, '/');
      const none = await get(`${url}/`, { host: 'nope.example' });
      assert.equal(none.status, 404);
      assert.equal(JSON.parse(none.body).error.code, 'NOT_FOUND');
    });

    test('a cold revision holds every request, asks for capacity once, and serves all when an instance is ready', async (t) => {
      const b = await backend(t, 'a');
      let asks = 0;
      const { gw, url } = await gateway(t, () => {
        asks++;
        // The instance becomes ready once the whole burst is held (on a loaded machine the 50 connections
        // can take a while to arrive; a fixed delay would let late ones find it warm).
        const ready = setInterval(() => {
          if (gw.pool('cold-1')!.queued < 50) return;
          clearInterval(ready);
          gw.setEndpoints('cold-1', [b.endpoint]);
        }, 5);
        ready.unref(); // a failed request must fail the test, not keep it polling forever
      });
      gw.setRevision('cold-1', LIMITS);
      gw.setRoutes([{ service: 'cold', hosts: ['cold.test'], targets: [{ revision: 'cold-1', percent: 100 }] }]);
      const results = await Promise.all(Array.from({ length: 50 }, () => get(url, { host: 'cold.test' })));
      assert.deepEqual(results.map((r) => r.status), Array(50).fill(200));
      assert.equal(asks, 1, 'one capacity request for the whole burst');
      assert.ok(results.every((r) => Number(r.headers['x-skiff-cold-start']) >= 0), 'cold-start header on held requests');
      const warm = await get(url, { host: 'cold.test' });
      assert.equal(warm.headers['x-skiff-cold-start'], undefined);
    });

    test('a full queue and a timeout answer 503 with a clear code, never a hang or a 200', async (t) => {
      const { gw, url } = await gateway(t);
      gw.setRevision('r-1', { concurrency: 1, queueLimit: 2, timeoutMs: 300 });
      gw.setRoutes([{ service: 's', hosts: ['s.test'], targets: [{ revision: 'r-1', percent: 100 }] }]);
      const results = await Promise.all(Array.from({ length: 5 }, () => get(url, { host: 's.test' })));
      const codes = results.map((r) => JSON.parse(r.body).error.code).sort();
      assert.deepEqual(codes, ['COLD_START_TIMEOUT', 'COLD_START_TIMEOUT', 'QUEUE_FULL', 'QUEUE_FULL', 'QUEUE_FULL']);
      assert.ok(results.every((r) => r.status === 503));
    });

    test('the hard concurrency limit holds and load goes to the least busy instance', async (t) => {
      const slow: http.RequestListener = (_req, res) => setTimeout(() => res.end('ok'), 50);
      const a = await backend(t, 'a', slow);
      const b = await backend(t, 'b', slow);
      const { gw, url } = await gateway(t);
      gw.setRevision('r-1', { concurrency: 3, queueLimit: 1000, timeoutMs: 10_000 });
      gw.setEndpoints('r-1', [a.endpoint, b.endpoint]);
      gw.setRoutes([{ service: 's', hosts: ['s.test'], targets: [{ revision: 'r-1', percent: 100 }] }]);
      const results = await Promise.all(Array.from({ length: 60 }, () => get(url, { host: 's.test' })));
      assert.ok(results.every((r) => r.status === 200));
      assert.ok(a.maxActive <= 3 && b.maxActive <= 3, `max active a=${a.maxActive} b=${b.maxActive}`);
      assert.equal(a.hits + b.hits, 60);
      assert.ok(Math.abs(a.hits - b.hits) <= 6, `balanced: a=${a.hits} b=${b.hits}`);
    });

    test('a connection refused before any byte is retried on another instance', async (t) => {
      const good = await backend(t, 'good');
      const deadPort = await refusedPort();
      const { gw, url } = await gateway(t);
      gw.setRevision('r-1', LIMITS);
      gw.setEndpoints('r-1', [{ id: 'dead', host: '127.0.0.1', port: deadPort }, good.endpoint]);
      gw.setRoutes([{ service: 's', hosts: ['s.test'], targets: [{ revision: 'r-1', percent: 100 }] }]);
      const results = await Promise.all(Array.from({ length: 20 }, () => get(url, { host: 's.test' })));
      assert.deepEqual(results.map((r) => r.status), Array(20).fill(200));
    });

    test('a request body still unread when the connection is refused goes whole to the next instance', async (t) => {
      const good = await backend(t, 'good', (req, res) => {
        let n = 0;
        req.on('data', (c: Buffer) => (n += c.length));
        req.on('end', () => res.end(String(n)));
      });
      const deadPort = await refusedPort();
      const { gw, url } = await gateway(t);
      gw.setRevision('r-1', LIMITS);
      // One request at a time: with equal load the pool picks the first instance, so each meets the dead one first.
      gw.setEndpoints('r-1', [{ id: 'dead', host: '127.0.0.1', port: deadPort }, good.endpoint]);
      gw.setRoutes([{ service: 's', hosts: ['s.test'], targets: [{ revision: 'r-1', percent: 100 }] }]);
      const post = () => new Promise<string>((resolve, reject) => {
        const req = http.request(url, { method: 'POST', headers: { host: 's.test' }, agent: false }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve(`${res.statusCode} ${body}`));
        });
        req.on('error', reject);
        req.write(Buffer.alloc(1000, 1));
        setTimeout(() => req.end(Buffer.alloc(500, 2)), 20);
      });
      for (let i = 0; i < 3; i++) assert.equal(await post(), '200 1500');
    });

    test('an instance slower than the timeout gives 504 UPSTREAM_TIMEOUT', async (t) => {
      const b = await backend(t, 'slow', (_req, res) => setTimeout(() => res.end('late'), 2_000));
      const { gw, url } = await gateway(t);
      gw.setRevision('r-1', { ...LIMITS, timeoutMs: 200 });
      gw.setEndpoints('r-1', [b.endpoint]);
      gw.setRoutes([{ service: 's', hosts: ['s.test'], targets: [{ revision: 'r-1', percent: 100 }] }]);
      const r = await get(url, { host: 's.test' });
      assert.equal(r.status, 504);
      assert.equal(JSON.parse(r.body).error.code, 'UPSTREAM_TIMEOUT');
    });

    test('hop-by-hop headers are stripped and X-Forwarded-* added', async (t) => {
      const b = await backend(t, 'a');
      const { gw, url } = await gateway(t);
      gw.setRevision('r-1', LIMITS);
      gw.setEndpoints('r-1', [b.endpoint]);
      gw.setRoutes([{ service: 's', hosts: ['s.test'], targets: [{ revision: 'r-1', percent: 100 }] }]);
      const r = await get(url, { host: 's.test', connection: 'x-secret', 'x-secret': '1', 'proxy-authorization': 'p', 'x-keep': 'k' });
      const seen = JSON.parse(r.body).headers;
      assert.equal(seen['x-secret'], undefined);
      assert.equal(seen['proxy-authorization'], undefined);
      assert.equal(seen['x-keep'], 'k');
      assert.equal(seen['x-forwarded-for'], '127.0.0.1');
      assert.equal(seen['x-forwarded-host'], 's.test');
      assert.equal(seen['x-forwarded-proto'], 'http');
    });

    test('a client asking Expect: 100-continue gets the 100 from the gateway and its body reaches the instance', async (t) => {
      const b = await backend(t, 'a', (req, res) => {
        let n = 0;
        req.on('data', (c: Buffer) => (n += c.length));
        req.on('end', () => res.end(JSON.stringify({ n, expect: req.headers.expect ?? null })));
      });
      const { gw, url } = await gateway(t);
      gw.setRevision('r-1', LIMITS);
      gw.setEndpoints('r-1', [b.endpoint]);
      gw.setRoutes([{ service: 's', hosts: ['s.test'], targets: [{ revision: 'r-1', percent: 100 }] }]);
      const body = Buffer.alloc(5000, 1);
      const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(url, { method: 'POST', headers: { host: 's.test', expect: '100-continue', 'content-length': body.length }, agent: false }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode!, body: text }));
        });
        req.on('continue', () => req.end(body));
        req.on('error', reject);
      });
      assert.equal(reply.status, 200);
      assert.deepEqual(JSON.parse(reply.body), { n: 5000, expect: null });
    });

    test('request and response bodies stream, and server-sent events arrive before the response ends', async (t) => {
      const b = await backend(t, 'a', (req, res) => {
        if (req.url === '/upload') {
          let n = 0;
          req.on('data', (c: Buffer) => (n += c.length));
          req.on('end', () => res.end(String(n)));
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: first\n\n');
        setTimeout(() => res.end('data: second\n\n'), 500);
      });
      const { gw, url } = await gateway(t);
      gw.setRevision('r-1', LIMITS);
      gw.setEndpoints('r-1', [b.endpoint]);
      gw.setRoutes([{ service: 's', hosts: ['s.test'], targets: [{ revision: 'r-1', percent: 100 }] }]);

      const size = 64 * 1024 * 1024;
      const uploaded = await new Promise<string>((resolve, reject) => {
        const req = http.request(`${url}/upload`, { method: 'POST', headers: { host: 's.test' }, agent: false }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
        const chunk = Buffer.alloc(1024 * 1024, 7);
        let sent = 0;
        const pump = () => {
          while (sent < size) {
            sent += chunk.length;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          req.end();
        };
        pump();
      });
      assert.equal(uploaded, String(size));

      const firstEventAt = await new Promise<{ first: number; end: number }>((resolve, reject) => {
        const start = Date.now();
        let first = 0;
        http.get(`${url}/events`, { headers: { host: 's.test' }, agent: false }, (res) => {
          res.on('data', (c: Buffer) => {
            if (!first && c.toString().includes('first')) first = Date.now() - start;
          });
          res.on('end', () => resolve({ first, end: Date.now() - start }));
        }).on('error', reject);
      });
      assert.ok(firstEventAt.first > 0 && firstEventAt.first < firstEventAt.end, JSON.stringify(firstEventAt));
    });

    test('websocket upgrades pass through both ways', async (t) => {
      const b = await backend(t, 'ws');
      b.server.on('upgrade', (req, socket) => {
        socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Path: ' + req.url + '\r\n\r\n');
        socket.on('data', (d: Buffer) => socket.write(Buffer.concat([Buffer.from('echo:'), d])));
      });
      const { gw, url } = await gateway(t);
      gw.setRevision('r-1', LIMITS);
      gw.setEndpoints('r-1', [b.endpoint]);
      gw.setRoutes([{ service: 'ws', hosts: ['ws.test'], targets: [{ revision: 'r-1', percent: 100 }] }]);
      const { socket, res } = await new Promise<{ socket: net.Socket; res: http.IncomingMessage }>((resolve, reject) => {
        const req = http.request(`${url}/s/ws/chat`, { headers: { connection: 'Upgrade', upgrade: 'websocket' }, agent: false });
        req.on('upgrade', (res, socket) => resolve({ socket, res }));
        req.on('error', reject);
        req.end();
      });
      t.after(() => socket.destroy());
      assert.equal(res.headers['x-path'], '/chat');
      socket.write('hello');
      const [reply] = (await once(socket, 'data')) as [Buffer];
      assert.equal(reply.toString(), 'echo:hello');
    });

    test('a keep-alive response announces the idle timeout, so clients retire sockets before the gateway closes them', async (t) => {
      const a = await backend(t, 'a');
      const { gw, url } = await gateway(t);
      gw.setRevision('v1', LIMITS);
      gw.setEndpoints('v1', [a.endpoint]);
      gw.setRoutes([{ service: 's', hosts: ['s.test'], targets: [{ revision: 'v1', percent: 100 }] }]);
      const agent = new http.Agent({ keepAlive: true });
      t.after(() => agent.destroy());
      const r = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(url, { headers: { host: 's.test' }, agent }, resolve).on('error', reject));
      r.resume();
      assert.equal(r.statusCode, 200);
      assert.equal(r.headers['keep-alive'], 'timeout=5');
    });

    test('a keep-alive connection to an unpublished instance is never reused, though its address comes back', async (t) => {
      let generation = 0;
      const born = new WeakMap<object, number>();
      const b = await backend(t, 'a', (req, res) => {
        if (!born.has(req.socket)) born.set(req.socket, generation);
        // a connection into a deleted network namespace: the request is swallowed, never answered
        if (born.get(req.socket) !== generation) return;
        res.end(`generation ${generation}`);
      });
      const { gw, url } = await gateway(t);
      gw.setRevision('v1', { ...LIMITS, timeoutMs: 1500 });
      gw.setEndpoints('v1', [b.endpoint]);
      gw.setRoutes([{ service: 's', hosts: ['s.test'], targets: [{ revision: 'v1', percent: 100 }] }]);
      assert.equal((await get(url, { host: 's.test' })).body, 'generation 0');
      // the instance is deleted, and a new one is given its address
      gw.setEndpoints('v1', []);
      generation++;
      gw.setEndpoints('v1', [{ ...b.endpoint, id: 'b' }]);
      const r = await get(url, { host: 's.test' });
      assert.equal(r.status, 200, `${r.status} ${r.body}`);
      assert.equal(r.body, 'generation 1');
    });

    test('a 90/10 split lands within ±5% over 1000 requests', async (t) => {
      const a = await backend(t, 'a');
      const b = await backend(t, 'b');
      const { gw, url } = await gateway(t);
      for (const [rev, be] of [['v1', a], ['v2', b]] as const) {
        gw.setRevision(rev, LIMITS);
        gw.setEndpoints(rev, [be.endpoint]);
      }
      gw.setRoutes([{ service: 's', hosts: ['s.test'], targets: [{ revision: 'v1', percent: 90 }, { revision: 'v2', percent: 10 }] }]);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
      t.after(() => agent.destroy());
      const one = () => new Promise<void>((resolve, reject) => {
        http.get(url, { headers: { host: 's.test' }, agent }, (res) => { res.resume(); res.on('end', () => resolve()); }).on('error', reject);
      });
      for (let i = 0; i < 10; i++) await Promise.all(Array.from({ length: 100 }, one));
      assert.equal(a.hits + b.hits, 1000);
      assert.ok(b.hits >= 50 && b.hits <= 150, `v2 got ${b.hits} of 1000`);
    });
  });
}

test('pickRevision maps the roll onto cumulative percents', () => {
  const targets = [{ revision: 'a', percent: 90 }, { revision: 'b', percent: 10 }, { revision: 'c', percent: 0 }];
  assert.equal(pickRevision(targets, 0), 'a');
  assert.equal(pickRevision(targets, 89.99), 'a');
  assert.equal(pickRevision(targets, 90), 'b');
  assert.equal(pickRevision(targets, 99.999), 'b');
  assert.equal(pickRevision([], 5), undefined);
});
