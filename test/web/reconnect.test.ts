// The dashboard when the daemon restarts (issue 15: "graceful when the daemon restarts"): while the
// daemon is away the page says so and keeps what it showed; when a daemon answers again on the same
// address the live stream comes back by itself. Sessions live in the daemon's memory, so a restart
// ends them: the page then shows the sign-in form saying so, never a broken page or a stuck spinner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestDaemon } from '../helpers/daemon.ts';
import { openBrowser, requireChromium } from '../helpers/browser.ts';

test('a daemon restart: the page says it is reconnecting, then asks to sign in again, and works after; sign-out ends the session', { skip: requireChromium(), timeout: 180_000 }, async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-test-restart-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = await startTestDaemon(t, { dataDir });
  const port = new URL(first.url).port;
  const b = await openBrowser(t, { prefix: 'reconnect' });
  const { page } = b;
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const streams: string[] = [];
  page.on('request', (r) => void (r.url().endsWith('/api/v1/stream') && streams.push(r.url())));

  await page.goto(first.url);
  await page.getByLabel('API token').fill(first.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Services', level: 1 }).waitFor();
  await page.getByText('No services yet').waitFor();
  // the live stream is open (the page subscribed to services)
  const deadline = Date.now() + 10_000;
  while (streams.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(streams.length > 0, 'the page opened /api/v1/stream');

  await first.daemon.stop();
  const banner = page.getByRole('status').filter({ hasText: 'Reconnecting' });
  await banner.waitFor({ timeout: 20_000 });
  // what the page showed stays while the daemon is away
  assert.ok(await page.getByRole('heading', { name: 'Services', level: 1 }).isVisible());
  await b.screenshot('daemon-away', { fullPage: false });

  const second = await startTestDaemon(t, { dataDir, settings: (s) => (s.listen = { host: '127.0.0.1', port: Number(port) }) });
  assert.equal(second.url, first.url);
  // the old session is gone with the old daemon: the page asks to sign in again, and says why
  await page.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 20_000 });
  await page.getByText('Your session has ended').waitFor();
  assert.equal(await banner.count(), 0, 'the reconnecting banner is gone once signed out');
  await b.screenshot('signed-out-after-restart', { fullPage: false });

  // the same token (the data dir's admin token) signs in again and the stream is live again
  await page.getByLabel('API token').fill(second.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Services', level: 1 }).waitFor();
  await page.getByText('No services yet').waitFor();
  // the header says who the session acts as: the data dir's admin token spans every project
  await page.getByRole('banner').getByText(/every project · admin/).waitFor();

  // sign-out: the daemon forgets the session (the cookie no longer works) and the page says so
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByText('Signed out.').waitFor();
  assert.equal(await page.evaluate(async () => (await fetch('/api/v1/session')).status), 401);
  assert.deepEqual(errors, []);
});
