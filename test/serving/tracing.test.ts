// Tracing end to end with real runc: a daemon exporting to a local OTLP/HTTP receiver (JSON) started
// here, a service scaled from zero, and a request with a client traceparent. The instance (busybox
// httpd CGI printing its environment) sees the client's trace id with the gateway's span as parent; the
// receiver gets the request span and, under its `cold start` span, the scheduler's stages of the
// instance started for it (queued, created, started, ready).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { FAST } from '../helpers/serving.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;
const TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT = 'b7ad6b7169203331';

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Array<{ key: string; value: { stringValue?: string; intValue?: string | number } }>;
}

test('a request that scaled a service from zero: traceparent reaches the instance, spans with cold-start stages reach the OTLP receiver', { skip, timeout: 120_000 }, async (t) => {
  const spans: Span[] = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const doc = JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Span[] }> }> };
      for (const rs of doc.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  t.after(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
  const endpoint = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;

  const d = await startTestDaemon(t, {
    settings: (s) => {
      s.tracing = { otlpEndpoint: endpoint, sampleRatio: 1 };
      s.coldStart.poolPerRevision = 0; // the instance is created for the request: every stage is there
    },
  });
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const name = `trace${process.pid.toString(36)}`;
  const image = await pushHttpdImage(d, uniqueRepo('tracing'), 'v1');
  await client.deploy({ name, image: image.reference, scaling: FAST });

  const res = await fetch(`${d.gatewayUrl}/s/${name}/cgi-bin/env?x=secret`, { headers: { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'acme=1' } });
  assert.equal(res.status, 200);
  assert.ok(res.headers.get('x-skiff-cold-start') !== null, 'it waited for an instance');
  const env = await res.text();
  const seen = /^HTTP_TRACEPARENT=00-([0-9a-f]{32})-([0-9a-f]{16})-01$/m.exec(env);
  assert.ok(seen, `the instance got a traceparent:\n${env}`);
  assert.equal(seen[1], TRACE, 'the client trace id is kept');
  assert.notEqual(seen[2], PARENT, 'with the gateway hop as parent');
  assert.match(env, /^HTTP_TRACESTATE=acme=1$/m);

  for (let i = 0; i < 100 && !spans.some((s) => s.name === 'ready'); i++) await sleep(100);
  const server = spans.find((s) => s.name === `GET ${name}` && s.traceId === TRACE);
  assert.ok(server, `a request span: ${spans.map((s) => s.name).join()}`);
  assert.equal(server.parentSpanId, PARENT);
  assert.equal(server.spanId, seen[2], 'the instance parent is the request span');
  const str = (s: Span, k: string) => s.attributes.find((a) => a.key === k)?.value.stringValue;
  assert.equal(str(server, 'url.path'), `/s/${name}/cgi-bin/env`, 'the path the client asked for, without its query');
  const wait = spans.find((s) => s.name === 'cold start' && s.parentSpanId === server.spanId);
  assert.ok(wait, 'a cold start span under the request');
  assert.equal(str(wait, 'skiff.cold_start.source'), 'created');
  assert.ok(str(wait, 'skiff.instance')?.startsWith(name));
  assert.deepEqual(spans.filter((s) => s.parentSpanId === wait.spanId).map((s) => s.name).sort(), ['created', 'queued', 'ready', 'started']);
});
