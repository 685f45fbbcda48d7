// bench/lib/registry-servers: starts the registries a benchmark compares, as child processes on loopback,
// each with a fresh data directory: a Skiff daemon (`skiff up`) and CNCF distribution (Debian's
// `docker-registry`). stop() is idempotent and removes the data directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, waitForHttp } from './process.ts';

export const DOCKER_REGISTRY_BIN = '/usr/bin/docker-registry';

export interface RunningRegistry {
  name: string;
  /** host:port as registry clients name it */
  host: string;
  /** skopeo --*-creds value, when the registry needs one */
  creds?: string;
  /** CPU seconds (user + system, all threads) the server process has used so far. */
  cpuSeconds(): number;
  stop(): void;
}

const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');

export async function startSkiff(workDir: string): Promise<RunningRegistry> {
  const dataDir = mkdtempSync(path.join(workDir, 'skiff-data-'));
  const child = spawn(
    process.execPath,
    [path.join(REPO_ROOT, 'bin/skiff.mjs'), '--data-dir', dataDir, 'up', '--listen', '127.0.0.1:0', '--gateway', '127.0.0.1:0', '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const stop = stopper(child, dataDir);
  try {
    // `skiff up` prints its API URL once listening; the port was chosen by the kernel (port 0).
    const url = await waitForOutput(child, /control API \+ registry: (http:\/\/\S+)/);
    const token = readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
    return { name: 'skiff', host: new URL(url).host, creds: `skiff:${token}`, cpuSeconds: () => cpuSeconds(child.pid!), stop };
  } catch (err) {
    stop();
    throw err;
  }
}

export async function startDistribution(workDir: string): Promise<RunningRegistry> {
  if (!existsSync(DOCKER_REGISTRY_BIN)) throw new Error(`${DOCKER_REGISTRY_BIN} not found: install the Debian package docker-registry`);
  const dir = mkdtempSync(path.join(workDir, 'distribution-'));
  const port = await freePort();
  const config = path.join(dir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${path.join(dir, 'data')}`,
      '  maintenance:',
      '    uploadpurging:',
      '      enabled: false',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const child = spawn(DOCKER_REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  // It logs every 404 (the HEADs before each upload) at level error: keep only a tail for failures.
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const stop = stopper(child, dir);
  try {
    await waitForHttp(child, `http://127.0.0.1:${port}/v2/`).catch((err: Error) => {
      throw new Error(`${err.message}\n${stderr}`);
    });
    return { name: 'distribution', host: `127.0.0.1:${port}`, cpuSeconds: () => cpuSeconds(child.pid!), stop };
  } catch (err) {
    stop();
    throw err;
  }
}

/** utime + stime from /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function stopper(child: ChildProcess, dir: string): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  };
}

function waitForOutput(child: ChildProcess, re: RegExp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} in output:\n${seen}`)), timeoutMs);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`exited with ${code} before ready:\n${seen}`)); });
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const m = re.exec(seen);
      if (m) { clearTimeout(timer); resolve(m[1]!); }
    });
  });
}


