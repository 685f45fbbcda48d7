// bench/lib/proc-stats: what a benchmark reads about one process from /proc — resident memory (RSS,
// and PSS, which splits shared pages between the processes mapping them: the honest sum over many
// copies of one program) and CPU time used so far.
import { readFileSync, readdirSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // Linux USER_HZ

/** VmRSS of /proc/PID/status, in KiB. */
export function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
}

/** Pss of /proc/PID/smaps_rollup, in KiB. */
export function pssKiB(pid: number): number {
  return Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? NaN);
}

/** utime + stime (fields 14 and 15 of /proc/PID/stat), in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** utime + stime of a process and its direct children (nginx workers, gateway workers), in seconds. */
export function treeCpuSeconds(pid: number): number {
  let total = 0;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    let fields: string[];
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    } catch {
      continue; // gone meanwhile
    }
    if (p === String(pid) || fields[1] === String(pid)) total += (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  }
  return total;
}
