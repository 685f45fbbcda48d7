// runtime/runc/cgroup: reads an instance's usage straight from the cgroup files runc created, and thaws a
// frozen one (cgroupfs driver, path = linux.cgroupsPath). Handles both hierarchies: v1 (one tree per
// controller, as on this Debian host) and v2 (unified). Reading files is cheaper than `runc events --stats`.
// (The OOM-kill count is read by supervisor.pl when it records the exit.)
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ContainerStats } from './container-runtime.ts';

const ROOT = '/sys/fs/cgroup';
const isV2 = (): boolean => existsSync(path.join(ROOT, 'cgroup.controllers'));

async function readText(file: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** `key value` lines (memory.stat, memory.oom_control, memory.events, cpu.stat) as a map. */
export function parseKeyed(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) m.set(k, Number(v));
  }
  return m;
}

const num = (s: string | undefined): number => (s === undefined || s.trim() === 'max' ? Number.POSITIVE_INFINITY : Number(s.trim()));

/** Usage minus the inactive file cache, never below 0 — the kubelet's working set. memory.stat names it
 *  `inactive_file` on v2 and `total_inactive_file` (this cgroup and its children) on v1. */
export function workingSet(usageBytes: number, memoryStat: string, v2: boolean): number {
  const inactive = parseKeyed(memoryStat).get(v2 ? 'inactive_file' : 'total_inactive_file') ?? 0;
  return Math.max(0, usageBytes - inactive);
}

export async function readStats(cgroupsPath: string): Promise<ContainerStats | undefined> {
  if (isV2()) {
    const dir = path.join(ROOT, cgroupsPath);
    const [mem, max, cpu, pids, stat] = await Promise.all(['memory.current', 'memory.max', 'cpu.stat', 'pids.current', 'memory.stat'].map((f) => readText(path.join(dir, f))));
    if (mem === undefined) return undefined;
    const usage = num(mem);
    return { memoryBytes: usage, workingSetBytes: workingSet(usage, stat ?? '', true), memoryLimitBytes: num(max), cpuNanos: (parseKeyed(cpu ?? '').get('usage_usec') ?? 0) * 1000, pids: num(pids) };
  }
  const [mem, max, cpu, pids, stat] = await Promise.all([
    readText(path.join(ROOT, 'memory', cgroupsPath, 'memory.usage_in_bytes')),
    readText(path.join(ROOT, 'memory', cgroupsPath, 'memory.limit_in_bytes')),
    readText(path.join(ROOT, 'cpuacct', cgroupsPath, 'cpuacct.usage')),
    readText(path.join(ROOT, 'pids', cgroupsPath, 'pids.current')),
    readText(path.join(ROOT, 'memory', cgroupsPath, 'memory.stat')),
  ]);
  if (mem === undefined) return undefined;
  const usage = num(mem);
  return { memoryBytes: usage, workingSetBytes: workingSet(usage, stat ?? '', false), memoryLimitBytes: num(max), cpuNanos: num(cpu ?? '0'), pids: num(pids ?? '0') };
}

/** Thaws a frozen instance by writing its freezer file — what `runc resume` does, without runc's
 *  ~10 ms of exec on a thaw's request path (runc reads 'paused' back from this same file). */
export async function thaw(cgroupsPath: string): Promise<void> {
  if (isV2()) await fsp.writeFile(path.join(ROOT, cgroupsPath, 'cgroup.freeze'), '0');
  else await fsp.writeFile(path.join(ROOT, 'freezer', cgroupsPath, 'freezer.state'), 'THAWED');
}
