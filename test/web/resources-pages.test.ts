// The Triggers, Jobs, Domains, Volumes, Secrets, Registry and Usage pages end to end in headless
// Chromium against a real daemon: each shows what was made through the API and the CLI (a cron trigger
// starting a job — and one added from the CLI appearing live —, an execution, a domain with an uploaded
// certificate, a volume a service mounts, a secret whose values never reach the page, pushed images
// with a tag deleted through the confirm step and checked through the API and /v2, the month's usage
// and bill with the CSV download checked against GET /api/v1/bill), each page on a phone without
// sideways scrolling, and no script or CSP error on the way. Screenshots: test-output/resources-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Page, Response } from 'playwright-core';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { openBrowser, requireChromium, type BrowserSession } from '../helpers/browser.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { skiffOk } from '../helpers/cli.ts';
import { gatewayGet, until } from '../helpers/serving.ts';
import { makeCa, tempDir } from '../domains/certs.ts';
import { SkiffClient } from '../../src/api/client.ts';
import type { Invoice } from '../../src/core/usage.ts';
import { invoiceCsv } from '../../web/src/usage-model.ts';

const skip = requireChromium() ?? (!isRoot && !isCI ? 'needs root (runc, loop volumes)' : false);

const SECRET_VALUES = ['hunter2-first-VALUE-9f3a', 'rotated-second-VALUE-77c1'];
const PAGES = ['triggers', 'jobs', 'domains', 'volumes', 'secrets', 'registry', 'usage'] as const;

async function signIn(b: BrowserSession, d: TestDaemon): Promise<void> {
  await b.page.goto(`${d.url}/`);
  await b.page.getByLabel('API token').fill(d.token);
  await b.page.getByRole('button', { name: 'Sign in' }).click();
  await b.page.getByRole('heading', { name: 'Services', level: 1 }).waitFor();
}

/** Opens a section by its link in the header, as a person would, and waits for its title. */
async function open(page: Page, link: string, title: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: link }).click();
  await page.getByRole('heading', { name: title, level: 1 }).waitFor();
}

/** The row (tr) whose header cell is `name`. */
/** The focused element's text (or aria-label) once it is `want` (the focus moves in an effect after a
 *  render), or what it is after 5 s. */
async function focused(page: Page, what: 'text' | 'label', want: string): Promise<string | null | undefined> {
  const read = ([w]: readonly ['text' | 'label']) => (w === 'text' ? document.activeElement?.textContent : document.activeElement?.getAttribute('aria-label'));
  await page.waitForFunction(([w, v]) => (w === 'text' ? document.activeElement?.textContent : document.activeElement?.getAttribute('aria-label')) === v, [what, want] as const, { timeout: 5000 }).catch(() => undefined);
  return page.evaluate(read, [what] as const);
}

const row = (page: Page, name: string) => page.locator('tr', { has: page.getByRole('rowheader', { name, exact: false }) }).filter({ hasText: name });

test('the resource pages show real data, act through the API, keep secret values out, and fit a phone', { skip, timeout: 600_000 }, async (t) => {
  // metering writes its minute rows every half second and budgets are evaluated every second, so the
  // bill and the budget have something to show within a few seconds
  const d = await startTestDaemon(t, { settings: (s) => {
    s.metering.flushIntervalMs = 500;
    s.budgets.intervalSeconds = 1;
  } });
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });

  // what the pages will show, made through the API and the CLI
  const v1 = await pushHttpdImage(d, 'shop/app', 'v1');
  const old = await pushHttpdImage(d, 'shop/app', 'old', 'old');
  await client.createVolume({ name: 'data', size: '8Mi' });
  await client.deploy({ name: 'web', image: v1.reference, volumes: [{ volume: 'data', path: '/data', readOnly: true }], scaling: { min: 1 } });
  const { leaf } = makeCa(tempDir());
  const cert = leaf('shop.example.net');
  await client.addDomain({ host: 'shop.example.net', service: 'web', certificate: readFileSync(cert.certFile, 'utf8'), key: readFileSync(cert.keyFile, 'utf8') });
  await client.createJob({ name: 'batch', image: v1.reference, command: ['/bin/true'], tasks: 2, parallelism: 2 });
  const execution = await client.runJob('batch');
  await skiffOk(d, ['trigger', 'add', 'nightly', '--job', 'batch', '--cron', '0 3 * * *']);
  await client.setSecret('db', { data: { PASSWORD: SECRET_VALUES[0]!, HOST: 'db.internal' } });
  await client.setSecret('db', { data: { PASSWORD: SECRET_VALUES[1]!, HOST: 'db.internal' } });
  await client.setBudget('default', { monthly: '10.00', soft: ['50%', '80%'] });
  await until('the execution ended', async () => (await client.job('batch')).executions[0]?.status !== 'running', 60_000);
  for (let i = 0; i < 5; i++) assert.equal((await gatewayGet(d.gatewayUrl, 'web', '/')).status, 200);

  const b = await openBrowser(t, { prefix: 'resources' });
  const page = b.page;
  const errors: string[] = [];
  // a CSP violation or a script error on the page is a failure of the page
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  // every API answer the page reads, to check no secret value ever reaches the browser
  const answers: string[] = [];
  page.on('response', (r: Response) => {
    if (r.url().includes('/api/v1/') && !r.url().includes('/api/v1/stream')) void r.text().then((text) => answers.push(text), () => {});
  });
  await signIn(b, d);

  await t.test('Triggers: source, target, schedule and counters; pause and resume call the API', async () => {
    await open(page, 'Triggers', 'Triggers');
    const r = row(page, 'nightly');
    await r.waitFor();
    const text = await r.innerText();
    for (const want of ['cron', 'job batch', '0 3 * * *', 'active']) assert.ok(text.includes(want), `${want} in ${text}`);
    await b.screenshot('triggers');
    await r.getByRole('button', { name: 'Pause trigger nightly' }).click();
    await r.getByText('paused', { exact: true }).waitFor();
    assert.equal((await client.trigger('nightly')).paused, true);
    await b.screenshot('triggers-paused');
    await r.getByRole('button', { name: 'Resume trigger nightly' }).click();
    await r.getByText('active', { exact: true }).waitFor();
    assert.equal((await client.trigger('nightly')).paused, false);
    // a trigger added from the CLI shows without a reload (the live stream, web/src/live.ts)
    await skiffOk(d, ['trigger', 'add', 'hourly', '--job', 'batch', '--cron', '0 * * * *']);
    await row(page, 'hourly').waitFor({ timeout: 20_000 });
    // the search narrows the list and says so
    await page.getByLabel('Search').fill('hourly');
    await page.getByRole('status').filter({ hasText: '1 of 2 triggers' }).waitFor();
    assert.equal(await row(page, 'nightly').count(), 0);
    await page.getByLabel('Search').fill('');
  });

  await t.test('Jobs: the latest execution and its status, the recent executions on demand', async () => {
    const job = await client.job('batch');
    const latest = job.executions[0]!;
    assert.equal(latest.id, execution.id);
    await open(page, 'Jobs', 'Jobs');
    const r = row(page, 'batch');
    await r.getByText(latest.status, { exact: true }).waitFor();
    const text = await r.innerText();
    assert.ok(text.includes(execution.id) && text.includes('2 tasks, 2 at a time'), text);
    await r.getByRole('button', { name: 'Executions of batch' }).click();
    const table = page.getByRole('table', { name: /Recent executions of batch/ });
    await table.getByText(execution.id).waitFor();
    assert.equal(await r.getByRole('button', { name: 'Executions of batch' }).getAttribute('aria-expanded'), 'true');
    await b.screenshot('jobs');
  });

  await t.test('Domains: host, service, certificate state and expiry', async () => {
    const domain = await client.getDomain('shop.example.net');
    await open(page, 'Domains', 'Domains');
    const r = row(page, 'shop.example.net');
    await r.waitFor();
    const text = await r.innerText();
    for (const want of ['web', domain.status, 'uploaded', `${domain.not_after!.slice(0, 10)}`, 'days left']) assert.ok(text.includes(want), `${want} in ${text}`);
    await b.screenshot('domains');
  });

  await t.test('Volumes: size, use and the service mounting it', async () => {
    await open(page, 'Volumes', 'Volumes');
    const r = row(page, 'data');
    await r.waitFor();
    const text = await r.innerText();
    assert.match(text, /8\.0 MiB/);
    await r.getByRole('link', { name: 'web' }).waitFor();
    await b.screenshot('volumes');
  });

  await t.test('Secrets: names and versions, never a value (page, markup, API answers)', async () => {
    await open(page, 'Secrets', 'Secrets');
    const r = row(page, 'db');
    await r.getByText('v2').waitFor();
    assert.match(await r.innerText(), /HOST, PASSWORD/);
    const html = await page.content();
    for (const v of SECRET_VALUES) {
      assert.ok(!html.includes(v), 'a secret value is in the page');
      assert.ok(!answers.some((a) => a.includes(v)), 'a secret value came in an API answer');
    }
    assert.ok(!html.includes('db.internal'));
    await b.screenshot('secrets');
  });

  await t.test('Registry: repositories, tags, digests, sizes; a tag deleted through the confirm step', async () => {
    await open(page, 'Registry', 'Registry');
    await row(page, 'shop/app').getByText('2', { exact: true }).waitFor();
    await b.screenshot('registry');
    await page.getByRole('link', { name: 'shop/app' }).click();
    await page.getByRole('heading', { name: 'shop/app', level: 1 }).waitFor();
    // one row per digest, with its tag
    for (const [digest, tag] of [[v1.digest, 'v1'], [old.digest, 'old']] as const) {
      const r = page.locator('tr', { has: page.locator(`code[title="${digest}"]`) });
      await r.getByText(tag, { exact: true }).waitFor();
      assert.equal(await r.locator('td[data-label="Kind"]').innerText(), 'image');
      assert.match(await r.locator('td[data-label="Size"]').innerText(), /^\d+(\.\d)? (KiB|MiB)$/);
    }
    // cancelling deletes nothing
    await page.getByRole('button', { name: 'Delete tag old' }).click();
    const dialog = page.getByRole('alertdialog');
    await dialog.getByText('Delete tag shop/app:old?').waitFor();
    // the focus moves in an effect after the dialog renders: waited for, not read at once
    assert.equal(await focused(page, 'text', 'Delete'), 'Delete', 'the confirm button takes the focus');
    await b.screenshot('registry-confirm');
    // Escape cancels, and the focus goes back to the button that asked
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await focused(page, 'label', 'Delete tag old'), 'Delete tag old');
    assert.deepEqual((await client.repository('shop/app')).manifests.flatMap((m) => m.tags).sort(), ['old', 'v1']);
    // confirming deletes the tag, and only it
    await page.getByRole('button', { name: 'Delete tag old' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('status').filter({ hasText: 'Deleted tag old.' }).waitFor();
    assert.equal(await focused(page, 'text', 'Deleted tag old.'), 'Deleted tag old.', 'the focus goes to what happened');
    assert.deepEqual((await client.repository('shop/app')).manifests.flatMap((m) => m.tags), ['v1']);
    const head = (ref: string) => fetch(`${d.url}/v2/shop/app/manifests/${ref}`, { method: 'HEAD', headers: { authorization: `Bearer ${d.token}`, accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal((await head('old')).status, 404);
    assert.equal((await head('v1')).status, 200);
    assert.equal(await page.getByRole('button', { name: 'Delete tag old' }).count(), 0);
    await b.screenshot('registry-deleted');
  });

  await t.test('Usage and billing: spend, budget and thresholds, usage by service and day, the invoice as CSV', async () => {
    const month = new Date().toISOString().slice(0, 7);
    await until('the bill has lines', async () => (await client.bill(month, 'default')).lines.length > 0, 60_000);
    await open(page, 'Usage & billing', 'Usage and billing');
    // the operator's token spans every project: it picks one
    const billAnswer = page.waitForResponse((r) => r.url().includes('/api/v1/bill?') && r.url().includes('project=default'));
    await page.getByLabel('Project').selectOption('default');
    const pageBill = (await (await billAnswer).json()) as Invoice;
    await page.getByRole('status').filter({ hasText: `Project default, ${month}` }).waitFor();
    const budget = (await client.listBudgets()).budgets.find((x) => x.project === 'default')!;
    const text = await page.locator('main').innerText();
    assert.match(text, /Budget 10\.00 USD a month/);
    assert.match(text, /50% at 5\.00/);
    assert.match(text, /80% at 8\.00/);
    assert.ok(text.includes(`State ${budget.state}`), text);
    assert.ok(text.includes(`${pageBill.total} ${pageBill.currency}`), `the spend ${pageBill.total} is shown`);
    await page.getByRole('table', { name: /Usage by service/ }).getByRole('rowheader', { name: 'web' }).waitFor();
    await page.getByRole('table', { name: /Usage by day/ }).getByRole('rowheader', { name: new Date().toISOString().slice(0, 10) }).waitFor();
    await b.screenshot('usage');

    // the CSV is the invoice the page read, every digit; and the API's invoice has the same lines
    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: /Download the invoice as CSV/ }).click();
    const file = await (await download).path();
    const csv = readFileSync(file, 'utf8');
    assert.equal(csv, invoiceCsv(pageBill));
    assert.equal((await download).suggestedFilename(), `skiff-bill-default-${month}.csv`);
    const rows = csv.trim().split('\r\n').map((l) => l.split(','));
    assert.deepEqual(rows[0], ['project', 'service', 'item', 'description', 'quantity', 'unit', 'unitPrice', 'amount', 'currency']);
    const api = await client.bill(month, 'default');
    const keys = (ls: Array<{ service: string; item: string }>) => ls.map((l) => `${l.service}/${l.item}`).sort();
    assert.deepEqual(keys(rows.slice(1, -2).map((r) => ({ service: r[1]!, item: r[2]! }))), keys(api.lines));
    for (const l of pageBill.lines) assert.ok(rows.some((r) => r[1] === l.service && r[2] === l.item && r[4] === l.quantity && r[7] === l.amount), `${l.service}/${l.item} in the CSV`);
    assert.deepEqual(rows.at(-1)!.slice(2, 3).concat(rows.at(-1)![7]!), ['total', pageBill.total]);
  });

  await t.test('every page on a phone: no sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const p of PAGES) {
      await page.goto(`${d.url}/#/${p}`);
      await page.locator('main h1').waitFor();
      await page.locator('main [role="status"]').first().waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `#/${p} scrolls sideways by ${overflow}px on a phone`);
      await b.screenshot(`phone-${p}`);
    }
  });

  assert.deepEqual(errors, []);
});
