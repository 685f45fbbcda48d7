// Finding 6 (pen test): a request with an Upgrade header was spliced to the instance even when it
// answered 200; the tunnel had no idle timeout; and 5 idle tunnels held all 5 concurrency slots of a
// service, so normal requests got 503. Replayed against a real gateway on loopback with raw and
// node:http backends, on both gateway paths (an Upgrade always leaves the fast path, so both must
// end in the same place).
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, header, rawBackend, readResponse, startGateway, type Wire } from '../helpers/http1.ts';
import type { Endpoint } from '../../src/gateway/ports.ts';
import type { ConnectionLimits } from '../../src/gateway/limits.ts';

const UPGRADE = (target = '/ws') => `GET ${target} HTTP/1.1\r\nHost: s.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`;

/** A node:http instance that accepts every upgrade with a 101 and echoes the tunnel's bytes. */
async function wsBackend(t: TestContext, id: string): Promise<{ endpoint: Endpoint; tunnels: Set<net.Socket> }> {
  const tunnels = new Set<net.Socket>();
  const server = http.createServer((_req, res) => res.end('plain'));
  server.on('upgrade', (_req, socket: net.Socket) => {
    tunnels.add(socket);
    socket.once('close', () => tunnels.delete(socket));
    socket.on('error', () => {});
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.on('data', (d: Buffer) => socket.write(Buffer.concat([Buffer.from('echo:'), d])));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((resolve) => {
    for (const s of tunnels) s.destroy();
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { endpoint: { id, host: '127.0.0.1', port: (server.address() as net.AddressInfo).port }, tunnels };
}

/** Sends an upgrade and reads the 101; the socket then carries the tunnel. */
async function openTunnel(t: TestContext, port: number): Promise<Wire> {
  const w = await connect(t, port);
  w.socket.write(UPGRADE());
  const r = await readResponse(w);
  assert.equal(r.status, 101);
  return w;
}

function getStatus(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(`http://127.0.0.1:${port}/plain`, { headers: { host: 's.test' }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    }).on('error', reject);
  });
}

for (const fastPath of [true, false]) {
  describe(fastPath ? 'fast path' : 'node:http path only', () => {
    const gateway = (t: TestContext, endpoints: Endpoint[], limits: { concurrency?: number; timeoutMs?: number } = {}, conn: Partial<ConnectionLimits> = {}) =>
      startGateway(t, endpoints, limits, { options: { fastPath, limits: conn } });

    test('an instance answering 200 to an Upgrade gets no tunnel: the 200 is relayed as a response and the connection closed', { timeout: 5_000 }, async (t) => {
      const b = await rawBackend(t, 'a', (_req, socket) => void socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nplain'));
      const { gw, port } = await gateway(t, [b.endpoint]);
      const w = await connect(t, port);
      w.socket.write(UPGRADE());
      const r = await readResponse(w);
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'plain');
      assert.equal(header(r, 'connection'), 'close');
      // Were it spliced, this would reach the instance as a second request on its connection.
      w.socket.write('GET /after-splice HTTP/1.1\r\nHost: s.test\r\n\r\n');
      await w.closed;
      assert.deepEqual(b.requests.map((q) => q.target), ['/ws']);
      assert.equal(gw.pool('s-1')!.outstandingOf('a'), 0, 'the slot is free again');
    });

    test('a chunked non-101 answer is relayed whole, then the connection closes', { timeout: 5_000 }, async (t) => {
      const b = await rawBackend(t, 'a', (_req, socket) => void socket.write('HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nauth\r\n0\r\n\r\n'));
      const { port } = await gateway(t, [b.endpoint]);
      const w = await connect(t, port);
      w.socket.write(UPGRADE());
      const r = await readResponse(w);
      assert.equal(r.status, 401);
      assert.equal(r.body.toString(), 'auth');
      await w.closed;
    });

    test('open tunnels do not hold concurrency slots: with concurrency 5, five idle tunnels leave room for requests', { timeout: 10_000 }, async (t) => {
      const b = await wsBackend(t, 'a');
      const { gw, port } = await gateway(t, [b.endpoint], { concurrency: 5, timeoutMs: 500 });
      const tunnels = await Promise.all(Array.from({ length: 5 }, () => openTunnel(t, port)));
      assert.equal(await getStatus(port), 200);
      assert.equal(gw.pool('s-1')!.outstandingOf('a'), 0);
      // and they still work
      tunnels[0]!.socket.write('ping');
      assert.equal((await tunnels[0]!.readN(9))?.toString(), 'echo:ping');
    });

    test('an idle tunnel is closed after tunnelIdleTimeoutMs; one with traffic stays open', { timeout: 10_000 }, async (t) => {
      const b = await wsBackend(t, 'a');
      const { port } = await gateway(t, [b.endpoint], {}, { tunnelIdleTimeoutMs: 300 });
      const idle = await openTunnel(t, port);
      const busy = await openTunnel(t, port);
      let idleClosed = false;
      void idle.closed.then(() => (idleClosed = true));
      for (let i = 0; !idleClosed; i++) {
        assert.ok(i < 100, 'the idle tunnel was never closed');
        busy.socket.write('x');
        assert.equal((await busy.readN(6))?.toString(), 'echo:x');
        await sleep(50);
      }
      assert.ok(!busy.socket.destroyed, 'the busy tunnel is still open');
      busy.socket.write('y');
      assert.equal((await busy.readN(6))?.toString(), 'echo:y');
    });

    test('an open tunnel keeps its instance from being idle (drain, freeze) until it closes, or at most the tunnel idle timeout', { timeout: 10_000 }, async (t) => {
      const b = await wsBackend(t, 'a');
      const { gw, port } = await gateway(t, [b.endpoint], {}, { tunnelIdleTimeoutMs: 400 });
      const w = await openTunnel(t, port);
      let idle = false;
      void gw.pool('s-1')!.whenIdle('a').then(() => (idle = true));
      w.socket.write('hold');
      assert.equal((await w.readN(9))?.toString(), 'echo:hold');
      assert.equal(idle, false, 'idle while a tunnel is open');
      w.socket.destroy();
      while (!idle) await sleep(10);

      // a chatty tunnel: whenIdle still resolves once the tunnel idle timeout has passed
      const chatty = await openTunnel(t, port);
      let idle2 = false;
      void gw.pool('s-1')!.whenIdle('a').then(() => (idle2 = true));
      for (let i = 0; !idle2; i++) {
        assert.ok(i < 100, 'whenIdle waited for the chatty tunnel without bound');
        chatty.socket.write('z');
        assert.equal((await chatty.readN(6))?.toString(), 'echo:z');
        await sleep(50);
      }
      assert.ok(!chatty.socket.destroyed);
    });

    test('a 101 from an instance answering with bare LF line ends is passed on with CRLF', { timeout: 5_000 }, async (t) => {
      const b = await rawBackend(t, 'a', (_req, socket) => {
        socket.write('HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\n\n');
        socket.on('data', (d: Buffer) => socket.write(d));
        return new Promise<void>(() => {});
      });
      const { port } = await gateway(t, [b.endpoint]);
      const w = await connect(t, port);
      w.socket.write(UPGRADE());
      const head = await w.readUntil('\r\n\r\n');
      assert.match(head?.toString('latin1') ?? '', /^HTTP\/1\.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n$/);
      w.socket.write('raw');
      assert.equal((await w.readN(3))?.toString(), 'raw');
    });
  });
}
