// runtime/runc/supervisor: the driver's side of an instance supervisor (supervisor.pl) — spawn it detached
// at create and wait until `runc create` has finished (the container waits on runc's exec FIFO, so start
// is just `runc start`), and wait for (or end) it at delete.
import { closeSync, openSync, promises as fsp } from 'node:fs';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SkiffError } from '../../core/errors.ts';
import { writeFileAtomic } from '../../core/fsutil.ts';
import { readLogLines } from './log-file.ts';
import type { InstancePaths } from './layout.ts';

const SCRIPT = fileURLToPath(new URL('./supervisor.pl', import.meta.url));
const PERL = '/usr/bin/perl';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SupervisorArgs {
  runc: string;
  runcRoot: string;
  id: string;
  cgroupsPath: string;
  logMaxBytes: number;
  logKeep: number;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function readPid(file: string): Promise<number | undefined> {
  const text = await fsp.readFile(file, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

const exists = (file: string) => fsp.access(file).then(() => true, () => false);

/** Starts the supervisor in its own session (so it outlives the daemon) and resolves once the container
 *  is created — runc wrote init.pid — or throws with what runc or the supervisor said. */
export async function createUnderSupervisor(p: InstancePaths, a: SupervisorArgs, timeoutMs: number): Promise<void> {
  const errFd = openSync(p.supervisorErr, 'a');
  const argv = [SCRIPT, a.runc, a.runcRoot, a.id, p.bundle, p.initPid, p.exit, p.logs, String(a.logMaxBytes), String(a.logKeep), a.cgroupsPath];
  const child = spawn(PERL, argv, { detached: true, stdio: ['ignore', 'ignore', errFd] });
  closeSync(errFd);
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  child.unref();
  if (child.pid === undefined) {
    const e = (await spawnError) as NodeJS.ErrnoException;
    throw e.code === 'ENOENT' ? new SkiffError('PREFLIGHT_FAILED', `${PERL} not found: install the Debian package perl`) : e;
  }
  await writeFileAtomic(p.supervisorPid, String(child.pid));
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(5)) {
    if (await exists(p.initPid)) return;
    if (await exists(p.exit) || !alive(child.pid)) {
      const lines: string[] = [];
      for await (const l of readLogLines(p.logs, 5)) lines.push(l.line);
      const said = lines.join('\n') || (await fsp.readFile(p.supervisorErr, 'utf8').catch(() => ''));
      throw new SkiffError('INTERNAL', `runc create ${a.id} failed: ${said.trim().slice(0, 1000)}`);
    }
  }
  throw new SkiffError('INTERNAL', `runc create ${a.id} did not finish within ${timeoutMs} ms`);
}

/** After `runc delete` (which kills the init): lets the supervisor record the exit (up to 5 s), then ends it. */
export async function stopSupervisor(p: InstancePaths): Promise<void> {
  const pid = await readPid(p.supervisorPid);
  if (pid === undefined) return;
  for (let i = 0; i < 200 && alive(pid); i++) await sleep(25);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}
