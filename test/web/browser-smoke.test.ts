// The browser plumbing on this machine: Debian's Chromium, driven by playwright-core, opens a test
// daemon's pages and writes a screenshot under test-output/. The dashboard's own tests build on this
// helper (test/helpers/browser.ts); this one needs no dashboard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { startTestDaemon } from '../helpers/daemon.ts';
import { openBrowser, requireChromium } from '../helpers/browser.ts';

test('headless Chromium opens the daemon and writes a screenshot', { skip: requireChromium(), timeout: 120_000 }, async (t) => {
  const d = await startTestDaemon(t);
  const b = await openBrowser(t, { prefix: 'smoke' });

  const health = await b.page.goto(`${d.url}/healthz`);
  assert.equal(health?.status(), 200);
  assert.equal(JSON.parse((await b.page.locator('body').innerText()).trim()).status, 'ok');
  assert.ok(statSync(await b.screenshot('healthz')).size > 1000);

  const spec = await b.page.goto(`${d.url}/api/openapi.json`);
  assert.equal(spec?.status(), 200);
  assert.match(await b.page.locator('body').innerText(), /Skiff control API/);
  // the document is tens of thousands of pixels tall: its first screen
  const file = await b.screenshot('openapi', { fullPage: false });
  assert.ok(statSync(file).size > 1000, `${file} is a real image`);

  // the browser's own fetch signs in with the session cookie and reads who it is (the dashboard's first call)
  const who = await b.page.evaluate(async (token) => {
    const signIn = await fetch('/api/v1/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    const me = await fetch('/api/v1/session');
    return { signIn: signIn.status, me: me.status, body: await me.json(), cookies: document.cookie };
  }, d.token);
  assert.equal(who.signIn, 204);
  assert.equal(who.me, 200);
  assert.equal(who.body.via, 'session');
  // the page sees the CSRF cookie, never the HttpOnly session id
  assert.match(who.cookies, /skiff_csrf=/);
  assert.doesNotMatch(who.cookies, /skiff_session=/);
  // the browser keeps the session for API paths only: it goes to no other path of this host name
  // (the gateway's path URLs share it), and the CSRF value for the page
  const stored = await b.context.cookies(`${d.url}/api/v1/session`);
  const session = stored.find((c) => c.name === 'skiff_session');
  assert.ok(session?.httpOnly && session.sameSite === 'Strict' && session.path === '/api/v1', JSON.stringify(session));
  assert.equal((await b.context.cookies(`${d.url}/s/some-service/`)).find((c) => c.name === 'skiff_session'), undefined);
});
