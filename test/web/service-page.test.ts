// The service page end to end in headless Chromium against a real daemon running real runc instances of
// the busybox-httpd test image, deployed through the real CLI: a service appears in the list live; the
// page's tabs; the charts have data after traffic, and the list its requests sparkline; a traffic split
// changed with the sliders and the confirm step is what the API then answers; the log tail shows a line
// printed after it opened; a crash loop shows in the event timeline; and the page on a phone.
// Screenshots go to test-output/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { openBrowser, requireChromium, type BrowserSession } from '../helpers/browser.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { skiff, skiffOk } from '../helpers/cli.ts';
import { gatewayGet, until } from '../helpers/serving.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = requireChromium() ?? (!isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false);

async function signIn(b: BrowserSession, d: TestDaemon): Promise<void> {
  await b.page.goto(`${d.url}/`);
  await b.page.getByLabel('API token').fill(d.token);
  await b.page.getByRole('button', { name: 'Sign in' }).click();
  await b.page.getByRole('heading', { name: 'Services', level: 1 }).waitFor();
}

/** Opens a tab of the service page by its link, as a person would, and waits for it to be selected. */
async function openTab(page: Page, name: string): Promise<void> {
  await page.getByRole('tab', { name }).click();
  await page.locator(`[role="tab"][aria-selected="true"]`, { hasText: name }).waitFor();
}

test('the service page: live list, tabs, charts, traffic sliders, rollback, scale, prewarm, log tail, crash loop, phone', { skip, timeout: 600_000 }, async (t) => {
  const d = await startTestDaemon(t);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const work = mkdtempSync(path.join(os.tmpdir(), 'skiff-web-service-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const repo = uniqueRepo('web-svc');
  const v1 = await pushHttpdImage(d, repo, 'v1');
  const v2 = await pushHttpdImage(d, repo, 'v2');
  const b = await openBrowser(t, { prefix: 'service' });
  const page = b.page;
  const errors: string[] = [];
  // a CSP violation or a script error on the page is a failure of the page
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  await signIn(b, d);

  await t.test('a service deployed through the CLI appears in the list without a reload (GET /api/v1/stream)', async () => {
    await page.getByText('No services yet').waitFor();
    await skiffOk(d, ['deploy', 'web', '--image', v1.reference, '--min', '1', '--max', '3', '--env', 'SECRET_TOKEN=hunter2']);
    await page.getByRole('link', { name: 'web', exact: true }).waitFor({ timeout: 20_000 });
    await b.screenshot('list-live');
  });

  // whatever the stream did, the service exists from here on
  await until('web deployed', async () => (await client.listServices()).services.some((s) => s.name === 'web'), 60_000);
  const rev1 = (await client.service('web')).latestRevision;
  await skiffOk(d, ['deploy', 'web', '--image', v2.reference]);
  const rev2 = (await client.service('web')).latestRevision;
  assert.notEqual(rev1, rev2);

  await t.test('the header and every tab, reached by keyboard too', async () => {
    await page.goto(`${d.url}/#/services/web`);
    await page.getByRole('heading', { name: 'web', level: 1 }).waitFor();
    await page.getByRole('tab', { name: 'Overview', selected: true }).waitFor();
    const header = await page.locator('.facts').first().innerText();
    assert.match(header, /Project\s+default/);
    assert.match(header, /http:\/\/web\.localhost:\d+\//);
    assert.match(await page.locator('.svc-badge').first().innerText(), /Serving|Starting/);
    await b.screenshot('overview');

    // the tab strip: one tab stop, arrows move and open
    await page.getByRole('tab', { name: 'Overview' }).focus();
    await page.keyboard.press('ArrowRight');
    await page.getByRole('tab', { name: 'Revisions', selected: true }).waitFor();
    assert.match(page.url(), /#\/services\/web\/revisions$/);
    // the tab takes the focus in the next animation frame: waited for, not read at once
    await page.waitForFunction(() => document.activeElement?.id === 'tab-revisions', undefined, { timeout: 5000 }).catch(() => undefined);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'tab-revisions');
    const revisions = page.getByRole('tabpanel');
    await revisions.getByText(rev1, { exact: true }).first().waitFor();
    await revisions.locator('details summary').first().click();
    const config = await revisions.locator('.config').first().innerText();
    assert.match(config, /Environment\s+SECRET_TOKEN/);
    assert.doesNotMatch(await page.content(), /hunter2/, 'no env value on the page');
    await b.screenshot('revisions');

    await openTab(page, 'Instances');
    await page.locator('table.instances tbody tr').first().waitFor();
    const instances = await page.locator('table.instances').innerText();
    assert.match(instances, new RegExp(`${rev2}-[0-9a-f]{6}`));
    assert.match(instances, /ready/);
    // the daemon reports when each instance started: its age shows
    assert.match(instances, /Age[\s\S]*\d+ (s|min)/);
    await b.screenshot('instances');

    await openTab(page, 'Events');
    await page.locator('.timeline .event', { hasText: 'deploy' }).first().waitFor();
    await b.screenshot('events');
  });

  await t.test('traffic, then the charts have data (GET /api/v1/services/web/stats)', async () => {
    for (let i = 0; i < 20; i++) assert.equal((await gatewayGet(d.gatewayUrl, 'web')).status, 200);
    await openTab(page, 'Charts');
    // the stats are read every 10 s: the requests show within a couple of refreshes
    await page.locator('.charts[data-has-data="true"]').waitFor({ timeout: 40_000 });
    await until('requests counted', async () => /(\d+) requests?/.exec(await page.locator('.charts [role="status"]').innerText())?.[1] !== '0', 40_000);
    assert.equal(await page.locator('.chart canvas').count() >= 4, true, 'four uPlot charts');
    await b.screenshot('charts');
  });

  await t.test('the list shows the traffic too: a requests sparkline and the cold starts (GET /api/v1/stats/services)', async () => {
    await page.goto(`${d.url}/#/services`);
    const row = page.locator('tr', { has: page.getByRole('link', { name: 'web', exact: true }) });
    const requests = row.getByRole('img', { name: /^Requests per second/ });
    await requests.waitFor({ timeout: 10_000 });
    assert.match((await requests.getAttribute('aria-label')) ?? '', /peak (0\.\d*[1-9]|[1-9][\d.]*)\/s/, 'a non-zero peak');
    assert.notEqual(await requests.locator('path').first().getAttribute('d'), '');
    assert.match(await row.getByRole('img', { name: /^Latency/ }).getAttribute('aria-label') ?? '', /latest p50 [\d.]+ ms, p99 [\d.]+ ms/);
    assert.match(await row.locator('td[data-label="Cold starts (1 h)"]').innerText(), /^\d+$/);
    await b.screenshot('list-stats');
    await page.goto(`${d.url}/#/services/web`);
    await page.getByRole('tab', { name: 'Overview' }).waitFor();
  });

  await t.test('a traffic split set with the sliders and confirmed is what the API answers', async () => {
    await openTab(page, 'Overview');
    const slider1 = page.getByRole('slider', { name: rev1 });
    const slider2 = page.getByRole('slider', { name: rev2 });
    assert.equal(await slider2.inputValue(), '100');
    assert.equal(await slider1.inputValue(), '0');
    // the keyboard, one step a press: the other slider gives way so the total stays 100
    await slider1.focus();
    for (let i = 0; i < 50; i++) await page.keyboard.press('ArrowRight');
    assert.equal(await slider1.inputValue(), '50');
    assert.equal(await slider2.inputValue(), '50');
    await page.getByText('Total 100%').waitFor();
    await page.getByRole('button', { name: 'Review change…' }).click();
    const confirm = page.getByRole('group', { name: 'Change the traffic split?' });
    const before = await confirm.innerText();
    assert.match(before, new RegExp(`${rev2}\\s+100%\\s+50%`));
    assert.match(before, new RegExp(`${rev1}\\s+0%\\s+50%`));
    await b.screenshot('traffic-confirm');
    // the API has not been asked yet
    assert.deepEqual((await client.service('web')).traffic.map((x) => [x.revision, x.percent]), [[rev2, 100]]);
    await confirm.getByRole('button', { name: 'Apply' }).click();
    await page.getByText(/Traffic now: /).waitFor();
    const after = (await client.service('web')).traffic.map((x) => [x.revision, x.percent]).sort();
    assert.deepEqual(after, [[rev1, 50], [rev2, 50]].sort());
  });

  await t.test('the log tail shows a line the app printed after it opened, and filters it', async () => {
    await openTab(page, 'Logs');
    await page.getByRole('checkbox', { name: 'Follow' }).waitFor();
    const word = `hello-${Date.now().toString(36)}`;
    // either revision may take it (50/50): ask until a line arrives
    await until('the line in the tail', async () => {
      await gatewayGet(d.gatewayUrl, 'web', `/cgi-bin/say?${word}`);
      return (await page.locator('ol.log li', { hasText: `said ${word}` }).count()) > 0;
    }, 40_000);
    const line = page.locator('ol.log li', { hasText: `said ${word}` }).first();
    assert.match(await line.innerText(), new RegExp(`web-\\d{5}-[0-9a-f]{6} stderr said ${word}`));
    await b.screenshot('logs');
    await page.getByLabel('Stream').selectOption('stdout');
    await until('stderr lines hidden', async () => (await page.locator('ol.log li', { hasText: `said ${word}` }).count()) === 0);
    await page.getByLabel('Stream').selectOption('stderr');
    await line.waitFor();
    await page.getByLabel('Text').fill('nothing-has-this');
    await until('filtered out', async () => (await page.locator('ol.log li').count()) === 0);
    await page.getByLabel('Text').fill('');
    // pause holds new lines back; resume shows them
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByText('Paused: 0 new lines held back').waitFor();
    const held = `held-${Date.now().toString(36)}`;
    await until('a line held back', async () => {
      await gatewayGet(d.gatewayUrl, 'web', `/cgi-bin/say?${held}`);
      return (await page.getByText(/Paused: [1-9]\d* new lines? held back/).count()) > 0;
    }, 40_000);
    assert.equal(await page.locator('ol.log li', { hasText: held }).count(), 0);
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator('ol.log li', { hasText: held }).first().waitFor();
  });

  await t.test('rollback after its confirm step, scale bounds and prewarm reach the API', async () => {
    await openTab(page, 'Overview');
    await page.getByLabel('Send all traffic to').selectOption(rev1);
    await page.getByRole('button', { name: 'Roll back…' }).click();
    const confirm = page.getByRole('group', { name: /Roll back\?/ });
    assert.match(await confirm.innerText(), new RegExp(`after: ${rev1} 100%`));
    await confirm.getByRole('button', { name: `Roll back to ${rev1}` }).click();
    await page.getByText(`All traffic now goes to ${rev1}.`).waitFor();
    assert.deepEqual((await client.service('web')).traffic.filter((x) => x.percent > 0).map((x) => [x.revision, x.percent]), [[rev1, 100]]);
    // the sliders follow the new split
    assert.equal(await page.getByRole('slider', { name: rev1 }).inputValue(), '100');

    await page.getByLabel('Maximum instances').fill('2');
    await page.getByLabel('Minimum instances').fill('3');
    await page.getByRole('button', { name: 'Save bounds' }).click();
    await page.getByRole('alert').filter({ hasText: 'cannot be above the maximum' }).waitFor();
    await page.getByLabel('Minimum instances').fill('0');
    await page.getByRole('button', { name: 'Save bounds' }).click();
    await page.getByText('Scale bounds now: min 0, max 2.').waitFor();
    assert.deepEqual(((s) => [s.min, s.max])((await client.service('web')).scaling), [0, 2]);

    await page.getByLabel('Keep warm for').selectOption('5m');
    await page.getByRole('button', { name: 'Prewarm' }).click();
    await page.getByText(new RegExp(`${rev1}: 1 of 1 ready; kept warm until`)).waitFor({ timeout: 30_000 });
  });

  await t.test('an app that crashes at once: the crash loop in the event timeline', async () => {
    const file = path.join(work, 'crashy.yaml');
    writeFileSync(file, `name: crashy\nimage: ${v1.reference}\ntimeout: 60s\ncommand: ['/bin/sh', '-c', 'echo boom >&2; exit 7']\n`);
    const deployed = await skiff(d, ['deploy', '-f', file]);
    assert.equal(deployed.code, 1, deployed.stdout);
    await until('a back-off', async () => (await client.service('crashy')).events.some((e) => e.kind === 'back-off'), 30_000);
    await page.goto(`${d.url}/#/services/crashy/events`);
    await page.getByRole('tab', { name: 'Events', selected: true }).waitFor();
    await page.locator('.svc-badge', { hasText: 'Crash loop' }).waitFor();
    const first = page.locator('.timeline .event').first();
    await page.locator('.timeline .event', { hasText: 'back-off' }).first().waitFor();
    await page.locator('.timeline .event', { hasText: /exited with code 7|code 7/ }).first().waitFor();
    // newest first: no event below the first is newer
    const times = await page.locator('.timeline .event time').evaluateAll((els) => els.map((e) => Date.parse(e.getAttribute('datetime') ?? '')));
    assert.deepEqual(times, [...times].sort((a, c) => c - a));
    assert.ok(await first.isVisible());
    // the loop goes on (back-offs of 1, 2, 4 … s): the timeline grows without a reload, from the
    // live stream's service changes
    const backoffs = page.locator('.timeline .event', { hasText: 'back-off' });
    const seen = await backoffs.count();
    await until('another back-off shown live', async () => (await backoffs.count()) > seen, 40_000);
    await b.screenshot('crash-loop-events');
    await openTab(page, 'Revisions');
    await page.getByText(/Crash loop: \d+ failure\(s\) in a row/).waitFor();
  });

  await t.test('on a phone (390×844): no sideways scrolling, every tab usable', async (tt) => {
    const phone = await openBrowser(tt, { viewport: { width: 390, height: 844 }, prefix: 'service-phone' });
    await signIn(phone, d);
    // the list first (where signing in lands): cards, sparklines and all, within the phone's width
    await phone.page.getByRole('img', { name: /^Requests per second/ }).first().waitFor();
    const listOverflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(listOverflow <= 0, `the list: ${listOverflow}px wider than the phone`);
    await phone.screenshot('list');
    for (const tab of ['', '/logs', '/charts', '/instances']) {
      await phone.page.goto(`${d.url}/#/services/web${tab}`);
      await phone.page.getByRole('heading', { name: 'web', level: 1 }).waitFor();
      await phone.page.getByRole('tabpanel').waitFor();
      await phone.page.waitForTimeout(500);
      const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${tab || 'overview'}: ${overflow}px wider than the phone`);
      await phone.screenshot(tab ? tab.slice(1) : 'overview');
    }
  });

  assert.deepEqual(errors, [], 'no script error or CSP violation on the page');
});
