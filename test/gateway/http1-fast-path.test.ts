// The gateway's raw fast path (fast-path.ts, upstreams.ts) seen end to end over raw TCP: every way an
// exchange can end gives its instance slot back, a half-closing client is still answered, and a
// connection the gateway has finished with is really closed. Slots are read from the revision pool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Gateway } from '../../src/gateway/gateway.ts';
import { connect, exchange, get, header, rawBackend, readResponse, refusedPort, startGateway as gateway, Truncated, Wire } from '../helpers/http1.ts';

/** Waits (bounded) until the instance holds no slot; fails with the count still held. */
async function slotsReturn(gw: Gateway, instance: string, withinMs = 2_000): Promise<void> {
  for (let waited = 0; ; waited += 20) {
    const n = gw.pool('s-1')!.outstandingOf(instance);
    if (n === 0) return;
    if (waited >= withinMs) assert.fail(`instance ${instance} still holds ${n} slot(s)`);
    await sleep(20);
  }
}


test('slots: every way a fast exchange ends gives the instance slot back', { timeout: 15_000 }, async (t) => {
  const b = await rawBackend(t, 'a', async (req, socket) => {
    if (req.target === '/reset') return void socket.resetAndDestroy();
    if (req.target === '/slow') return sleep(2_000).then(() => void socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    if (req.target === '/half') return void socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nxx');
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  });
  const { gw, port } = await gateway(t, [b.endpoint], { timeoutMs: 1_000 });

  // completed, then the instance resets: 502
  const w1 = await connect(t, port);
  assert.equal((await exchange(w1, get('/ok'))).status, 200);
  assert.equal((await exchange(w1, get('/reset'))).status, 502);
  await slotsReturn(gw, 'a');
  // the revision timeout passes with no answer: 504
  const w2 = await connect(t, port);
  assert.equal((await exchange(w2, get('/slow'))).status, 504);
  await slotsReturn(gw, 'a');
  // the client goes away mid-body, and while a response body is still streaming
  const w3 = await connect(t, port);
  w3.socket.write('POST / HTTP/1.1\r\nHost: s.test\r\nContent-Length: 10\r\n\r\nabc');
  await sleep(50);
  w3.socket.destroy();
  await slotsReturn(gw, 'a');
  const w4 = await connect(t, port);
  w4.socket.write(get('/half'));
  await w4.readUntil('xx');
  w4.socket.destroy();
  await slotsReturn(gw, 'a');
});

test('slots: closing the gateway mid-exchange gives the slot back', { timeout: 15_000 }, async (t) => {
  const b = await rawBackend(t, 'a', () => {}); // never answers
  const { gw, port } = await gateway(t, [b.endpoint]);
  const w = await connect(t, port);
  w.socket.write(get('/hang'));
  for (let i = 0; i < 250 && b.requests.length === 0; i++) await sleep(20);
  assert.equal(gw.pool('s-1')!.outstandingOf('a'), 1);
  await gw.close();
  assert.equal(gw.pool('s-1')!.outstandingOf('a'), 0);
  await w.closed;
});

test('pipelining: requests sent before the client half-closes are all answered', { timeout: 15_000 }, async (t) => {
  const b = await rawBackend(t, 'a', (req, socket) => void socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${req.target.length}\r\n\r\n${req.target}`));
  const { port } = await gateway(t, [b.endpoint]);
  const w = await connect(t, port);
  w.socket.end(get('/one') + get('/two') + get('/three'));
  const bodies: string[] = [];
  try {
    for (;;) bodies.push((await readResponse(w)).body.toString());
  } catch (e) {
    assert.ok(e instanceof Truncated, String(e));
  }
  assert.deepEqual(bodies, ['/one', '/two', '/three']);
});

test('a client that half-closes in the middle of its request body does not hold the instance slot until the revision timeout', { timeout: 15_000 }, async (t) => {
  const b = await rawBackend(t, 'a');
  const { gw, port } = await gateway(t, [b.endpoint], { timeoutMs: 30_000 });
  const w = await connect(t, port);
  w.socket.end('POST / HTTP/1.1\r\nHost: s.test\r\nContent-Length: 100\r\n\r\nonly part of it');
  for (let i = 0; i < 50 && gw.pool('s-1')!.outstandingOf('a') === 0; i++) await sleep(20);
  await slotsReturn(gw, 'a', 2_000);
});

test('a request replayed on the slow path after the client half-closed is still answered', { timeout: 15_000 }, async (t) => {
  const { port } = await gateway(t, [{ id: 'a', host: '127.0.0.1', port: await refusedPort() }]);
  const w = await connect(t, port);
  w.socket.end(get('/refused'));
  let r;
  try {
    r = await readResponse(w);
  } catch (e) {
    assert.ok(e instanceof Truncated, String(e));
  }
  assert.equal(r?.status, 502, 'the slow path answers a refused connection with 502');
});

test('a connection the gateway ends is closed even if the client never closes its side', { timeout: 15_000 }, async (t) => {
  const b = await rawBackend(t, 'a');
  const { gw, port } = await gateway(t, [b.endpoint]);
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  t.after(() => socket.destroy());
  await once(socket, 'connect');
  const w = new Wire(socket);
  const ended = once(socket, 'end');
  const r = await exchange(w, get('/', 'Connection: close\r\n'));
  assert.equal(r.status, 200);
  assert.equal(header(r, 'connection'), 'close');
  await ended; // the gateway's FIN; this client keeps its own side open
  const closing = gw.close();
  try {
    const closed = await Promise.race([closing.then(() => 'closed'), sleep(3_000).then(() => 'still open')]);
    assert.equal(closed, 'closed', 'gateway.close() waits for a connection the fast path already finished with');
  } finally {
    socket.destroy();
    await closing;
  }
});

test('a held request (scaled to zero) is served on the fast path with X-Skiff-Cold-Start, and the connection stays usable', { timeout: 15_000 }, async (t) => {
  const b = await rawBackend(t, 'a');
  const coldStarts: Array<{ revision: string; waitedMs: number }> = [];
  const { gw, port } = await gateway(t, [], {}, {
    publishOnDemand: { endpoints: [b.endpoint], afterMs: 50 }, // a stand-in scheduler
    options: { onColdStart: (revision, waitedMs) => coldStarts.push({ revision, waitedMs }) },
  });

  const w = await connect(t, port);
  const first = await exchange(w, get('/cold'));
  assert.equal(first.status, 200);
  assert.ok(Number(header(first, 'x-skiff-cold-start')) >= 0, 'the held response says how long it waited');
  assert.equal(coldStarts.length, 1);
  assert.equal(coldStarts[0]!.revision, 's-1');
  const second = await exchange(w, get('/warm'));
  assert.equal(second.status, 200);
  assert.equal(header(second, 'x-skiff-cold-start'), undefined);
  await slotsReturn(gw, 'a');
});

test('a refused held request (queue full) is answered in JSON and the connection goes on', { timeout: 15_000 }, async (t) => {
  const b = await rawBackend(t, 'a');
  // queueLimit 0 and no instance yet: the activator refuses at once
  const { gw, port } = await gateway(t, [], { queueLimit: 0 });
  const w = await connect(t, port);
  const refused = await exchange(w, 'POST /x HTTP/1.1\r\nHost: s.test\r\nContent-Length: 5\r\n\r\nhello');
  assert.equal(refused.status, 503);
  assert.equal(header(refused, 'x-skiff-error'), 'QUEUE_FULL');
  assert.equal(JSON.parse(refused.body.toString()).error.code, 'QUEUE_FULL');
  gw.setEndpoints('s-1', [b.endpoint]);
  const after = await exchange(w, get('/after'));
  assert.equal(after.status, 200, 'the refused request\'s body was not read as a next request');
  assert.deepEqual(b.requests.map((r) => r.target), ['/after']);
});

test('a held request with a body larger than the read-ahead bound is forwarded whole once an instance is ready', { timeout: 15_000 }, async (t) => {
  const b = await rawBackend(t, 'a', (req, socket) => void socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${String(req.body.length).length}\r\n\r\n${req.body.length}`));
  // the instance is published only after the client has sent (and the gateway paused) much of the body
  const { gw, port } = await gateway(t, [], {}, { publishOnDemand: { endpoints: [b.endpoint], afterMs: 300 } });
  const size = 1024 * 1024;
  const w = await connect(t, port);
  const r = await exchange(w, Buffer.concat([Buffer.from(`POST /big HTTP/1.1\r\nHost: s.test\r\nContent-Length: ${size}\r\n\r\n`), Buffer.alloc(size, 0x61)]), 'POST');
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), String(size));
  await slotsReturn(gw, 'a');
});
