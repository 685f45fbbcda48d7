// Async invocations end to end (docs/events.md): a real daemon with runc instances, requests through
// its gateway with Prefer: respond-async — 202 with a Location, read back at the gateway (bare address
// or the service's own) and through the API; retries with back-off until the app answers 2xx, or
// failure after maxAttempts; Idempotency-Key; the callback; and `skiff invoke`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { skiff } from '../helpers/cli.ts';
import { until } from '../helpers/serving.ts';
import { SkiffClient } from '../../src/api/client.ts';
import type { InvocationView } from '../../src/core/events.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;

async function send(url: string, init: RequestInit & { host?: string } = {}): Promise<{ status: number; headers: Headers; text: string }> {
  const { host, ...rest } = init;
  // fetch cannot set Host: node:http for the host form
  if (host) {
    return new Promise((resolve, reject) => {
      const u = new URL(url);
      const req = http.request(u, { method: rest.method ?? 'GET', headers: { ...(rest.headers as Record<string, string>), host } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: new Headers(res.headers as Record<string, string>), text }));
      });
      req.on('error', reject);
      req.end(rest.body as string | undefined);
    });
  }
  const res = await fetch(url, rest);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

async function settled(d: TestDaemon, location: string): Promise<InvocationView> {
  let view: InvocationView | undefined;
  await until('the invocation to finish', async () => {
    view = JSON.parse((await send(`${d.gatewayUrl}${location}`)).text) as InvocationView;
    return view.status === 'succeeded' || view.status === 'failed';
  }, 60_000);
  return view!;
}

test('async invocations: 202 + Location at once, retried with back-off until 2xx, read back at the gateway and the API; idempotency; failure; callback; skiff invoke', { skip, timeout: 240_000 }, async (t) => {
  const callbacks: unknown[] = [];
  const hook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      callbacks.push(JSON.parse(body));
      res.end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  t.after(() => hook.close());
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/done`;

  const d = await startTestDaemon(t, { settings: (s) => void (s.events.callbackNetworks = ['127.0.0.0/8']) });
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const image = await pushHttpdImage(d, uniqueRepo('async'), 'v1');
  // max 1: one instance, so the flaky CGI's per-instance counter is the service's
  assert.equal((await skiff(d, ['deploy', 'work', '--image', image.reference, '--max', '1', '--no-wait'])).code, 0);

  await t.test('accepted at once from a service at zero, delivered after two 500s, the response kept', async () => {
    const started = Date.now();
    const r = await send(`${d.gatewayUrl}/s/work/cgi-bin/flaky?2`, { method: 'POST', headers: { prefer: 'respond-async', 'content-type': 'text/plain', 'x-skiff-callback': hookUrl }, body: 'payload' });
    assert.equal(r.status, 202, r.text);
    assert.ok(Date.now() - started < 2000, 'answered without waiting for a cold start');
    const location = r.headers.get('location')!;
    assert.match(location, /^\/api\/v1\/invocations\/inv-[0-9a-f]{32}$/);
    assert.equal(r.headers.get('preference-applied'), 'respond-async');
    const view = await settled(d, location);
    assert.equal(view.status, 'succeeded', JSON.stringify(view));
    assert.equal(view.attempts, 3);
    assert.equal(view.response?.status, 200);
    assert.equal(view.response?.body, 'attempt 3\n');
    // the same view through the API (with a token), and at the service's own address
    assert.deepEqual(await client.invocation(view.id), view);
    const byHost = await send(`${d.gatewayUrl}${location}`, { host: 'work.localhost' });
    assert.deepEqual(JSON.parse(byHost.text), view);
    // the callback got the finished invocation
    await until('the callback', () => callbacks.length === 1);
    assert.deepEqual(callbacks[0], view);
  });

  await t.test('an Idempotency-Key gives back the first invocation', async () => {
    const headers = { prefer: 'respond-async', 'idempotency-key': 'order-42' };
    const first = await send(`${d.gatewayUrl}/s/work/`, { method: 'POST', headers, body: 'a' });
    const second = await send(`${d.gatewayUrl}/s/work/`, { method: 'POST', headers, body: 'b' });
    assert.equal(first.status, 202);
    assert.equal(second.status, 202);
    assert.equal(second.headers.get('location'), first.headers.get('location'));
    assert.equal((JSON.parse(second.text) as { duplicate?: boolean }).duplicate, true);
  });

  await t.test('an app that keeps failing: failed after maxAttempts with the last error', async () => {
    // the flaky counter is at 3+ now: ?100 fails every time; 5 attempts, 1 s + 2 s + 4 s + 8 s back-off (half of it jitter)
    const r = await send(`${d.gatewayUrl}/s/work/cgi-bin/flaky?100`, { method: 'POST', headers: { prefer: 'respond-async' } });
    const view = await settled(d, r.headers.get('location')!);
    assert.equal(view.status, 'failed');
    assert.equal(view.attempts, 5);
    assert.match(view.lastError ?? '', /HTTP 500 \(attempt 5 of 5\)/);
    assert.equal(view.response?.status, 500);
  });

  await t.test('what the gateway refuses or leaves alone', async () => {
    const big = await send(`${d.gatewayUrl}/s/work/`, { method: 'POST', headers: { prefer: 'respond-async' }, body: 'x'.repeat(1024 * 1024 + 1) });
    assert.equal(big.status, 413);
    assert.match(big.text, /PAYLOAD_TOO_LARGE/);
    const badHook = await send(`${d.gatewayUrl}/s/work/`, { method: 'POST', headers: { prefer: 'respond-async', 'x-skiff-callback': 'file:///etc/passwd' } });
    assert.equal(badHook.status, 400);
    assert.match(badHook.text, /X-Skiff-Callback/);
    const unknown = await send(`${d.gatewayUrl}/api/v1/invocations/inv-${'0'.repeat(32)}`);
    assert.equal(unknown.status, 404);
    // another service's address does not show this service's invocation: the path is that service's own
    assert.equal((await skiff(d, ['deploy', 'other', '--image', image.reference, '--no-wait'])).code, 0);
    const r = await send(`${d.gatewayUrl}/s/work/`, { method: 'POST', headers: { prefer: 'respond-async' } });
    const elsewhere = await send(`${d.gatewayUrl}${r.headers.get('location')}`, { host: 'other.localhost' });
    assert.equal(elsewhere.status, 404, 'answered by the other service (busybox httpd), not by the gateway');
    assert.doesNotMatch(elsewhere.text, /"service":"work"/);
  });

  await t.test('skiff invoke: the answer, or --async the invocation id', async () => {
    const sync = await skiff(d, ['invoke', 'work', '--path', '/cgi-bin/record', '--data', 'hello']);
    assert.equal(sync.code, 0, sync.stderr);
    assert.equal(sync.stdout, 'hello\n');
    const queued = await skiff(d, ['invoke', 'work', '--async', '--path', '/cgi-bin/record', '--data', 'later', '--idempotency-key', 'k1']);
    assert.equal(queued.code, 0, queued.stderr);
    const id = queued.stdout.trim();
    assert.match(id, /^inv-[0-9a-f]{32}$/);
    await until('done', async () => (await client.invocation(id)).status === 'succeeded', 30_000);
    assert.equal((await client.invocation(id)).response?.body, 'later\n');
    const failing = await skiff(d, ['invoke', 'work', '--path', '/cgi-bin/flaky?100']);
    assert.equal(failing.code, 1);
    assert.match(failing.stderr, /^skiff: error UPSTREAM_FAILED: work answered HTTP 500/m);
    const noService = await skiff(d, ['invoke', 'nope']);
    assert.equal(noService.code, 1);
    assert.match(noService.stderr, /NOT_FOUND: no service named nope/);
  });
});
