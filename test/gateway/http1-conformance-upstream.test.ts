// HTTP/1.1 conformance of the gateway when the instance misbehaves or is slow, over raw TCP on both
// sides: resets, truncated bodies, silence, refused connections, keep-alive races, a slow client,
// upgrades and the per-instance concurrency limit. A failure must end in an error response or a cut
// connection, never a hang and never a truncated body passed off as whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { connect, exchange, get, header, rawBackend, rawGateway, readResponse, refusedPort, Truncated, type Wire } from '../helpers/http1.ts';

/** After an error response the connection is either still usable or closed by the gateway; never stuck. */
async function usableOrClosed(w: Wire): Promise<void> {
  if (w.socket.destroyed) return;
  w.socket.write(get('/probe'));
  try {
    await readResponse(w);
  } catch (e) {
    assert.ok(e instanceof Truncated, String(e));
  }
}

function errorCode(body: Buffer): string {
  return (JSON.parse(body.toString()) as { error: { code: string } }).error.code;
}

test('instance resets the connection before answering: 502 JSON error, client connection not stuck', async (t) => {
  const b = await rawBackend(t, 'a', (req, socket) => {
    if (req.target === '/probe') return void socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    socket.resetAndDestroy();
  });
  const w = await connect(t, await rawGateway(t, [b.endpoint]));
  const r = await exchange(w, get('/reset'));
  assert.equal(r.status, 502);
  assert.match(header(r, 'content-type') ?? '', /application\/json/);
  assert.equal(errorCode(r.body), 'UPSTREAM_FAILED');
  await usableOrClosed(w);
});

test('instance dies half way through a Content-Length body: the client connection is cut', async (t) => {
  const b = await rawBackend(t, 'a', (_req, socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n' + 'x'.repeat(500));
    setTimeout(() => socket.destroy(), 20);
  });
  const w = await connect(t, await rawGateway(t, [b.endpoint]));
  await assert.rejects(exchange(w, get('/half')), Truncated);
  await w.closed;
});

test('instance dies half way through a chunked body: the client never gets a terminating chunk', async (t) => {
  const b = await rawBackend(t, 'a', (_req, socket) => {
    socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
    setTimeout(() => socket.destroy(), 20);
  });
  const w = await connect(t, await rawGateway(t, [b.endpoint]));
  await assert.rejects(exchange(w, get('/half')), Truncated);
  await w.closed;
});

test('instance never answers: 504 UPSTREAM_TIMEOUT after the revision timeout', async (t) => {
  const b = await rawBackend(t, 'a', () => new Promise<void>(() => {}));
  const w = await connect(t, await rawGateway(t, [b.endpoint], { timeoutMs: 300 }));
  const r = await exchange(w, get('/silent'));
  assert.equal(r.status, 504);
  assert.equal(errorCode(r.body), 'UPSTREAM_TIMEOUT');
});

test('one of two instances refuses connections: every request still succeeds through the other', async (t) => {
  const good = await rawBackend(t, 'good');
  const w = await connect(t, await rawGateway(t, [{ id: 'dead', host: '127.0.0.1', port: await refusedPort() }, good.endpoint]));
  for (let i = 0; i < 10; i++) assert.equal((await exchange(w, get(`/${i}`))).status, 200);
  assert.equal(good.requests.length, 10);
});

test('keep-alive race: the instance closes its idle connection between two requests; the second succeeds', async (t) => {
  let first: net.Socket | undefined;
  const b = await rawBackend(t, 'a', (req, socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    if (req.conn === 1) {
      first = socket;
      socket.end(); // idle timeout: a FIN after the response, no Connection: close announced
    }
  });
  const w = await connect(t, await rawGateway(t, [b.endpoint]));
  assert.equal((await exchange(w, get('/1'))).status, 200);
  if (!first!.closed) await once(first!, 'close'); // the gateway has seen the FIN and closed its side
  const r = await exchange(w, get('/2'));
  assert.equal(r.status, 200);
  assert.equal(b.requests.at(-1)?.target, '/2');
});

test('keep-alive race: the instance closes the idle connection just as the next request reaches it', async (t) => {
  const b = await rawBackend(t, 'a', (req, socket) => {
    // The second request on connection 1 lands as the instance's idle timer fires: closed unanswered.
    if (req.conn === 1 && req.target === '/2') return void socket.destroy();
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  });
  const w = await connect(t, await rawGateway(t, [b.endpoint]));
  assert.equal((await exchange(w, get('/1'))).status, 200);
  const r = await exchange(w, get('/2'));
  assert.equal(r.status, 200, `got ${r.status} ${r.body.toString()}`);
});

test('backpressure: a 20 MiB response to a slow reader arrives intact and the instance is held back', { timeout: 30_000 }, async (t) => {
  const size = 20 * 1024 * 1024;
  const piece = Buffer.alloc(64 * 1024);
  for (let i = 0; i < piece.length; i++) piece[i] = (i * 31) & 0xff;
  let written = 0;
  const b = await rawBackend(t, 'a', async (_req, socket) => {
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`);
    const closed = once(socket, 'close');
    while (written < size && !socket.destroyed) {
      written += piece.length;
      if (!socket.write(piece)) await Promise.race([new Promise((r) => socket.once('drain', r)), closed]);
    }
  });
  const w = await connect(t, await rawGateway(t, [b.endpoint]));
  w.socket.pause();
  w.socket.write(get('/big'));
  // Wait until the instance stops making progress: with the client not reading, only socket buffers fill.
  let last = -1;
  while (written !== last) {
    last = written;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(written < size, `the instance wrote all ${written} bytes while the client read nothing: the gateway buffered the response`);
  // Then read slowly, a burst at a time.
  const reading = readResponse(w);
  while (w.socket.isPaused()) {
    w.socket.resume();
    await new Promise((r) => setImmediate(r));
    if (written < size) w.socket.pause();
    await new Promise((r) => setTimeout(r, 1));
  }
  const r = await reading;
  assert.equal(r.body.length, size);
  const expected = createHash('sha256');
  for (let i = 0; i < size; i += piece.length) expected.update(piece);
  assert.equal(createHash('sha256').update(r.body).digest('hex'), expected.digest('hex'));
});

test('websocket-style Upgrade: 101, then bytes both ways, including bytes sent right after the head', async (t) => {
  const b = await rawBackend(t, 'ws', (req, socket, wire) => {
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Path: ${req.target}\r\n\r\n`);
    // From here on the connection is not HTTP: echo raw bytes until it closes.
    return (async () => {
      for (;;) {
        const chunk = await wire.readN(1);
        if (!chunk) return;
        socket.write(chunk.toString().toUpperCase());
      }
    })();
  });
  const w = await connect(t, await rawGateway(t, [b.endpoint]));
  w.socket.write('GET /s/s/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nearly');
  const r = await readResponse(w);
  assert.equal(r.status, 101);
  assert.equal(header(r, 'x-path'), '/chat');
  assert.equal((await w.readN(5))?.toString(), 'EARLY');
  w.socket.write('later');
  assert.equal((await w.readN(5))?.toString(), 'LATER');
});

test('concurrency 1: five concurrent requests all succeed, the instance never sees two at once', async (t) => {
  const b = await rawBackend(t, 'a', async (req, socket) => {
    await new Promise((r) => setTimeout(r, 20));
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${req.target.length}\r\n\r\n${req.target}`);
  });
  const port = await rawGateway(t, [b.endpoint], { concurrency: 1 });
  const results = await Promise.all(Array.from({ length: 5 }, async (_, i) => {
    const w = await connect(t, port);
    return exchange(w, get(`/${i}`));
  }));
  assert.deepEqual(results.map((r) => `${r.status} ${r.body}`), [0, 1, 2, 3, 4].map((i) => `200 /${i}`));
  assert.equal(b.requests.length, 5);
  assert.equal(b.maxActive, 1);
});

test('a client that shuts its side after the request (nc, HTTP/1.0 scripts) still gets the whole answer, on both paths', async (t) => {
  const b = await rawBackend(t, 'a', (req, socket) => void socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${req.target.length}\r\n\r\n${req.target}`));
  const gw = await rawGateway(t, [b.endpoint]);
  for (const version of ['1.0', '1.1']) {
    const w = await connect(t, gw);
    w.socket.end(`GET /half-${version} HTTP/${version}\r\nHost: s.test\r\n\r\n`); // FIN right after the head
    const r = await readResponse(w);
    assert.equal(r.status, 200, `HTTP/${version}`);
    assert.equal(r.body.toString(), `/half-${version}`);
    await w.closed; // and the gateway ends the connection after it
  }
});
