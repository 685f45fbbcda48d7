// test/helpers/daemon: a fresh daemon per test on a free loopback port in a temp data dir, stopped and
// removed by t.after(). Every integration test starts Skiff through this one helper.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { TestContext } from 'node:test';
import { loadSettings, type Settings } from '../../src/config/settings.ts';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.ts';
import { removeFirewall } from '../../src/runtime/network/firewall.ts';
import { removeAntiSpoof } from '../../src/runtime/network/anti-spoof.ts';
import { LoopVolumes } from '../../src/runtime/volumes/loop-volumes.ts';
import { execFileSync } from 'node:child_process';
import { freeSubnetOctet } from './tools.ts';
import { existsSync } from 'node:fs';

let nextNetwork = 0;

export interface TestDaemon {
  daemon: Daemon;
  url: string;
  /** the data plane: services answer here (by Host header or /s/NAME/) */
  gatewayUrl: string;
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
  const settings = loadSettings({ flags: { dataDir, listen: '127.0.0.1:0', gateway: '127.0.0.1:0' } });
  settings.registry.gcIntervalSeconds = 0;
  // Instances keep their CPU between requests unless a test asks for the default (coldStart.idleFreezeMs,
  // test/serving/cpu-always.test.ts): tests that probe, kill or read an idle instance expect it running.
  settings.coldStart.idleFreezeMs = 0;
  // A network of this daemon's own (bridge, /24, iptables chains), so parallel test daemons never share
  // state and nothing touches a real daemon's skiff0. Created only if the test starts an instance.
  const tag = freeSubnetOctet(215, (nextNetwork++ + process.pid * 7) % 250);
  settings.runtime = { ...settings.runtime, bridge: `skd-${process.pid.toString(16)}-${tag}`.slice(0, 15), subnet: `10.215.${tag}.0/24`, chainPrefix: `SKD-${process.pid.toString(16)}-${tag}`, egress: false };
  opts.settings?.(settings);
  // SKIFF_TEST_LOG=debug prints the daemon's log; SKIFF_TEST_LOG_FILE=path appends it to a file instead
  // (printing through the test runner slows a run enough to hide races)
  const logFile = process.env.SKIFF_TEST_LOG_FILE;
  const logger = pino({ level: process.env.SKIFF_TEST_LOG ?? (logFile ? 'debug' : 'silent') }, logFile ? pino.destination({ dest: logFile, append: true, sync: false }) : undefined);
  const daemon = await startDaemon(settings, { logger });
  t.after(async () => {
    await daemon.stop();
    await daemon.stopInstances();
    await removeTestNetwork(settings.runtime);
    // volumes stay mounted for the next daemon; a test's go with it
    if (!opts.dataDir) await new LoopVolumes(path.join(dataDir, 'volumes')).unmountAll();
    if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  const token = readFileSync(daemon.adminTokenFile, 'utf8').trim();
  return { daemon, gatewayUrl: daemon.gatewayUrl, url: daemon.apiUrl, host: new URL(daemon.apiUrl).host, token, dataDir, settings };
}

/** Basic auth header as registry clients send it. */
export function basicAuth(token: string): string {
  return 'Basic ' + Buffer.from(`skiff:${token}`).toString('base64');
}

/** Removes a test daemon's bridge, iptables chains and address reservations, if it ever made them. */
export async function removeTestNetwork(net: Pick<Settings['runtime'], 'bridge' | 'chainPrefix'>): Promise<void> {
  if (!existsSync(`/sys/class/net/${net.bridge}`)) return;
  execFileSync('ip', ['link', 'del', net.bridge], { stdio: 'ignore' });
  await removeFirewall(net.chainPrefix);
  await removeAntiSpoof(net.chainPrefix);
  rmSync(`/run/skiff/ipam/${net.bridge}`, { recursive: true, force: true });
}
