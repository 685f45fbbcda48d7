// test/clients/dockerd: a private dockerd for one test file. Everything it owns lives in one temp dir
// (data root, exec root with its managed containerd, pidfile, socket, client config), and it is told
// to leave host networking alone (no bridge, no iptables/masquerade rules). stop() is idempotent.
import { spawn } from 'node:child_process';
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

export async function startDockerd(): Promise<Dockerd> {
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
      '--bridge=none', '--iptables=false', '--ip-masq=false', '--ip-forward=false',
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
      if (!exited) {
        child.kill('SIGTERM');
        const killed = await Promise.race([exit.then(() => true), sleep(30_000, undefined, { ref: false }).then(() => false)]);
        if (!killed) {
          child.kill('SIGKILL');
          await exit;
          killManagedContainerd(dir);
        }
      }
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
