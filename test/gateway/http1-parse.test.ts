// Table-driven unit tests of the fast path's pure HTTP/1.1 pieces: request head parsing and the head
// sent upstream (http1.ts), response framing (http1.ts) and the chunked-body end scanner (chunked.ts).
// Every refused request form must return undefined (the connection then goes to node:http); every
// chunked body must end at the same byte however it is split into buffers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lenientResponseHead, parseRequestHead, parseResponseHead, upstreamRequestHead, type Framing } from '../../src/gateway/http1.ts';
import { ChunkedScanner, CHUNKED_MALFORMED } from '../../src/gateway/chunked.ts';

/** A request head (without its final CRLFCRLF) from a request line and header lines. */
const req = (lines: string[], line = 'GET /p?q=1 HTTP/1.1') => [line, ...lines].join('\r\n');
const H = 'Host: s.test';

test('request head: plain forms are accepted with their fields', () => {
  const r = parseRequestHead(req([H, 'Accept:  text/html \t', 'Content-Length: 12', 'X-Empty:']));
  assert.ok(r);
  assert.equal(r.method, 'GET');
  assert.equal(r.target, '/p?q=1');
  assert.equal(r.host, 's.test');
  assert.equal(r.contentLength, 12);
  assert.equal(r.close, false);
  // kept lines are forwarded exactly as sent
  assert.equal(r.kept, 'Host: s.test\r\nAccept:  text/html \t\r\nContent-Length: 12\r\nX-Empty:\r\n');
  assert.equal(parseRequestHead(req([H]))?.contentLength, 0);
  assert.equal(parseRequestHead(req([H], 'PATCH /a/b%20c HTTP/1.1'))?.method, 'PATCH');
  assert.equal(parseRequestHead(req(['hOsT:s.test']))?.host, 's.test');
  assert.equal(parseRequestHead(req([H, 'content-length: 000']))?.contentLength, 0);
  assert.equal(parseRequestHead(req([H, 'Content-Length: 999999999999999']))?.contentLength, 999999999999999);
  assert.equal(parseRequestHead(req([H, 'X-Latin: caf\xe9']))?.kept, 'Host: s.test\r\nX-Latin: caf\xe9\r\n');
});

test('request head: Connection close / keep-alive, and hop-by-hop headers dropped', () => {
  const cases: [string, boolean][] = [
    ['Connection: close', true],
    ['Connection: Close', true],
    ['Connection: keep-alive', false],
    ['Connection: keep-alive, close', true],
    ['Connection: ,close,', true],
    ['Connection:', false],
  ];
  for (const [line, close] of cases) {
    const r = parseRequestHead(req([H, line]));
    assert.ok(r, line);
    assert.equal(r.close, close, line);
    assert.equal(r.kept, 'Host: s.test\r\n', `${line}: Connection itself is not forwarded`);
  }
  const hop = ['Keep-Alive: timeout=5', 'Proxy-Authorization: Basic x', 'Proxy-Authenticate: x', 'Proxy-Connection: keep-alive', 'TE: trailers', 'Trailer: X-T'];
  const r = parseRequestHead(req([H, ...hop, 'X-End: 1']));
  assert.ok(r);
  assert.equal(r.kept, 'Host: s.test\r\nX-End: 1\r\n');
});

test('request head: X-Forwarded-* / Forwarded merged with duplicates, then replaced upstream (or appended to, from a trusted proxy)', () => {
  const r = parseRequestHead(req([H, 'X-Forwarded-For: 1.1.1.1', 'x-forwarded-for:  2.2.2.2 ', 'X-Forwarded-Proto: https', 'X-Forwarded-Host: a.example', 'X-Forwarded-Host: b.example', 'Forwarded: for=1.1.1.1']));
  assert.ok(r);
  assert.equal(r.forwardedFor, '1.1.1.1, 2.2.2.2');
  assert.equal(r.forwardedProto, 'https');
  assert.equal(r.forwardedHost, 'a.example, b.example');
  assert.equal(r.forwarded, 'for=1.1.1.1');
  assert.equal(r.kept, 'Host: s.test\r\n', 'X-Forwarded-* are re-emitted, not kept');
  assert.equal(
    upstreamRequestHead(r, '/app', '10.0.0.9'),
    'GET /app HTTP/1.1\r\nHost: s.test\r\nx-forwarded-for: 10.0.0.9\r\nx-forwarded-proto: http\r\nx-forwarded-host: s.test\r\nforwarded: for=10.0.0.9;host="s.test";proto=http\r\n\r\n',
  );
  assert.equal(
    upstreamRequestHead(r, '/app', '10.0.0.9', true),
    'GET /app HTTP/1.1\r\nHost: s.test\r\nx-forwarded-for: 1.1.1.1, 2.2.2.2, 10.0.0.9\r\nx-forwarded-proto: https\r\nx-forwarded-host: a.example, b.example\r\nforwarded: for=1.1.1.1, for=10.0.0.9;host="s.test";proto=http\r\n\r\n',
  );
  const bare = parseRequestHead(req([H, 'Content-Length: 3'], 'POST / HTTP/1.1'));
  assert.ok(bare);
  assert.equal(
    upstreamRequestHead(bare, '/', '::1', true),
    'POST / HTTP/1.1\r\nHost: s.test\r\nContent-Length: 3\r\nx-forwarded-for: ::1\r\nx-forwarded-proto: http\r\nx-forwarded-host: s.test\r\nforwarded: for="[::1]";host="s.test";proto=http\r\n\r\n',
  );
});

test('response head with bare LF line ends (RFC 9112 §2.2): found and rewritten with CRLF; a bare CR stays refused', () => {
  const buf = Buffer.from('HTTP/1.1 200 OK\nContent-Type: text/plain\r\nContent-Length: 4\n\nbody\r\n\r\n');
  const l = lenientResponseHead(buf, 1024);
  assert.ok(l);
  assert.equal(l.head, 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4');
  assert.equal(buf.subarray(l.next).toString(), 'body\r\n\r\n');
  assert.deepEqual(parseResponseHead(l.head, 'GET')?.framing, { kind: 'length', length: 4 });
  const plain = lenientResponseHead(Buffer.from('HTTP/1.1 204 No Content\r\nX: y\r\n\r\n'), 1024);
  assert.equal(plain?.next, 'HTTP/1.1 204 No Content\r\nX: y\r\n\r\n'.length);
  assert.equal(lenientResponseHead(Buffer.from('HTTP/1.1 200 OK\nContent-Length: 4\n'), 1024), undefined, 'no blank line yet');
  const cr = lenientResponseHead(Buffer.from('HTTP/1.1 200 OK\nX-A: a\rb\n\n'), 1024);
  assert.equal(cr && parseResponseHead(cr.head, 'GET'), undefined);
});

const REFUSED_REQUESTS: [string, string][] = [
  ['obs-fold', req([H, 'X-A: 1', ' folded'])],
  ['obs-fold with HT', req([H, 'X-A: 1', '\tfolded'])],
  ['bare CR in a value', req([H, 'X-A: a\rb'])],
  ['bare LF in a value', req([H, 'X-A: a\nb'])],
  ['bare LF line end', 'GET / HTTP/1.1\nHost: s.test'],
  ['NUL in a value', req([H, 'X-A: a\x00b'])],
  ['control byte in a value', req([H, 'X-A: a\x01b'])],
  ['DEL in a value', req([H, 'X-A: a\x7fb'])],
  ['vertical tab in a value', req([H, 'X-A: a\x0bb'])],
  ['space before colon', req([H, 'Content-Length : 5'])],
  ['tab before colon', req([H, 'Content-Length\t: 5'])],
  ['empty header name', req([H, ': x'])],
  ['line without colon', req([H, 'X-A'])],
  ['empty header line', req([H, '', 'X-A: 1'])],
  ['non-token header name', req([H, 'X(A): 1'])],
  ['duplicate Content-Length, same value', req([H, 'Content-Length: 5', 'Content-Length: 5'])],
  ['duplicate Content-Length, different values', req([H, 'Content-Length: 5', 'Content-Length: 6'])],
  ['Content-Length list', req([H, 'Content-Length: 5, 5'])],
  ['signed Content-Length +', req([H, 'Content-Length: +5'])],
  ['signed Content-Length -', req([H, 'Content-Length: -5'])],
  ['spaced Content-Length', req([H, 'Content-Length: 5 5'])],
  ['hex Content-Length', req([H, 'Content-Length: 0x5'])],
  ['fractional Content-Length', req([H, 'Content-Length: 5.0'])],
  ['empty Content-Length', req([H, 'Content-Length:'])],
  ['overlong Content-Length (16 digits)', req([H, 'Content-Length: 1000000000000000'])],
  ['Transfer-Encoding chunked', req([H, 'Transfer-Encoding: chunked'])],
  ['Transfer-Encoding identity', req([H, 'transfer-encoding: identity'])],
  ['Transfer-Encoding with Content-Length', req([H, 'Content-Length: 5', 'Transfer-Encoding: chunked'])],
  ['Upgrade', req([H, 'Connection: upgrade', 'Upgrade: websocket'])],
  ['Upgrade alone', req([H, 'Upgrade: websocket'])],
  ['Expect', req([H, 'Expect: 100-continue'])],
  ['HTTP2-Settings', req([H, 'HTTP2-Settings: AAA'])],
  ['Connection naming another header', req([H, 'Connection: X-Secret', 'X-Secret: 1'])],
  ['Connection naming a header among keep-alive', req([H, 'Connection: keep-alive, X-Secret'])],
  ['two Host headers', req([H, 'Host: other.test'])],
  ['two identical Host headers', req([H, H])],
  ['no Host', req(['Accept: */*'])],
  ['HTTP/1.0', req([H], 'GET / HTTP/1.0')],
  ['HTTP/2.0', req([H], 'GET / HTTP/2.0')],
  ['absolute-form', req([H], 'GET http://s.test/ HTTP/1.1')],
  ['asterisk-form', req([H], 'OPTIONS * HTTP/1.1')],
  ['authority-form', req([H], 'CONNECT s.test:80 HTTP/1.1')],
  ["lowercase 'http/1.1'", req([H], 'GET / http/1.1')],
  ['two spaces in the request line', req([H], 'GET  / HTTP/1.1')],
  ['space in the target', req([H], 'GET /a b HTTP/1.1')],
  ['trailing space in the request line', req([H], 'GET / HTTP/1.1 ')],
  ['non-token method', req([H], 'G(T / HTTP/1.1')],
  ['no headers at all', 'GET / HTTP/1.1'],
  ['empty head', ''],
];

test('request head: every refused form returns undefined', () => {
  for (const [name, head] of REFUSED_REQUESTS) assert.equal(parseRequestHead(head), undefined, name);
});

test('request head: Content-Length padded with a non-OWS space (NBSP) is refused', () => {
  assert.equal(parseRequestHead(req([H, 'Content-Length: \xa05'])), undefined);
  assert.equal(parseRequestHead(req([H, 'Content-Length: 5\xa0'])), undefined);
});

const res = (headerLines: string[], status = 'HTTP/1.1 200 OK') => [status, ...headerLines].join('\r\n');
/** The lines of a head for the client, whether or not it ends in CRLF. */
const lines = (head: string | undefined) => head?.split('\r\n').filter((l) => l !== '');

test('response head: framing table', () => {
  const cases: [string, string, string, Framing, boolean][] = [
    // name, head, request method, framing, upstreamClose
    ['Content-Length', res(['Content-Length: 5']), 'GET', { kind: 'length', length: 5 }, false],
    ['identical duplicate lengths', res(['Content-Length: 5', 'Content-Length: 5']), 'GET', { kind: 'length', length: 5 }, false],
    ['no length: read to close', res([]), 'GET', { kind: 'close' }, true],
    ['HEAD with a length', res(['Content-Length: 5']), 'HEAD', { kind: 'none' }, false],
    ['HEAD chunked', res(['Transfer-Encoding: chunked']), 'HEAD', { kind: 'none' }, false],
    ['103', res(['Link: </a>'], 'HTTP/1.1 103 Early Hints'), 'GET', { kind: 'none' }, false],
    ['100', res([], 'HTTP/1.1 100 Continue'), 'GET', { kind: 'none' }, false],
    ['204', res([], 'HTTP/1.1 204 No Content'), 'GET', { kind: 'none' }, false],
    ['304 with a length', res(['Content-Length: 9'], 'HTTP/1.1 304 Not Modified'), 'GET', { kind: 'none' }, false],
    ['chunked', res(['Transfer-Encoding: chunked']), 'GET', { kind: 'chunked' }, false],
    ['gzip, chunked', res(['Transfer-Encoding: gzip, chunked']), 'GET', { kind: 'chunked' }, false],
    ['chunked + length', res(['Content-Length: 5', 'Transfer-Encoding: chunked']), 'GET', { kind: 'chunked' }, false],
    ['other coding', res(['Transfer-Encoding: gzip']), 'GET', { kind: 'close' }, true],
    ['chunked, gzip', res(['Transfer-Encoding: chunked, gzip']), 'GET', { kind: 'close' }, true],
    ['other coding + length', res(['Content-Length: 5', 'Transfer-Encoding: gzip']), 'GET', { kind: 'close' }, true],
    ['Connection: close', res(['Content-Length: 5', 'Connection: close']), 'GET', { kind: 'length', length: 5 }, true],
    ['HTTP/1.0 without keep-alive', res(['Content-Length: 5'], 'HTTP/1.0 200 OK'), 'GET', { kind: 'length', length: 5 }, true],
    ['HTTP/1.0 with keep-alive', res(['Content-Length: 5', 'Connection: Keep-Alive'], 'HTTP/1.0 200 OK'), 'GET', { kind: 'length', length: 5 }, false],
    ['HTTP/1.0 to close', res([], 'HTTP/1.0 200 OK'), 'GET', { kind: 'close' }, true],
    ['no reason phrase', res(['Content-Length: 0'], 'HTTP/1.1 200'), 'GET', { kind: 'length', length: 0 }, false],
  ];
  for (const [name, head, method, framing, upstreamClose] of cases) {
    const r = parseResponseHead(head, method);
    assert.ok(r, name);
    assert.deepEqual(r.framing, framing, name);
    assert.equal(r.upstreamClose, upstreamClose, name);
  }
});

test('response head: the head for the client', () => {
  const both = parseResponseHead(res(['Content-Length: 5', 'X-A: 1', 'Transfer-Encoding: chunked', 'content-length: 5']), 'GET');
  assert.deepEqual(lines(both?.head), ['HTTP/1.1 200 OK', 'X-A: 1', 'Transfer-Encoding: chunked'], 'chunked + length: the length is removed');
  const named = parseResponseHead(res(['Connection: X-Secret, close', 'X-Secret: 1', 'x-secret: 2', 'X-Kept: 1', 'Content-Length: 0']), 'GET');
  assert.deepEqual(lines(named?.head), ['HTTP/1.1 200 OK', 'X-Kept: 1', 'Content-Length: 0'], 'Connection and the headers it names are stripped');
  assert.equal(named?.upstreamClose, true);
  const hop = parseResponseHead(res(['Keep-Alive: timeout=5', 'Trailer: X-T', 'Upgrade: h2c', 'Proxy-Authenticate: x', 'Content-Length: 0']), 'GET');
  assert.deepEqual(lines(hop?.head), ['HTTP/1.1 200 OK', 'Content-Length: 0']);
  assert.deepEqual(lines(parseResponseHead(res(['Content-Length: 0'], 'HTTP/1.0 404 Not Found'), 'GET')?.head), ['HTTP/1.1 404 Not Found', 'Content-Length: 0'], 'HTTP/1.0 is answered as 1.1');
  assert.equal(parseResponseHead(res([], 'HTTP/1.1 599 Odd'), 'GET')?.status, 599);
});

const REFUSED_RESPONSES: [string, string][] = [
  ['differing duplicate lengths', res(['Content-Length: 5', 'Content-Length: 6'])],
  ['Content-Length list', res(['Content-Length: 5, 5'])],
  ['signed Content-Length', res(['Content-Length: +5'])],
  ['overlong Content-Length', res(['Content-Length: 1000000000000000'])],
  ['obs-fold', res(['X-A: 1', ' folded'])],
  ['bare LF', 'HTTP/1.1 200 OK\nContent-Length: 0'],
  ['bare CR', res(['X-A: a\rb'])],
  ['NUL', res(['X-A: \x00'])],
  ['space before colon', res(['Content-Length : 5'])],
  ['HTTP/2 status line', 'HTTP/2 200 OK'],
  ['HTTP/1.2 status line', 'HTTP/1.2 200 OK'],
  ['two-digit status', 'HTTP/1.1 20 OK'],
  ['status 099', 'HTTP/1.1 099 Odd'],
  ['lowercase http', 'http/1.1 200 OK'],
  ['empty', ''],
];

test('response head: malformed heads return undefined', () => {
  for (const [name, head] of REFUSED_RESPONSES) assert.equal(parseResponseHead(head, 'GET'), undefined, name);
});

/** Runs a scanner over `parts` in order; returns the end offset within the concatenation, -1 or MALFORMED. */
function scanParts(parts: Buffer[]): number {
  const s = new ChunkedScanner();
  let base = 0;
  for (const p of parts) {
    const end = s.scan(p);
    if (end === CHUNKED_MALFORMED) return CHUNKED_MALFORMED;
    if (end >= 0) return base + end;
    base += p.length;
  }
  return -1;
}

/** The same bytes fed whole, byte by byte, and split in two at every offset: one answer. */
function scanEveryWay(text: string): number {
  const buf = Buffer.from(text, 'latin1');
  const whole = scanParts([buf]);
  const bytes = scanParts([...buf].map((b) => Buffer.from([b])));
  assert.equal(bytes, whole, `byte by byte: ${JSON.stringify(text)}`);
  for (let i = 0; i <= buf.length; i++) assert.equal(scanParts([buf.subarray(0, i), buf.subarray(i)]), whole, `split at ${i}: ${JSON.stringify(text)}`);
  return whole;
}

const AFTER = 'GET /next HTTP/1.1\r\n\r\n';

test('chunked: complete bodies end at the same byte however they are split', () => {
  const bodies = [
    '0\r\n\r\n',
    '5\r\nhello\r\n0\r\n\r\n',
    'A\r\n0123456789\r\n1\r\nx\r\n0\r\n\r\n',
    'a\r\n0123456789\r\n0\r\n\r\n',
    'Ff\r\n' + 'y'.repeat(255) + '\r\n0\r\n\r\n',
    '5;name=value\r\nhello\r\n0;last\r\n\r\n',
    '5 ;x="a b"\r\nhello\r\n0\t\r\n\r\n',
    '5\r\nhello\r\n0\r\nX-Trailer: 1\r\nX-Other: two\r\n\r\n',
    '000000000003\r\nabc\r\n0\r\n\r\n', // 12 hex digits
    '3\r\n\r\n\r\r\n0\r\n\r\n', // data that looks like framing
  ];
  for (const body of bodies) {
    assert.equal(scanEveryWay(body), body.length, JSON.stringify(body));
    assert.equal(scanEveryWay(body + AFTER), body.length, `followed by more bytes: ${JSON.stringify(body)}`);
  }
  // a scanner may start mid-buffer
  const lead = Buffer.from('HEAD5\r\nhello\r\n0\r\n\r\nrest', 'latin1');
  assert.equal(new ChunkedScanner().scan(lead, 4), lead.length - 4);
});

test('chunked: incomplete bodies ask for more', () => {
  for (const body of ['', '5', '5\r\nhel', '5\r\nhello\r\n', '5\r\nhello\r\n0\r\n', '0\r\nX-T: 1\r\n', '0\r\n\r']) {
    assert.equal(scanEveryWay(body), -1, JSON.stringify(body));
  }
});

test('chunked: malformed framing is reported however it is split', () => {
  const bad = [
    'x\r\n',
    ';ext\r\n',
    '\r\n',
    '-5\r\nhello\r\n0\r\n\r\n',
    '0x5\r\nhello\r\n0\r\n\r\n',
    '5\nhello\r\n0\r\n\r\n', // bare LF after the size
    '5\r\rhello',
    '5;ext\nhello',
    '5\r\nhelloX\r\n0\r\n\r\n', // no CRLF after the data
    '5\r\nhello\n0\r\n\r\n',
    '5\r\nhello\rX',
    '0000000000001\r\nx\r\n0\r\n\r\n', // 13 hex digits
    'fffffffffffff\r\n', // 13 hex digits
    '0\r\nX-T: 1\nX',
    '0\r\n\n',
    '0\r\n\rX',
  ];
  for (const body of bad) assert.equal(scanEveryWay(body), CHUNKED_MALFORMED, JSON.stringify(body));
});
