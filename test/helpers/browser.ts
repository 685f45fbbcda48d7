// test/helpers/browser: a real headless Chromium for dashboard tests — Debian's `chromium`, driven by
// playwright-core (no browser download: executablePath is the system one). openBrowser() gives a page,
// writes screenshots under test-output/ (gitignored) for a person to look at, and closes the browser
// in t.after(). Use as `test(name, { skip: requireChromium() }, ...)`: off CI a missing chromium skips
// the test; under CI=true it fails naming the Debian package (scripts/system-packages.sh installs it).
import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { isCI } from './tools.ts';

export const CHROMIUM = '/usr/bin/chromium';
/** where screenshots go: at the repository's root, not committed (.gitignore) */
export const TEST_OUTPUT = path.resolve(import.meta.dirname, '../../test-output');

/** root (as in CI) needs --no-sandbox; no GPU and no background traffic on a test machine */
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

function installed(): boolean {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** undefined when a browser test can run; a skip reason off CI without chromium; under CI a missing one throws. */
export function requireChromium(): string | undefined {
  if (installed()) return undefined;
  if (!isCI) return `needs ${CHROMIUM} (Debian package chromium)`;
  throw new Error(`${CHROMIUM} is not installed: apt-get install chromium (scripts/system-packages.sh lists it)`);
}

export interface BrowserSession {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Writes test-output/NAME.png and answers its path: the whole page, or with `fullPage: false` the
   *  viewport (a very tall page, such as a large JSON document, takes Chromium too long whole). */
  screenshot(name: string, opts?: { fullPage?: boolean }): Promise<string>;
}

export interface BrowserOptions {
  /** the page's size; default 1280×800 (a phone: { width: 390, height: 844 }) */
  viewport?: { width: number; height: number };
  /** screenshots are named PREFIX-NAME.png; default: none */
  prefix?: string;
}

/** Launches Chromium with one page; everything is closed when the test ends. */
export async function openBrowser(t: Pick<TestContext, 'after'>, opts: BrowserOptions = {}): Promise<BrowserSession> {
  const missing = requireChromium();
  if (missing) throw new Error(missing);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30_000 });
  t.after(() => browser.close());
  const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return {
    browser,
    context,
    page,
    async screenshot(name: string, shot: { fullPage?: boolean } = {}) {
      mkdirSync(TEST_OUTPUT, { recursive: true });
      const file = path.join(TEST_OUTPUT, `${opts.prefix ? `${opts.prefix}-` : ''}${name.replace(/[^a-zA-Z0-9._-]+/g, '-')}.png`);
      await page.screenshot({ path: file, fullPage: shot.fullPage ?? true });
      return file;
    },
  };
}
