// Finding 10, gateway parts (pen test): oversized heads got a connection reset instead of the
// documented 431; malformed requests a silent close; client-sent X-Forwarded-Host/-Proto/-For and
// Forwarded reached the app unchanged; two Host headers were accepted; and an instance ending its
// response header lines in a bare LF (busybox CGI) gave 502. Replayed with raw sockets on both sides
// of a real gateway on loopback, on both gateway paths.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect, exchange, get, header, ok, rawBackend, readResponse, startGateway, Truncated, type RawBackend, type Respond, type Response } from '../helpers/http1.ts';
import type { GatewayOptions } from '../../src/gateway/gateway.ts';

function errorOf(r: Response): { code: string; message: string } {
  assert.match(header(r, 'content-type') ?? '', /application\/json/);
  return (JSON.parse(r.body.toString()) as { error: { code: string; message: string } }).error;
}

for (const fastPath of [true, false]) {
  describe(fastPath ? 'fast path' : 'node:http path only', () => {
    async function setup(t: TestContext, respond: Respond = ok, options: GatewayOptions = {}): Promise<{ b: RawBackend; port: number }> {
      const b = await rawBackend(t, 'a', respond);
      const { port } = await startGateway(t, [b.endpoint], {}, { options: { fastPath, ...options } });
      return { b, port };
    }

    test('a head over 16 KiB is answered 431 HEADERS_TOO_LARGE in JSON, not reset', async (t) => {
      const { b, port } = await setup(t);
      const w = await connect(t, port);
      const r = await exchange(w, get('/big', `X-Big: ${'b'.repeat(20 * 1024)}\r\n`));
      assert.equal(r.status, 431);
      assert.equal(errorOf(r).code, 'HEADERS_TOO_LARGE');
      assert.equal(header(r, 'connection'), 'close');
      await w.closed;
      assert.equal(b.requests.length, 0);
    });

    const malformed: [string, string][] = [
      ['a NUL in a header value', 'GET / HTTP/1.1\r\nHost: s.test\r\nX-A: a\0b\r\n\r\n'],
      ['a space in a header name', 'GET / HTTP/1.1\r\nHost: s.test\r\nX A: 1\r\n\r\n'],
      ['a Content-Length that is not a number', 'POST / HTTP/1.1\r\nHost: s.test\r\nContent-Length: abc\r\n\r\n'],
      ['a bare LF line end in the request', 'GET / HTTP/1.1\nHost: s.test\n\n'],
    ];
    for (const [name, raw] of malformed) {
      test(`a malformed request (${name}) is answered 400 BAD_REQUEST with the reason, then closed`, async (t) => {
        const { b, port } = await setup(t);
        const w = await connect(t, port);
        const r = await exchange(w, raw);
        assert.equal(r.status, 400);
        const e = errorOf(r);
        assert.equal(e.code, 'BAD_REQUEST');
        assert.match(e.message, /^malformed request: \S/);
        await w.closed;
        assert.equal(b.requests.length, 0, 'nothing of it reached the instance');
      });
    }

    test('two Host headers, or none in HTTP/1.1, are answered 400 BAD_REQUEST and never reach the instance', async (t) => {
      const { b, port } = await setup(t);
      const two = await exchange(await connect(t, port), 'GET / HTTP/1.1\r\nHost: s.test\r\nHost: evil.test\r\n\r\n');
      assert.equal(two.status, 400);
      assert.equal(errorOf(two).code, 'BAD_REQUEST');
      assert.match(errorOf(two).message, /Host/);
      const none = await exchange(await connect(t, port), 'GET /s/s/ HTTP/1.1\r\nX-A: 1\r\n\r\n');
      assert.equal(none.status, 400);
      const upgrade = await exchange(await connect(t, port), 'GET / HTTP/1.1\r\nHost: s.test\r\nHost: evil.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
      assert.equal(upgrade.status, 400);
      assert.equal(b.requests.length, 0);
      // HTTP/1.0 may leave Host out
      const old = await exchange(await connect(t, port), 'GET /s/s/ HTTP/1.0\r\n\r\n');
      assert.equal(old.status, 200);
    });

    test('client-sent X-Forwarded-* and Forwarded are replaced by what the gateway saw', async (t) => {
      const { b, port } = await setup(t);
      const spoof = 'X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: bank.example\r\nForwarded: for=6.6.6.6;proto=https;host=bank.example\r\n';
      const w = await connect(t, port);
      assert.equal((await exchange(w, get('/', spoof))).status, 200);
      // and on an upgrade, which is relayed by other code
      const u = await connect(t, port);
      await exchange(u, `GET /ws HTTP/1.1\r\nHost: s.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${spoof}\r\n`);
      assert.equal(b.requests.length, 2);
      for (const seen of b.requests) {
        assert.equal(header(seen, 'x-forwarded-for'), '127.0.0.1', seen.target);
        assert.equal(header(seen, 'x-forwarded-proto'), 'http', seen.target);
        assert.equal(header(seen, 'x-forwarded-host'), 's.test', seen.target);
        assert.equal(header(seen, 'forwarded'), 'for=127.0.0.1;host="s.test";proto=http', seen.target);
      }
    });

    test('a trusted proxy (trustedProxies) keeps its X-Forwarded-* / Forwarded and gets the gateway\'s hop appended', async (t) => {
      const { b, port } = await setup(t, ok, { trustedProxies: ['127.0.0.0/8'] });
      const w = await connect(t, port);
      await exchange(w, get('/', 'X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: app.example\r\nForwarded: for=203.0.113.7;proto=https\r\n'));
      const [seen] = b.requests;
      assert.equal(header(seen!, 'x-forwarded-for'), '203.0.113.7, 127.0.0.1');
      assert.equal(header(seen!, 'x-forwarded-proto'), 'https');
      assert.equal(header(seen!, 'x-forwarded-host'), 'app.example');
      assert.equal(header(seen!, 'forwarded'), 'for=203.0.113.7;proto=https, for=127.0.0.1;host="s.test";proto=http');
    });

    test('an instance ending its header lines in a bare LF (busybox CGI) is answered, with CRLF to the client', async (t) => {
      const { port } = await setup(t, (req, socket) => {
        const body = `cgi ${req.target}`;
        socket.write(`HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: ${body.length}\n\n${body}`);
      });
      const w = await connect(t, port);
      for (const target of ['/one', '/two']) {
        let r: Response;
        try {
          r = await exchange(w, get(target));
        } catch (e) {
          assert.ok(e instanceof Truncated && target === '/two', String(e)); // closing after it is allowed
          break;
        }
        assert.equal(r.status, 200, r.body.toString());
        assert.equal(r.body.toString(), `cgi ${target}`);
        assert.equal(header(r, 'content-type'), 'text/plain');
        assert.doesNotMatch(r.rawHead.toString('latin1'), /[^\r]\n/, 'bare LF passed on to the client');
      }
    });

    test('a bare-LF head whose body holds a CRLFCRLF is framed by the head that ends first', async (t) => {
      const { port } = await setup(t, (_req, socket) => void socket.write('HTTP/1.1 200 OK\nContent-Length: 8\n\nab\r\n\r\ncd'));
      const r = await exchange(await connect(t, port), get('/'));
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'ab\r\n\r\ncd');
    });

    // Fast path only: on the node:http path any 1xx before the final answer fails today, CRLF or not
    // (undici hands it to forward.ts as a response head). Not one of these findings; a known gap
    // (docs/security.md), not a skipped test.
    if (fastPath) test('a 103 Early Hints with bare LF before the final answer is passed on', async (t) => {
      const { port } = await setup(t, (_req, socket) => void socket.write('HTTP/1.1 103 Early Hints\nLink: </a.css>\n\nHTTP/1.1 200 OK\nContent-Length: 2\n\nok'));
      const w = await connect(t, port);
      w.socket.write(get('/'));
      const r = await readResponse(w);
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'ok');
    });
  });
}
