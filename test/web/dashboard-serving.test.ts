// The dashboard as the daemon serves it (src/daemon/dashboard.ts), without a browser: the built page at
// / with its CSP and caching, hashed assets, no way out of dist/web, no external URL in what is built,
// the size budget, and a clear 503 when there is no build. Needs `npm run build` first (`npm test` does it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { startTestDaemon } from '../helpers/daemon.ts';
import { DASHBOARD_CSP, loadDashboard, registerDashboard } from '../../src/daemon/dashboard.ts';

const WEB = path.resolve('dist/web');
const BUDGET = 150 * 1024;

function requireBuild(): void {
  assert.ok(existsSync(path.join(WEB, 'index.html')), 'dist/web is missing: run `npm run build` first');
}

/** A GET with the path sent byte for byte (fetch would resolve `..` before sending). */
function raw(base: string, rawPath: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: rawPath, method: 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function assertSecurityHeaders(h: http.IncomingHttpHeaders, what: string): void {
  assert.equal(h['content-security-policy'], DASHBOARD_CSP, `${what}: CSP`);
  assert.equal(h['x-content-type-options'], 'nosniff', `${what}: nosniff`);
  assert.equal(h['referrer-policy'], 'no-referrer', `${what}: referrer policy`);
}

test('the daemon serves the built dashboard at / and its hashed assets', async (t) => {
  requireBuild();
  const d = await startTestDaemon(t);

  const index = await raw(d.url, '/');
  assert.equal(index.status, 200);
  assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(index.headers['cache-control'], 'no-cache');
  assertSecurityHeaders(index.headers, 'GET /');
  assert.equal(index.headers['content-security-policy'], "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
  const html = index.body.toString('utf8');
  // nothing inline: every script has a src, no <style> element, no style attribute, no on* handler
  assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/i);
  assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i);

  // revalidation by ETag answers 304
  const again = await raw(d.url, '/', { 'if-none-match': String(index.headers.etag) });
  assert.equal(again.status, 304);

  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
  assert.ok(assets.some((a) => /\/main-[A-Z0-9]+\.js$/.test(a)) && assets.some((a) => /\/main-[A-Z0-9]+\.css$/.test(a)), `hashed JS and CSS linked: ${assets.join(', ')}`);
  for (const a of assets) {
    const res = await raw(d.url, a);
    assert.equal(res.status, 200, a);
    assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable', a);
    assert.equal(res.headers['content-type'], a.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8', a);
    assertSecurityHeaders(res.headers, a);
    assert.deepEqual(res.body, readFileSync(path.join(WEB, a)), `${a} is the built file`);
    const zipped = await raw(d.url, a, { 'accept-encoding': 'gzip, deflate' });
    assert.equal(zipped.headers['content-encoding'], 'gzip', a);
    assert.deepEqual(gunzipSync(zipped.body), res.body, `${a} gzipped is the same file`);
  }

  // the rest of the listener is as it was
  assert.equal((await raw(d.url, '/healthz')).status, 200);
  assert.equal((await raw(d.url, '/api/v1/services')).status, 401);
  assert.equal((await raw(d.url, '/v2/')).status, 401);
  const spec = JSON.parse((await raw(d.url, '/api/openapi.json')).body.toString()) as { paths: Record<string, unknown> };
  assert.ok(!('/' in spec.paths) && !Object.keys(spec.paths).some((p) => p.startsWith('/assets')), 'the dashboard routes are not API operations');
});

test('nothing outside the built files is reachable: traversal and unknown names are 404 in the API error shape', async (t) => {
  requireBuild();
  const d = await startTestDaemon(t);
  const attempts = [
    '/assets/../package.json',
    '/assets/..%2fpackage.json',
    '/assets/..%2Fpackage.json',
    '/assets/%2e%2e/package.json',
    '/assets/%2e%2e%2fpackage.json',
    '/assets/%2E%2E%2F%2E%2E%2Fpackage.json',
    '/assets/..%5cpackage.json',
    '/assets/....//package.json',
    '/assets/../../../../../../etc/passwd',
    '/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/assets//etc/passwd',
    '/assets/%2fetc%2fpasswd',
    '/assets/',
    '/assets/.',
    '/assets/..',
    '/assets/main.js',
    '/assets/index.html',
    '/index.html',
    '/web/index.html',
    '/dist/web/index.html',
    '/package.json',
  ];
  for (const p of attempts) {
    const res = await raw(d.url, p);
    assert.equal(res.status, 404, `${p} answered ${res.status}: ${res.body.toString().slice(0, 200)}`);
    assert.match(res.headers['content-type'] ?? '', /^application\/json/, p);
    assert.equal((JSON.parse(res.body.toString()) as { error: { code: string } }).error.code, 'NOT_FOUND', p);
    assert.doesNotMatch(res.body.toString(), /"name": "skiff"|root:x:0/, p);
  }
});

// XML namespace names in Preact's DOM code: identifiers the browser compares, never fetched
const NAMESPACES = new Set(['http://www.w3.org/2000/svg', 'http://www.w3.org/1998/Math/MathML', 'http://www.w3.org/1999/xhtml', 'http://www.w3.org/1999/xlink', 'http://www.w3.org/XML/1998/namespace']);

test('the built files name no other host and fit the size budget', (t) => {
  requireBuild();
  const files = ['index.html', ...readdirSync(path.join(WEB, 'assets')).map((f) => path.join('assets', f))];
  for (const f of files) {
    const text = readFileSync(path.join(WEB, f), 'utf8');
    const urls = [...text.matchAll(/(?:https?:)?\/\/[A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,}[^\s"'`)<>]*/g)].map((m) => m[0]);
    assert.deepEqual(urls.filter((u) => !NAMESPACES.has(u)), [], `${f} names another host`);
    assert.doesNotMatch(text, /@import\s+(url\()?["']?(https?:)?\/\//i, `${f} imports a stylesheet from elsewhere`);
  }
  const code = files.filter((f) => /\.(js|css)$/.test(f));
  assert.ok(code.length >= 2, 'JS and CSS were built');
  const gzipped = code.reduce((n, f) => n + gzipSync(readFileSync(path.join(WEB, f)), { level: 9 }).length, 0);
  t.diagnostic(`dashboard JS+CSS: ${(gzipped / 1024).toFixed(1)} KB gzipped (budget ${BUDGET / 1024} KB)`);
  assert.ok(gzipped <= BUDGET, `dashboard JS+CSS is ${gzipped} bytes gzipped, over the ${BUDGET} budget`);
});

test('without a build, / says to run `npm run build` (503) and /assets/* is 404', async (t) => {
  const empty = mkdtempSync(path.join(os.tmpdir(), 'skiff-web-'));
  t.after(() => rmSync(empty, { recursive: true, force: true }));
  assert.equal(await loadDashboard(path.join(empty, 'web')), undefined);
  const app = Fastify();
  t.after(() => app.close());
  registerDashboard(app, undefined);
  const res = await app.inject({ method: 'GET', url: '/' });
  assert.equal(res.statusCode, 503);
  assert.match(res.headers['content-type'] as string, /^text\/plain/);
  assert.match(res.body, /npm run build/);
  assert.equal(res.headers['content-security-policy'], DASHBOARD_CSP);
  assert.equal((await app.inject({ method: 'GET', url: '/assets/main-ABC.js' })).statusCode, 404);
});

test('only plain files in dist/web/assets are served: no links, dot files or subdirectories', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-web-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'assets', 'sub'), { recursive: true });
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>x</title>');
  writeFileSync(path.join(dir, 'secret.txt'), 'secret');
  writeFileSync(path.join(dir, 'assets', 'app-1.js'), 'export {}');
  writeFileSync(path.join(dir, 'assets', '.hidden.js'), 'secret');
  writeFileSync(path.join(dir, 'assets', 'sub', 'x.js'), 'secret');
  symlinkSync(path.join(dir, 'secret.txt'), path.join(dir, 'assets', 'link.js'));
  const files = await loadDashboard(dir);
  assert.deepEqual([...files!.assets.keys()], ['app-1.js']);
  const app = Fastify();
  t.after(() => app.close());
  registerDashboard(app, files);
  assert.equal((await app.inject({ method: 'GET', url: '/assets/app-1.js' })).statusCode, 200);
  for (const url of ['/assets/.hidden.js', '/assets/sub/x.js', '/assets/link.js', '/assets/../secret.txt', '/assets/%2e%2e%2fsecret.txt']) {
    const res = await app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 404, url);
    assert.doesNotMatch(res.body, /secret(?!\.txt)/, url);
  }
});
