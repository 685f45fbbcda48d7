// test/helpers/daemon: a fresh daemon per test on a free loopback port in a temp data dir, stopped and
// removed by t.after(). Every integration test starts Skiff through this one helper.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { TestContext } from 'node:test';
import { loadSettings, type Settings } from '../../src/config/settings.ts';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.ts';

export interface TestDaemon {
  daemon: Daemon;
  url: string;
  /** host:port, as registry clients name the registry */
  host: string;
  token: string;
  dataDir: string;
  settings: Settings;
}

export async function startTestDaemon(
  t: Pick<TestContext, 'after'>,
  opts: { dataDir?: string; settings?: (s: Settings) => void } = {},
): Promise<TestDaemon> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'skiff-test-'));
  const settings = loadSettings({ flags: { dataDir, listen: '127.0.0.1:0' } });
  settings.registry.gcIntervalSeconds = 0;
  opts.settings?.(settings);
  const daemon = await startDaemon(settings, { logger: pino({ level: process.env.SKIFF_TEST_LOG ?? 'silent' }) });
  t.after(async () => {
    await daemon.stop();
    if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  const token = readFileSync(daemon.adminTokenFile, 'utf8').trim();
  return { daemon, url: daemon.apiUrl, host: new URL(daemon.apiUrl).host, token, dataDir, settings };
}

/** Basic auth header as registry clients send it. */
export function basicAuth(token: string): string {
  return 'Basic ' + Buffer.from(`skiff:${token}`).toString('base64');
}
