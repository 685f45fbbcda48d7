// bench/dashboard-first-paint: how soon the dashboard's services page shows with many services — the
// budget of issue 15 is a first paint within 1 s with 500 services. Two child `skiff up`s (fresh data
// dirs, networks of their own, the pre-created pool off so no instance runs): one holding N services
// (deployed through the API, min 0, from one image pushed once: a deploy records a revision without
// starting anything), the peer holding 1. Headless Chromium (Debian's, through playwright-core) signs in
// once per daemon (POST /api/v1/session sets the cookie) and then, in rounds alternating between the
// two, opens `/` in a fresh page and reads the browser's own timings: first-contentful-paint
// (PerformancePaintTiming) and time-to-table (performance.now() when the services table has all its
// rows, taken by a MutationObserver installed before the page's scripts run). Prints medians and the
// N/1 ratio. Needs root (runc prepares the image), /usr/bin/chromium and a built dashboard (dist/web:
// npm run build). No time is asserted: this measures.
//   node bin/run-ts.mjs bench/dashboard-first-paint.ts [--services 500] [--rounds 7]
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { pushHttpdImage } from '../test/helpers/images.ts';
import { CHROMIUM } from '../test/helpers/browser.ts';
import { SkiffClient } from '../src/api/client.ts';
import { intFlag, median, pct } from './lib/measure.ts';
import { Cleanups, startIdleDaemon } from './lib/idle-daemon.ts';

const { values } = parseArgs({ options: { services: { type: 'string', default: '500' }, rounds: { type: 'string', default: '7' } } });
const services = intFlag(values.services, '--services');
const rounds = intFlag(values.rounds, '--rounds');
const TAG = process.pid.toString(16);

if (!existsSync(path.resolve(import.meta.dirname, '../dist/web/index.html'))) {
  console.error('no built dashboard (dist/web/index.html): run npm run build first');
  process.exit(2);
}

const cleanups = new Cleanups();

interface Target {
  label: string;
  services: number;
  url: string;
  context: BrowserContext;
  fcp: number[];
  table: number[];
}

/** A daemon holding `count` services (none running), and a browser context signed in to it. */
async function prepare(label: string, count: number, octet: number, browser: Browser): Promise<Target> {
  const net = { bridge: `skdf-${TAG}-${octet}`.slice(0, 15), subnet: `10.213.${(process.pid + octet) % 250}.0/24`, chainPrefix: `SKDF-${TAG}-${octet}` };
  const { daemon } = await startIdleDaemon(`dash-${label}`, net, cleanups);
  const client = new SkiffClient({ baseUrl: daemon.url, token: daemon.token });
  const image = (await pushHttpdImage({ url: daemon.url, token: daemon.token }, 'bench/dash', 'v1')).reference;
  const t0 = performance.now();
  // a few deploys at a time: the store serialises its writes anyway, this only hides the round trips
  for (let i = 0; i < count; i += 8) {
    await Promise.all(Array.from({ length: Math.min(8, count - i) }, (_, k) => client.deploy({ name: `svc-${String(i + k).padStart(4, '0')}`, image, scaling: { min: 0 } })));
  }
  const listed = (await client.listServices()).services.length;
  if (listed !== count) throw new Error(`${label}: listed ${listed} services, deployed ${count}`);
  console.log(`${label}: ${count} service(s) deployed in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  cleanups.push(() => context.close());
  const page = await context.newPage();
  await page.goto(`${daemon.url}/healthz`);
  const status = await page.evaluate(async (token) => (await fetch('/api/v1/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) })).status, daemon.token);
  if (status !== 204) throw new Error(`${label}: sign-in answered ${status}`);
  await page.close();
  // before any script of the page: note when the services table holds every row
  // (a string: tsx would wrap a named function inside a passed function in a helper the page lacks)
  await context.addInitScript(`
    new MutationObserver(() => {
      if (window.__tableAt === undefined && document.querySelectorAll('table.services tbody tr').length >= ${count}) window.__tableAt = performance.now();
    }).observe(document, { childList: true, subtree: true });
  `);
  return { label, services: count, url: daemon.url, context, fcp: [], table: [] };
}

/** One cold open of the services page (the browser's caches kept: a returning user). */
async function open(t: Target): Promise<void> {
  const page = await t.context.newPage();
  try {
    await page.goto(`${t.url}/`, { waitUntil: 'load' });
    await page.waitForFunction(() => (window as unknown as { __tableAt?: number }).__tableAt !== undefined, undefined, { timeout: 60_000, polling: 50 }).catch(async (err: Error) => {
      // say what the page showed instead (a sign-in form, an error, a table with fewer rows)
      const body = await page.locator('body').innerText().catch(() => '');
      throw new Error(`${t.label}: no table of ${t.services} rows: ${err.message}\npage: ${body.slice(0, 500)}`);
    });
    const m = await page.evaluate(() => ({
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
      table: (window as unknown as { __tableAt: number }).__tableAt,
    }));
    t.fcp.push(m.fcp);
    t.table.push(m.table);
  } finally {
    await page.close();
  }
}

try {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  cleanups.push(() => browser.close());
  const peer = await prepare('peer', 1, 1, browser);
  const many = await prepare('many', services, 2, browser);
  // one uncounted warm-up each (the first load fills the browser's cache), then alternate
  for (const t of [peer, many]) {
    await open(t);
    t.fcp.length = 0;
    t.table.length = 0;
  }
  for (let r = 0; r < rounds; r++) for (const t of r % 2 === 0 ? [peer, many] : [many, peer]) await open(t);

  const fmt = (ms: number) => ms.toFixed(1).padStart(9);
  console.log(`\n${rounds} rounds; ms from navigation start (median / p90)`);
  console.log(`${'page'.padEnd(16)} ${'FCP p50'.padStart(9)} ${'p90'.padStart(9)} ${'table p50'.padStart(9)} ${'p90'.padStart(9)}`);
  for (const t of [peer, many]) console.log(`${`${t.services} service(s)`.padEnd(16)} ${fmt(median(t.fcp))} ${fmt(pct(t.fcp, 90))} ${fmt(median(t.table))} ${fmt(pct(t.table, 90))}`);
  const ratio = (k: 'fcp' | 'table') => (median(many[k]) / median(peer[k])).toFixed(2);
  console.log(`dashboard first paint: ${services} services/1 service p50 — FCP ${median(many.fcp).toFixed(0)} ms (${ratio('fcp')}×), table ${median(many.table).toFixed(0)} ms (${ratio('table')}×)`);
} finally {
  await cleanups.run();
}
