// runtime/runc/exec-fifo: `runc start` without exec'ing runc. A created container's init blocks opening
// <runc root>/<id>/exec.fifo for writing; `runc start` opens it for reading, reads the "0" the init
// writes, and removes the file (runc state reports 'created' while it exists). Doing those three steps
// here saves the runc binary's start-up (~5 ms idle, far more on a loaded host) on the request path.
// This is runc's own protocol (libcontainer linuxContainer.exec, unchanged from 1.0 to 1.1); the
// contract tests check the states around it on Debian's runc.
import { closeSync, constants, openSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../../core/errors.ts';

/** If the init died before opening its end, our blocking open would wait forever: open the writing end
 *  ourselves after this long, so the read sees EOF with no "0" and start fails instead of hanging. */
const GUARD_MS = 2000;

export async function startCreated(runcRoot: string, id: string): Promise<void> {
  const fifo = path.join(runcRoot, id, 'exec.fifo');
  const guard = setTimeout(() => {
    try { closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK)); } catch { /* no reader or no fifo */ }
  }, GUARD_MS);
  let data: string;
  try {
    const fh = await fsp.open(fifo, 'r');
    // EOF comes when the init closes its end at exec (O_CLOEXEC): the process is running from here on.
    try { data = await fh.readFile('utf8'); } finally { await fh.close(); }
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new SkiffError(code === 'ENOENT' ? 'CONFLICT' : 'INTERNAL', `cannot start ${id}: ${code === 'ENOENT' ? 'not in created state' : String(cause)}`, { cause });
  } finally {
    clearTimeout(guard);
  }
  if (data === '') throw new SkiffError('INTERNAL', `cannot start ${id}: its init exited before it was started`);
  await fsp.unlink(fifo);
}
