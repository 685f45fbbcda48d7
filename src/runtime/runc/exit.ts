// runtime/runc/exit: the record the supervisor leaves when an instance's init exits, and how it maps to
// the port's ExitReason. The supervisor reaps the init itself, so it knows a signal death from an init
// that exits with 137 (which `runc run` could not tell apart: both were 137).
import { promises as fsp } from 'node:fs';
import type { ExitReason } from '../../core/instance.ts';

export interface ExitRecord {
  /** the init's exit status as the supervisor reaped it: its exit code, or 128+signal, like a shell */
  status: number;
  /** the signal that ended the init, 0 when it exited */
  signal: number;
  /** processes OOM-killed in the instance's cgroup during its life */
  oomKills: number;
  /** forks refused at the pids limit during its life (absent in records of older supervisors) */
  pidsLimitHits?: number;
}

export function exitReason(rec: ExitRecord): ExitReason {
  const limits = rec.pidsLimitHits ? { pidsLimitHits: rec.pidsLimitHits } : {};
  // An OOM kill anywhere in the cgroup explains the exit even when init only saw a child die.
  if (rec.oomKills > 0) return { reason: 'oom-killed', exitCode: rec.status, ...limits };
  if (rec.signal > 0) return { reason: 'signalled', signal: rec.signal, ...limits };
  return { reason: 'exited', exitCode: rec.status, ...limits };
}

export async function readExitRecord(file: string): Promise<ExitRecord | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const v = JSON.parse(text) as Partial<ExitRecord>;
  if (typeof v.status !== 'number' || typeof v.signal !== 'number' || typeof v.oomKills !== 'number') return undefined;
  return { status: v.status, signal: v.signal, oomKills: v.oomKills, ...(typeof v.pidsLimitHits === 'number' ? { pidsLimitHits: v.pidsLimitHits } : {}) };
}
