// runtime/runc/supervisor: the driver's side of an instance supervisor (shim.ts) — spawn it detached at
// create, release it through start.fifo at start, and wait for (or end) it at delete.
import { constants, promises as fsp } from 'node:fs';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SkiffError } from '../../core/errors.ts';
import { writeFileAtomic } from '../../core/fsutil.ts';
import { execOk } from '../exec.ts';
import type { InstancePaths } from './layout.ts';

const SHIM = fileURLToPath(new URL('./shim.ts', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

/** Starts the supervisor in its own session with no stdio, so it outlives the daemon. */
export async function spawnSupervisor(p: InstancePaths): Promise<void> {
  await execOk('mkfifo', ['-m', '600', p.startFifo]);
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), SHIM, p.shimConfig], { detached: true, stdio: 'ignore' });
  child.unref();
  if (child.pid === undefined) throw new SkiffError('INTERNAL', `cannot spawn the supervisor in ${p.dir}`);
  await writeFileAtomic(p.shimPid, String(child.pid));
}

/** Writes to start.fifo; ENXIO means the supervisor has not opened it yet (still loading). */
export async function releaseSupervisor(p: InstancePaths, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(10)) {
    let fh;
    try {
      fh = await fsp.open(p.startFifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENXIO') continue;
      throw e;
    }
    await fh.writeFile('start\n');
    await fh.close();
    return;
  }
  throw new SkiffError('INTERNAL', `the supervisor in ${p.dir} did not become ready within ${timeoutMs} ms`);
}

/** After `runc delete`: lets a started supervisor record the exit (up to 5 s); ends one still waiting. */
export async function stopSupervisor(p: InstancePaths): Promise<void> {
  const pid = await readPid(p.shimPid);
  if (pid === undefined) return;
  const started = await fsp.access(p.started).then(() => true, () => false);
  if (!started && alive(pid)) process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 200 && alive(pid); i++) await sleep(25);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}
