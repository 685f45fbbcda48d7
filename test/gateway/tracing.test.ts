// Tracing and the access log at the gateway (observe.ts, trace-context.ts), on both paths (the raw fast
// path and node:http), against a raw backend that records the headers it gets: a client's traceparent
// keeps its trace id with the gateway's hop as the new parent id, an invalid one starts a new trace,
// none starts one; spans reach a local OTLP/HTTP receiver (JSON) started here, with the cold-start
// child spans of a request that waited for an instance; the access log has a line per request and
// nothing when off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestContext } from 'node:test';
import { connect, exchange, get, header, rawBackend, startGateway } from '../helpers/http1.ts';
import { Observer } from '../../src/gateway/observe.ts';
import type { Logger } from '../../src/core/logger.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const TP = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

function parts(tp: string | undefined): { trace: string; parent: string; flags: string } {
  const m = TP.exec(tp ?? '');
  assert.ok(m, `a valid traceparent: ${tp}`);
  return { trace: m[1]!, parent: m[2]!, flags: m[3]! };
}

/** A local OTLP/HTTP receiver (JSON encoding): every span it got, flattened. */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  status?: { code?: number };
  service: string;
}

async function otlpReceiver(t: TestContext): Promise<{ url: string; spans: OtlpSpan[]; paths: string[]; types: string[] }> {
  const spans: OtlpSpan[] = [];
  const paths: string[] = [];
  const types: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      paths.push(req.url ?? '');
      types.push(String(req.headers['content-type']));
      const doc = JSON.parse(body) as { resourceSpans: Array<{ resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
      for (const rs of doc.resourceSpans) {
        const service = String(rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue);
        for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, service });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, spans, paths, types };
}

function attr(s: OtlpSpan, key: string): unknown {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v === undefined ? undefined : (v.stringValue ?? v.intValue ?? v.doubleValue ?? v.boolValue);
}

/** A logger that keeps what it is given. */
function recordingLogger(): Logger & { lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = (obj: object | string, msg?: string) => void lines.push(typeof obj === 'string' ? { msg: obj } : { ...obj, msg });
  const l: Logger & { lines: typeof lines } = { lines, debug: log, info: log, warn: log, error: log, child: () => l };
  return l;
}

for (const fastPath of [true, false]) {
  const pathName = fastPath ? 'fast path' : 'node:http path';

  test(`traceparent (${pathName}, tracing off): kept trace id with a new parent id, invalid replaced, none created`, async (t) => {
    const b = await rawBackend(t, 'a');
    const { port } = await startGateway(t, [b.endpoint], {}, { options: { fastPath } });
    const w = await connect(t, port);
    const send = async (extra: string) => {
      const r = await exchange(w, get('/x', extra));
      assert.equal(r.status, 200);
      const seen = b.requests.at(-1)!;
      return { tp: header(seen, 'traceparent'), ts: header(seen, 'tracestate'), count: seen.headers.filter(([k]) => k.toLowerCase() === 'traceparent').length };
    };

    // kept: same trace id and flags, the gateway's own parent id; tracestate passed on
    const kept = await send(`traceparent: 00-${TRACE}-${PARENT}-01\r\ntracestate: vendor=abc\r\n`);
    assert.equal(kept.count, 1, 'exactly one traceparent reaches the instance');
    const k = parts(kept.tp);
    assert.equal(k.trace, TRACE);
    assert.notEqual(k.parent, PARENT);
    assert.equal(k.flags, '01');
    assert.equal(kept.ts, 'vendor=abc');

    // invalid (upper-case hex, all-zero trace id, version ff, two of them): a new trace; tracestate dropped
    for (const bad of [`traceparent: 00-${TRACE.toUpperCase()}-${PARENT}-01\r\n`, `traceparent: 00-${'0'.repeat(32)}-${PARENT}-01\r\n`, `traceparent: ff-${TRACE}-${PARENT}-01\r\n`, `traceparent: 00-${TRACE}-${PARENT}-01\r\ntraceparent: 00-${TRACE}-${PARENT}-01\r\n`, 'traceparent: garbage\r\n']) {
      const r = await send(`${bad}tracestate: vendor=abc\r\n`);
      assert.equal(r.count, 1);
      const p = parts(r.tp);
      assert.notEqual(p.trace, TRACE, `replaced: ${JSON.stringify(bad)}`);
      assert.equal(r.ts, undefined, 'tracestate without a valid traceparent is not passed on');
    }

    // none: a new trace each time
    const a = parts((await send('')).tp);
    const c = parts((await send('')).tp);
    assert.notEqual(a.trace, c.trace);
    assert.equal(a.flags, '00', 'not sampled: nothing is recorded with tracing off');
  });

  test(`spans are exported over OTLP/HTTP (${pathName}): the request span is the instance's parent, a held request has cold-start children`, { timeout: 20_000 }, async (t) => {
    const receiver = await otlpReceiver(t);
    const observer = Observer.create({ tracing: { otlpEndpoint: receiver.url, sampleRatio: 1, serviceName: 'skiff-test' } })!;
    t.after(() => observer.shutdown());
    const b = await rawBackend(t, 'inst-a');
    const stages = { instance: 'inst-a', source: 'created', queuedMs: 5, createdMs: 20, startedMs: 10, readyMs: 15 };
    const { port } = await startGateway(t, [], {}, {
      publishOnDemand: { endpoints: [b.endpoint], afterMs: 60 },
      options: { fastPath, observer, onColdStart: () => stages },
    });
    const w = await connect(t, port);
    const cold = await exchange(w, get('/cold?token=secret', `traceparent: 00-${TRACE}-${PARENT}-01\r\n`));
    assert.equal(cold.status, 200);
    assert.ok(header(cold, 'x-skiff-cold-start') !== undefined);
    const warm = await exchange(w, get('/warm'));
    assert.equal(warm.status, 200);
    const [coldSeen, warmSeen] = b.requests.map((r) => parts(header(r, 'traceparent')));
    await observer.flush();
    for (let i = 0; i < 100 && receiver.spans.length < 7; i++) await sleep(20);

    assert.ok(receiver.paths.every((p) => p === '/v1/traces'), receiver.paths.join());
    assert.ok(receiver.types.every((ct) => ct.startsWith('application/json')));
    const servers = receiver.spans.filter((s) => s.name === 'GET s');
    assert.equal(servers.length, 2, receiver.spans.map((s) => s.name).join());
    const coldSpan = servers.find((s) => s.traceId === TRACE)!;
    assert.ok(coldSpan, 'the client trace is kept');
    assert.equal(coldSpan.parentSpanId, PARENT, 'the client span is the parent');
    assert.equal(coldSpan.spanId, coldSeen!.parent, 'the instance gets the request span as its parent');
    assert.equal(coldSpan.service, 'skiff-test');
    assert.equal(attr(coldSpan, 'skiff.service'), 's');
    assert.equal(attr(coldSpan, 'skiff.revision'), 's-1');
    assert.equal(attr(coldSpan, 'skiff.instance'), 'inst-a');
    assert.equal(Number(attr(coldSpan, 'http.response.status_code')), 200);
    assert.equal(attr(coldSpan, 'url.path'), '/cold', 'no query string');
    assert.ok(Number(attr(coldSpan, 'skiff.cold_start_ms')) >= 0);

    const wait = receiver.spans.find((s) => s.name === 'cold start')!;
    assert.ok(wait, 'a cold start span');
    assert.equal(wait.parentSpanId, coldSpan.spanId);
    assert.equal(wait.traceId, TRACE);
    const children = receiver.spans.filter((s) => s.parentSpanId === wait.spanId);
    assert.deepEqual(children.map((s) => s.name).sort(), ['created', 'queued', 'ready', 'started']);
    const dur = (s: OtlpSpan) => Number((BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)) / 1_000_000n);
    const byName = Object.fromEntries(children.map((s) => [s.name, s]));
    assert.equal(dur(byName.created!), 20);
    assert.equal(dur(byName.ready!), 15);
    assert.ok(BigInt(byName.queued!.endTimeUnixNano) <= BigInt(byName.created!.startTimeUnixNano) + 1_000_000n, 'stages end to end');
    assert.equal(byName.ready!.endTimeUnixNano, wait.endTimeUnixNano, 'ready ends when the wait did');

    const warmSpan = servers.find((s) => s.traceId !== TRACE)!;
    assert.equal(warmSpan.parentSpanId ?? '', '', 'a request without traceparent starts a trace');
    assert.equal(warmSpan.traceId, warmSeen!.trace);
    assert.equal(warmSpan.spanId, warmSeen!.parent);
    assert.equal(warmSeen!.flags, '01', 'sampled (ratio 1)');
  });

  test(`access log (${pathName}): a line per request with its fields, the path without the query; none when off`, async (t) => {
    const b = await rawBackend(t, 'inst-a', (_req, socket) => void socket.write('HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello'));
    const log = recordingLogger();
    const observer = Observer.create({ accessLog: log })!;
    const { port } = await startGateway(t, [b.endpoint], {}, { options: { fastPath, observer } });
    const w = await connect(t, port);
    assert.equal((await exchange(w, get('/a/b?secret=1', `traceparent: 00-${TRACE}-${PARENT}-01\r\n`))).status, 201);
    for (let i = 0; i < 50 && log.lines.length < 1; i++) await sleep(10);
    assert.equal(log.lines.length, 1);
    const line = log.lines[0]!;
    assert.equal(line.msg, 'request');
    assert.equal(line.service, 's');
    assert.equal(line.revision, 's-1');
    assert.equal(line.instance, 'inst-a');
    assert.equal(line.method, 'GET');
    assert.equal(line.path, '/a/b');
    assert.equal(line.status, 201);
    assert.equal(line.bytes, 5);
    assert.equal(typeof line.durationMs, 'number');
    assert.equal(line.coldStartMs, undefined);
    assert.equal(line.traceId, TRACE);
    assert.ok(!JSON.stringify(line).includes('secret'));

    // off: no observer, nothing logged by the gateway per request
    const quiet = recordingLogger();
    const b2 = await rawBackend(t, 'inst-b');
    const { Gateway } = await import('../../src/gateway/gateway.ts');
    const gw = new Gateway({ requestCapacity: () => {} }, quiet, { fastPath });
    gw.setRevision('s-1', { concurrency: 0, queueLimit: 10, timeoutMs: 5_000 });
    gw.setEndpoints('s-1', [b2.endpoint]);
    gw.setRoutes([{ service: 's', hosts: ['s.test'], targets: [{ revision: 's-1', percent: 100 }] }]);
    const { port: port2 } = await gw.listen('127.0.0.1', 0);
    t.after(() => gw.close());
    const w2 = await connect(t, port2);
    assert.equal((await exchange(w2, get('/a'))).status, 200);
    await sleep(50);
    assert.deepEqual(quiet.lines, []);
    assert.equal(Observer.create({ tracing: { otlpEndpoint: '', sampleRatio: 1 } }), undefined, 'both off: no observer at all');
  });
}
