// test/clients/dockerd: a private dockerd for one test file. Everything it owns lives in one temp dir
// (data root, exec root with its managed containerd, pidfile, socket, client config). By default it
// leaves host networking alone (no bridge, no iptables/masquerade rules); with `iptables: true` it
// programs the host's firewall as an installed Docker does (its DOCKER* chains, ahead of everything
// in FORWARD), for tests of how Skiff coexists with it, and stop() removes what it left behind
// (Docker never deletes its chains). stop() is idempotent.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, type RunResult } from '../helpers/tools.ts';

export interface Dockerd {
  /** Runs the docker CLI against this daemon (own socket and own DOCKER_CONFIG). */
  docker(args: string[], opts?: { input?: string; env?: NodeJS.ProcessEnv }): Promise<RunResult>;
  dir: string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 90_000;

export interface DockerdOptions {
  /** Let dockerd program iptables like a stock install (no default bridge still: make networks with `docker network create`). */
  iptables?: boolean;
}

export async function startDockerd(opts: DockerdOptions = {}): Promise<Dockerd> {
  const firewall = opts.iptables ? snapshotFirewall() : undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-dockerd-'));
  const sock = `unix://${dir}/docker.sock`;
  const configFile = path.join(dir, 'daemon.json');
  // An empty config file, so the host's /etc/docker/daemon.json cannot change this daemon.
  writeFileSync(configFile, '{}');
  mkdirSync(path.join(dir, 'client'));
  const ns = `skiff-test-${randomBytes(4).toString('hex')}`;
  const logFd = openSync(path.join(dir, 'dockerd.log'), 'a');
  const child = spawn(
    'dockerd',
    [
      '--config-file', configFile,
      '--data-root', path.join(dir, 'data'),
      '--exec-root', path.join(dir, 'exec'),
      '--pidfile', path.join(dir, 'dockerd.pid'),
      '-H', sock,
      '--storage-driver', 'vfs',
      '--bridge=none',
      ...(opts.iptables ? ['--iptables=true', '--ip-masq=true', '--ip-forward=true'] : ['--iptables=false', '--ip-masq=false', '--ip-forward=false']),
      '--containerd-namespace', ns, '--containerd-plugins-namespace', `${ns}-plugins`,
    ],
    { stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd);
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) => child.once('exit', (code, signal) => ((exited = `exited with ${code ?? signal}`), resolve())));
  child.once('error', (err) => (exited = err.message));

  const env = { ...process.env, DOCKER_CONFIG: path.join(dir, 'client'), DOCKER_BUILDKIT: '0' };
  const docker = (args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}) =>
    run('docker', ['-H', sock, ...args], { input: opts.input, env: { ...env, ...opts.env } });

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (!exited && opts.iptables) {
        // Docker deletes a network's bridge and rules only on `network rm`, never at shutdown
        const ids = (await docker(['ps', '-aq']).catch(() => undefined))?.stdout.split('\n').filter(Boolean) ?? [];
        if (ids.length) await docker(['rm', '-f', ...ids]).catch(() => undefined);
        await docker(['network', 'prune', '-f']).catch(() => undefined);
      }
      if (!exited) {
        child.kill('SIGTERM');
        const killed = await Promise.race([exit.then(() => true), sleep(30_000, undefined, { ref: false }).then(() => false)]);
        if (!killed) {
          child.kill('SIGKILL');
          await exit;
          killManagedContainerd(dir);
        }
      }
      if (firewall) restoreFirewall(firewall);
      rmSync(dir, { recursive: true, force: true });
    })());

  // Ready when the API answers; a daemon that exits first fails with its log instead of a timeout.
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited) break;
    const ok = await docker(['version', '--format', '{{.Server.Version}}']).then(() => true, () => false);
    if (ok) return { docker, dir, stop };
    if (Date.now() > deadline) break;
    await sleep(250);
  }
  const log = readFileSync(path.join(dir, 'dockerd.log'), 'utf8').trim().split('\n').slice(-25).join('\n');
  await stop();
  throw new Error(`dockerd did not become ready (${exited ?? 'timed out'}):\n${log}`);
}

/** dockerd stops the containerd it started on SIGTERM; after a SIGKILL that containerd is left running. */
function killManagedContainerd(dir: string): void {
  try {
    const pid = Number(readFileSync(path.join(dir, 'exec', 'containerd', 'containerd.pid'), 'utf8').trim());
    // Only the containerd whose command line names this daemon's directory.
    if (Number.isSafeInteger(pid) && pid > 1 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) process.kill(pid, 'SIGKILL');
  } catch {
    // no pid file or already gone: nothing to clean up
  }
}

interface FirewallSnapshot { forwardPolicy: string; dockerChains: boolean }

const iptables = (...args: string[]) => execFileSync('iptables', ['-w', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function snapshotFirewall(): FirewallSnapshot {
  const filter = iptables('-t', 'filter', '-S');
  return {
    forwardPolicy: /^-P FORWARD (\S+)/m.exec(filter)?.[1] ?? 'ACCEPT',
    dockerChains: /^-N DOCKER/m.test(filter),
  };
}

/**
 * Puts back FORWARD's policy (dockerd sets DROP when it turns forwarding on) and, unless a Docker on
 * the host already had them, unhooks and deletes the DOCKER* chains in filter and nat.
 */
function restoreFirewall(before: FirewallSnapshot): void {
  iptables('-t', 'filter', '-P', 'FORWARD', before.forwardPolicy);
  if (before.dockerChains) return;
  for (const table of ['filter', 'nat']) {
    const rules = iptables('-t', table, '-S').split('\n');
    // jumps from the built-in chains first, or the chains cannot be deleted
    for (const rule of rules.filter((r) => /^-A (?!DOCKER)\S+ .*-j DOCKER/.test(r))) {
      iptables('-t', table, ...rule.replace(/^-A /, '-D ').split(' ').map(unquote));
    }
    const chains = rules.map((r) => /^-N (DOCKER\S*)/.exec(r)?.[1]).filter((c): c is string => !!c);
    for (const c of chains) iptables('-t', table, '-F', c);
    for (const c of chains) iptables('-t', table, '-X', c);
  }
}

/** iptables -S quotes comments; the rule is re-split on spaces, and no Docker rule has a space inside quotes. */
const unquote = (word: string) => word.replace(/^"(.*)"$/, '$1');
