// bench/lib/instance-cgroups: a Skiff instance as the host sees it, read straight from the runc
// driver's state directory (<data-dir>/runtime/instances/<id>/) and the cgroup files runc created —
// its memory and CPU (the runtime's own readStats: working set = usage minus inactive file cache),
// whether the cgroup freezer holds it, and its supervisor's pid.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readStats } from '../../src/runtime/runc/cgroup.ts';
import { instancePaths } from '../../src/runtime/runc/layout.ts';

export interface InstanceOnHost {
  id: string;
  cgroupsPath: string;
  supervisorPid: number;
}

export function instanceOnHost(dataDir: string, id: string): InstanceOnHost {
  const p = instancePaths(path.join(dataDir, 'runtime'), id);
  const { cgroupsPath } = JSON.parse(readFileSync(p.record, 'utf8')) as { cgroupsPath: string };
  return { id, cgroupsPath, supervisorPid: Number(readFileSync(p.supervisorPid, 'utf8').trim()) };
}

/** True when every task of the instance is frozen (v1 freezer.state FROZEN, v2 cgroup.freeze 1). */
export function isFrozen(inst: InstanceOnHost): boolean {
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const file = v2 ? path.join('/sys/fs/cgroup', inst.cgroupsPath, 'cgroup.freeze') : path.join('/sys/fs/cgroup/freezer', inst.cgroupsPath, 'freezer.state');
  try {
    return readFileSync(file, 'utf8').trim() === (v2 ? '1' : 'FROZEN');
  } catch {
    return false; // no cgroup (yet, or any more)
  }
}

/** Working set and CPU time (cpuacct.usage on v1) of the instance's cgroup. */
export async function cgroupUsage(inst: InstanceOnHost): Promise<{ workingSetBytes: number; cpuNanos: number }> {
  const s = await readStats(inst.cgroupsPath);
  if (!s) throw new Error(`instance ${inst.id}: no cgroup at ${inst.cgroupsPath}`);
  return { workingSetBytes: s.workingSetBytes, cpuNanos: s.cpuNanos };
}
