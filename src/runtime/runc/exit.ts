// runtime/runc/exit: the record the supervisor leaves when an instance's init exits, and how it maps to
// the port's ExitReason. runc reports a signal death as 128+signal, like a shell, so an init that itself
// exits with 137 reads as SIGKILL; that ambiguity is runc's and documented in docs/runtime.md.
import { promises as fsp } from 'node:fs';
import type { ExitReason } from '../runtime.ts';

export interface ExitRecord {
  /** runc run's exit status: the init's exit code, or 128+signal */
  status: number;
  /** processes OOM-killed in the instance's cgroup during its life */
  oomKills: number;
}

export function exitReason(rec: ExitRecord): ExitReason {
  // An OOM kill anywhere in the cgroup explains the exit even when init only saw a child die.
  if (rec.oomKills > 0) return { reason: 'oom-killed', exitCode: rec.status };
  if (rec.status > 128 && rec.status < 128 + 65) return { reason: 'signalled', signal: rec.status - 128 };
  return { reason: 'exited', exitCode: rec.status };
}

export async function readExitRecord(file: string): Promise<ExitRecord | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const v = JSON.parse(text) as Partial<ExitRecord>;
  if (typeof v.status !== 'number' || typeof v.oomKills !== 'number') return undefined;
  return { status: v.status, oomKills: v.oomKills };
}
