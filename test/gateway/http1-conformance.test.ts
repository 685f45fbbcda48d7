// HTTP/1.1 conformance of the gateway as a proxy, byte by byte: raw TCP client, raw TCP instance.
// Connection management, message framing both ways, and the headers a proxy must drop or add.
// Written against the public Gateway API only, so it holds for every path a request may take inside.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { connect, exchange, get, header, rawBackend, rawGateway, readResponse, startGateway, type Respond } from '../helpers/http1.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Answers with the request body's length and hash, so the test sees what arrived upstream. */
const echoBodyHash: Respond = (req, socket) => {
  const body = `${req.body.length} ${sha(req.body)}`;
  socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
};

test('keep-alive: 50 sequential requests on one client connection over few backend connections', async (t) => {
  const b = await rawBackend(t, 'a', (req, socket) => void socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${req.target.length}\r\n\r\n${req.target}`));
  const w = await connect(t, await rawGateway(t, [b.endpoint]));
  for (let i = 0; i < 50; i++) {
    const r = await exchange(w, get(`/n/${i}`));
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), `/n/${i}`);
  }
  assert.equal(b.requests.length, 50);
  assert.ok(b.connections <= 2, `backend saw ${b.connections} connections for 50 sequential requests`);
});

test('pipelining: three requests in one write are answered in order', async (t) => {
  const b = await rawBackend(t, 'a', (req, socket) => {
    // The first answer is the slowest: an out-of-order proxy would show here.
    const delay = req.target === '/1' ? 50 : 0;
    setTimeout(() => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${req.target.length}\r\n\r\n${req.target}`), delay);
  });
  const w = await connect(t, await rawGateway(t, [b.endpoint]));
  w.socket.write(get('/1') + `POST /2 HTTP/1.1\r\nHost: s.test\r\nContent-Length: 5\r\n\r\nhello` + get('/3'));
  const bodies = [];
  for (let i = 0; i < 3; i++) bodies.push((await readResponse(w)).body.toString());
  assert.deepEqual(bodies, ['/1', '/2', '/3']);
  assert.equal(b.requests.find((r) => r.target === '/2')?.body.toString(), 'hello');
});

test('a request head arriving a few bytes at a time is read whole', async (t) => {
  const b = await rawBackend(t, 'a');
  const w = await connect(t, await rawGateway(t, [b.endpoint]));
  const raw = get('/slow', 'X-Long: ' + 'v'.repeat(100) + '\r\n');
  for (let i = 0; i < raw.length; i += 7) {
    w.socket.write(raw.slice(i, i + 7));
    await new Promise((r) => setTimeout(r, 1));
  }
  const r = await readResponse(w);
  assert.equal(r.status, 200);
  assert.equal(b.requests[0]?.target, '/slow');
  assert.equal(header(b.requests[0]!, 'x-long'), 'v'.repeat(100));
});

test('HTTP/1.0 client: answered without chunked coding, then the connection is closed', async (t) => {
  const b = await rawBackend(t, 'a', (_req, socket) => void socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'));
  const w = await connect(t, await rawGateway(t, [b.endpoint]));
  const r = await exchange(w, 'GET /old HTTP/1.0\r\nHost: s.test\r\n\r\n');
  assert.equal(r.status, 200);
  assert.match(r.line, /^HTTP\/1\.[01] 200/);
  assert.equal(r.chunked, false, 'an HTTP/1.0 client cannot read chunked coding');
  assert.equal(r.body.toString(), 'hello world');
  await w.closed;
  assert.equal(b.requests[0]?.target, '/old');
});

test('request bodies: small and 5 MiB Content-Length bodies arrive intact', async (t) => {
  const b = await rawBackend(t, 'a', echoBodyHash);
  const w = await connect(t, await rawGateway(t, [b.endpoint]));
  const small = Buffer.from('a=1&b=2');
  const r1 = await exchange(w, Buffer.concat([Buffer.from(`POST /small HTTP/1.1\r\nHost: s.test\r\nContent-Length: ${small.length}\r\n\r\n`), small]));
  assert.equal(r1.body.toString(), `${small.length} ${sha(small)}`);

  const big = Buffer.alloc(5 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
  w.socket.write(`POST /big HTTP/1.1\r\nHost: s.test\r\nContent-Length: ${big.length}\r\n\r\n`);
  for (let i = 0; i < big.length; i += 256 * 1024) {
    if (!w.socket.write(big.subarray(i, i + 256 * 1024))) await once(w.socket, 'drain');
  }
  const r2 = await readResponse(w);
  assert.equal(r2.status, 200);
  assert.equal(r2.body.toString(), `${big.length} ${sha(big)}`);
});

test('request bodies: a chunked body arrives with the same content', async (t) => {
  const b = await rawBackend(t, 'a', echoBodyHash);
  const w = await connect(t, await rawGateway(t, [b.endpoint]));
  const parts = ['first,', 'x'.repeat(3000), ',last'];
  w.socket.write('POST /chunked HTTP/1.1\r\nHost: s.test\r\nTransfer-Encoding: chunked\r\n\r\n');
  for (const p of parts) {
    w.socket.write(`${p.length.toString(16)};ext=1\r\n${p}\r\n`);
    await new Promise((r) => setTimeout(r, 5));
  }
  w.socket.write('0\r\n\r\n');
  const r = await readResponse(w);
  const content = Buffer.from(parts.join(''));
  assert.equal(r.body.toString(), `${content.length} ${sha(content)}`);
  // and the connection still frames the next request right
  assert.equal((await exchange(w, get('/after'))).status, 200);
  assert.equal(b.requests.at(-1)?.target, '/after');
});

test('response framing: Content-Length, chunked with extensions and trailers, close-delimited', async (t) => {
  const b = await rawBackend(t, 'a', async (req, socket) => {
    if (req.target === '/cl') return void socket.write('HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world');
    if (req.target === '/chunked') {
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n');
      for (const piece of ['4;x=y\r\nabcd\r\n', '3', '\r\nefg', '\r\n', '1a;name="quoted"\r\n' + 'z'.repeat(26) + '\r\n', '0\r\nX-Sum: 33\r\n\r\n']) {
        socket.write(piece);
        await new Promise((r) => setTimeout(r, 2));
      }
      return;
    }
    socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil');
    await new Promise((r) => setTimeout(r, 10));
    socket.end(' the end');
  });
  const w = await connect(t, await rawGateway(t, [b.endpoint]));
  assert.equal((await exchange(w, get('/cl'))).body.toString(), 'hello world');
  const chunked = await exchange(w, get('/chunked'));
  assert.equal(chunked.body.toString(), 'abcdefg' + 'z'.repeat(26));
  // The trailer may be forwarded or dropped; a forwarded one must keep its value.
  const sum = chunked.trailers.find(([k]) => k.toLowerCase() === 'x-sum');
  if (sum) assert.equal(sum[1], '33');
  // A close-delimited body reaches a keep-alive client as a delimited message (or the gateway closes too).
  const closeDelimited = await exchange(w, get('/close'));
  assert.equal(closeDelimited.body.toString(), 'until the end');
  const framed = closeDelimited.chunked || header(closeDelimited, 'content-length') !== undefined;
  if (framed) assert.equal((await exchange(w, get('/cl'))).body.toString(), 'hello world', 'connection usable after it');
  else await w.closed;
});

test('response framing: HEAD with Content-Length, 204 and 304 carry no body and keep the connection in step', async (t) => {
  const b = await rawBackend(t, 'a', (req, socket) => {
    if (req.method === 'HEAD') return void socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n');
    if (req.target === '/204') return void socket.write('HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n');
    if (req.target === '/304') return void socket.write('HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n');
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${req.target.length}\r\n\r\n${req.target}`);
  });
  const w = await connect(t, await rawGateway(t, [b.endpoint]));
  const head = await exchange(w, 'HEAD /h HTTP/1.1\r\nHost: s.test\r\n\r\n', 'HEAD');
  assert.equal(head.status, 200);
  const cl = header(head, 'content-length');
  if (cl !== undefined) assert.equal(cl, '1234');
  assert.equal((await exchange(w, get('/204'))).status, 204);
  const notModified = await exchange(w, get('/304', 'If-None-Match: "v1"\r\n'));
  assert.equal(notModified.status, 304);
  assert.equal(header(notModified, 'etag'), '"v1"');
  // Had any of them carried body bytes, this response would be read out of step.
  const after = await exchange(w, get('/after'));
  assert.equal(after.status, 200);
  assert.equal(after.body.toString(), '/after');
  assert.equal(w.buffered, 0, 'no stray bytes after the last response');
});

test('a 304 carrying the Content-Length of the 200 it stands for (RFC 9110 §8.6) is forwarded, not cut', async (t) => {
  const b = await rawBackend(t, 'a', (_req, socket) => void socket.write('HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 99\r\n\r\n'));
  const w = await connect(t, await rawGateway(t, [b.endpoint]));
  const r = await exchange(w, get('/304', 'If-None-Match: "v1"\r\n'));
  assert.equal(r.status, 304);
  assert.equal(header(r, 'etag'), '"v1"');
  assert.equal((await exchange(w, get('/again'))).status, 304, 'connection still in step');
});

for (const [status, reason] of [[103, 'Early Hints'], [100, 'Continue']] as const) {
  test(`a ${status} ${reason} before the 200: the 200 arrives intact`, async (t) => {
    const b = await rawBackend(t, 'a', (_req, socket) => {
      socket.write(`HTTP/1.1 ${status} ${reason}\r\nLink: </style.css>; rel=preload\r\n\r\n`);
      setTimeout(() => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Final: yes\r\n\r\nfinal'), 10);
    });
    const w = await connect(t, await rawGateway(t, [b.endpoint]));
    const r = await exchange(w, get('/hints'));
    assert.equal(r.status, 200);
    assert.equal(header(r, 'x-final'), 'yes');
    assert.equal(r.body.toString(), 'final');
    // Forwarding an interim response is allowed, as long as it is a well-formed 1xx.
    for (const hint of r.interim) assert.match(hint.line, /^HTTP\/1\.1 1\d\d /);
  });
}

test('hop-by-hop request headers do not reach the instance; end-to-end ones do', async (t) => {
  const b = await rawBackend(t, 'a');
  const w = await connect(t, await rawGateway(t, [b.endpoint]));
  const hop = 'Connection: keep-alive, Foo\r\nFoo: bar\r\nKeep-Alive: timeout=99\r\nTE: trailers\r\nProxy-Authorization: Basic eDp5\r\nProxy-Connection: keep-alive\r\n';
  assert.equal((await exchange(w, get('/hop', hop + 'X-End: kept\r\nAuthorization: Bearer t\r\n'))).status, 200);
  const seen = b.requests[0]!;
  for (const name of ['foo', 'keep-alive', 'te', 'proxy-authorization', 'proxy-connection']) {
    assert.equal(header(seen, name), undefined, `${name} reached the instance`);
  }
  assert.doesNotMatch(header(seen, 'connection') ?? '', /foo/i);
  assert.equal(header(seen, 'x-end'), 'kept');
  assert.equal(header(seen, 'authorization'), 'Bearer t');
});

test('hop-by-hop response headers are not passed to the client as the instance sent them', async (t) => {
  const b = await rawBackend(t, 'a', (_req, socket) => void socket.write(
    'HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: timeout=77, max=3\r\nX-Hop: secret\r\nX-End: kept\r\nContent-Length: 2\r\n\r\nok',
  ));
  const w = await connect(t, await rawGateway(t, [b.endpoint]));
  const r = await exchange(w, get('/'));
  assert.equal(r.status, 200);
  assert.equal(header(r, 'x-hop'), undefined);
  assert.doesNotMatch(header(r, 'connection') ?? '', /x-hop/i);
  assert.doesNotMatch(header(r, 'keep-alive') ?? '', /77|max=3/);
  assert.equal(header(r, 'x-end'), 'kept');
});

test('X-Forwarded-* from a trusted proxy: For appended, Proto and Host kept when present and set when absent; Host preserved', async (t) => {
  const b = await rawBackend(t, 'a');
  const { port } = await startGateway(t, [b.endpoint], {}, { options: { trustedProxies: ['127.0.0.0/8'] } });
  const w = await connect(t, port);
  await exchange(w, get('/plain'));
  await exchange(w, get('/forwarded', 'X-Forwarded-For: 10.0.0.1, 10.0.0.2\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: public.example\r\n'));
  const [plain, fwd] = b.requests;
  assert.equal(header(plain!, 'host'), 's.test');
  assert.equal(header(plain!, 'x-forwarded-for'), '127.0.0.1');
  assert.equal(header(plain!, 'x-forwarded-proto'), 'http');
  assert.equal(header(plain!, 'x-forwarded-host'), 's.test');
  assert.equal(header(fwd!, 'host'), 's.test');
  assert.match(header(fwd!, 'x-forwarded-for') ?? '', /^10\.0\.0\.1, ?10\.0\.0\.2, ?127\.0\.0\.1$/);
  assert.equal(header(fwd!, 'x-forwarded-proto'), 'https');
  assert.equal(header(fwd!, 'x-forwarded-host'), 'public.example');
});

test('path routing: /s/NAME/rest reaches the instance as /rest with the Host kept', async (t) => {
  const b = await rawBackend(t, 'a');
  const port = await rawGateway(t, [b.endpoint]);
  const w = await connect(t, port);
  const r = await exchange(w, `GET /s/s/deep/path?q=1 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  assert.equal(r.status, 200);
  assert.equal(b.requests[0]?.target, '/deep/path?q=1');
  assert.equal(header(b.requests[0]!, 'host'), `127.0.0.1:${port}`);
});

test('client Connection: close: the response arrives, then the gateway closes the connection', async (t) => {
  const b = await rawBackend(t, 'a');
  const w = await connect(t, await rawGateway(t, [b.endpoint]));
  const r = await exchange(w, get('/', 'Connection: close\r\n'));
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'ok');
  await w.closed;
  assert.equal(b.requests.length, 1);
});

test('Expect: 100-continue: the client gets 100 before sending the body, the instance gets the body', async (t) => {
  const b = await rawBackend(t, 'a', echoBodyHash);
  const w = await connect(t, await rawGateway(t, [b.endpoint]));
  w.socket.write('POST /up HTTP/1.1\r\nHost: s.test\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n');
  const cont = await w.readUntil('\r\n\r\n');
  assert.match(cont?.toString() ?? '', /^HTTP\/1\.1 100 /);
  const r = await exchange(w, 'data');
  assert.equal(r.body.toString(), `4 ${sha(Buffer.from('data'))}`);
  assert.equal(header(b.requests[0]!, 'expect'), undefined);
});
