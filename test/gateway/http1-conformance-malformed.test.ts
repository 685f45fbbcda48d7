// HTTP/1.1 conformance of the gateway facing malformed and ambiguous messages (RFC 9112 §6.3, §11.2):
// each request below carries a second request, GET /smuggled, where one reading of the framing puts
// it in the body and another makes it a request of its own. The gateway must refuse the message (4xx,
// or close the connection) or frame it one safe way, and the raw instance — which reads framing
// leniently, like a sloppy app server — must never receive /smuggled.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect, exchange, get, header, rawBackend, rawGateway, readResponse, Truncated, type RawBackend, type Respond } from '../helpers/http1.ts';

const echoTarget: Respond = (req, socket) => void socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${req.target.length}\r\n\r\n${req.target}`);

/** The smuggled request, padded so that any reading of the lengths below finds enough bytes. */
const SMUGGLED = `GET /smuggled HTTP/1.1\r\nHost: s.test\r\nX-Pad: ${'p'.repeat(60)}\r\n\r\n`;
const LAST_CHUNK = '0\r\n\r\n';
const post = (headerLines: string) => `POST / HTTP/1.1\r\nHost: s.test\r\n${headerLines}\r\n`;

interface Outcome {
  /** statuses of the responses read on the connection before the sentinel's (or the close) */
  statuses: number[];
  backend: RawBackend;
}

/**
 * Sends `raw`, then a sentinel request on the same connection if it is still open, and reads until
 * the sentinel is answered or the gateway closes: in-order responses mean that by then anything the
 * gateway read out of `raw` has reached the instance. Finally checks the gateway still serves.
 */
async function attack(t: TestContext, raw: string): Promise<Outcome> {
  const backend = await rawBackend(t, 'a', echoTarget);
  const port = await rawGateway(t, [backend.endpoint]);
  const w = await connect(t, port);
  w.socket.write(raw);
  const statuses: number[] = [];
  let sentinelSent = false;
  for (;;) {
    let r;
    try {
      r = await readResponse(w);
    } catch (e) {
      assert.ok(e instanceof Truncated, String(e));
      break;
    }
    if (r.body.toString() === '/sentinel') break;
    statuses.push(r.status);
    if (!sentinelSent && !w.socket.destroyed) {
      sentinelSent = true;
      w.socket.write(get('/sentinel'));
    }
  }
  const fresh = await connect(t, port);
  assert.equal((await exchange(fresh, get('/alive'))).status, 200, 'the gateway still serves new connections');
  for (const req of backend.requests) {
    assert.notEqual(req.target, '/smuggled', 'a smuggled request reached the instance');
    assert.doesNotMatch(req.rawHead.toString('latin1'), /\r\n[ \t]|[^\r]\n[^\r]|\0/, 'obs-fold, bare LF or NUL forwarded to the instance');
  }
  return { statuses, backend };
}

const refused = (s: number) => (s >= 400 && s < 500) || s === 505;

// Messages with no valid framing: refused (4xx / 505) or the connection closed unanswered.
const invalid: [string, string][] = [
  ['two different Content-Length values', post(`Content-Length: 5\r\nContent-Length: ${5 + SMUGGLED.length}\r\n`) + 'hello' + SMUGGLED],
  ['Content-Length with a sign', post('Content-Length: +5\r\n') + 'hello' + SMUGGLED],
  ['Content-Length with a space inside', post('Content-Length: 5 0\r\n') + 'hello' + SMUGGLED],
  ['Transfer-Encoding whose final coding is not chunked, with a Content-Length', post('Transfer-Encoding: chunked, identity\r\nContent-Length: 5\r\n') + LAST_CHUNK + SMUGGLED],
  ['an invalid chunk size', post('Transfer-Encoding: chunked\r\n') + `zz\r\nhello\r\n${LAST_CHUNK}` + SMUGGLED],
  ['a NUL in a header value', `GET / HTTP/1.1\r\nHost: s.test\r\nX-A: a\0b\r\n\r\n` + SMUGGLED],
  ['request line HTTP/2.0', 'GET /h2 HTTP/2.0\r\nHost: s.test\r\n\r\n' + SMUGGLED],
  ['a head over 16 KiB', `GET /big HTTP/1.1\r\nHost: s.test\r\nX-Big: ${'b'.repeat(20 * 1024)}\r\n\r\n` + SMUGGLED],
];

for (const [name, raw] of invalid) {
  test(`malformed: ${name} is refused and smuggles nothing`, { timeout: 5_000 }, async (t) => {
    const { statuses, backend } = await attack(t, raw);
    assert.ok(statuses.every(refused), `answered ${statuses.join(', ')}`);
    assert.ok(!backend.requests.some((r) => r.target === '/h2' || r.target === '/big'), 'the refused request reached the instance');
  });
}

// Ambiguous messages a proxy may refuse, or frame one safe way (RFC 9112 §6.1: Transfer-Encoding
// wins over Content-Length, and the connection is closed after the response).
const ambiguous: [string, string][] = [
  ['both Content-Length and Transfer-Encoding', post(`Content-Length: ${LAST_CHUNK.length + SMUGGLED.length}\r\nTransfer-Encoding: chunked\r\n`) + LAST_CHUNK + SMUGGLED],
  ['an obs-fold line hiding Transfer-Encoding', post(`Content-Length: ${LAST_CHUNK.length + SMUGGLED.length}\r\nX-A: 1\r\n Transfer-Encoding: chunked\r\n`) + LAST_CHUNK + SMUGGLED],
  ['a bare LF hiding Transfer-Encoding', post(`Content-Length: ${LAST_CHUNK.length + SMUGGLED.length}\r\nX-A: 1\nTransfer-Encoding: chunked\r\n`) + LAST_CHUNK + SMUGGLED],
];

for (const [name, raw] of ambiguous) {
  test(`ambiguous: ${name} is refused or framed safely and smuggles nothing`, { timeout: 5_000 }, async (t) => {
    const { statuses } = await attack(t, raw);
    assert.ok(statuses.every((s) => s === 200 || refused(s)), `answered ${statuses.join(', ')}`);
  });
}

test('absolute-form request target naming the routed host: answered for the path it names (or refused), never a 5xx', async (t) => {
  const b = await rawBackend(t, 'a', echoTarget);
  const w = await connect(t, await rawGateway(t, [b.endpoint]));
  const r = await exchange(w, 'GET http://s.test/abs?q=1 HTTP/1.1\r\nHost: s.test\r\n\r\n');
  assert.ok(r.status === 200 || (r.status >= 400 && r.status < 500), `answered ${r.status} ${r.body.toString().slice(0, 200)}`);
  if (r.status === 200) assert.match(b.requests[0]?.target ?? '', /^(http:\/\/s\.test)?\/abs\?q=1$/);
});

test('absolute-form request target naming another host than Host: the instance never sees the two disagree', async (t) => {
  const b = await rawBackend(t, 'a', echoTarget);
  const w = await connect(t, await rawGateway(t, [b.endpoint]));
  const r = await exchange(w, 'GET http://evil.test/x HTTP/1.1\r\nHost: s.test\r\n\r\n');
  assert.ok(r.status < 500, `answered ${r.status}`);
  for (const req of b.requests) {
    const authority = /^[a-z]+:\/\/([^/?#]*)/i.exec(req.target)?.[1];
    if (authority !== undefined) assert.equal(authority, header(req, 'host'), `target ${req.target} with Host ${header(req, 'host')}`);
  }
});

test('instance answers with two different Content-Length values: the client gets 502 or a cut, not the message', async (t) => {
  const b = await rawBackend(t, 'a', (_req, socket) => void socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 30\r\n\r\nok' + 'x'.repeat(28)));
  const w = await connect(t, await rawGateway(t, [b.endpoint]));
  try {
    const r = await exchange(w, get('/'));
    assert.equal(r.status, 502);
  } catch (e) {
    assert.ok(e instanceof Truncated, String(e));
  }
});

test('instance answers with both Content-Length and Transfer-Encoding: refused, or passed on with one framing', async (t) => {
  const b = await rawBackend(t, 'a', (_req, socket) => void socket.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'));
  const w = await connect(t, await rawGateway(t, [b.endpoint]));
  const r = await exchange(w, get('/'));
  if (r.status === 502) return;
  assert.equal(r.status, 200);
  assert.ok(header(r, 'content-length') === undefined || header(r, 'transfer-encoding') === undefined, 'both framings passed to the client');
  assert.equal(r.body.toString(), 'hello');
});
