// runtime/runc/layout: where the runc driver keeps its state. Everything an instance needs to be
// re-adopted after a daemon restart lives on disk here; the daemon holds no state of its own.
//   <root>/
//     runc/                     runc --root (runc's own container state)
//     instances/<id>/
//       instance.json           InstanceRecord: the spec, address, cgroup path (written at create)
//       bundle/config.json      OCI runtime config (bundle.ts)
//       shim.json               ShimConfig for the supervisor (shim.ts)
//       shim.pid                supervisor pid, written when supervisor.ts spawns it (at create)
//       start.fifo              the supervisor blocks reading it; start() writes to release it
//       started                 marker written by start(): the instance is no longer just 'created'
//       init.pid                the instance's init pid on the host (runc --pid-file)
//       exit.json               ExitRecord, written atomically by the supervisor when runc returns
//       logs/output.log[.1..N]  timestamped stdout/stderr lines, size-rotated (log-file.ts)
import path from 'node:path';

export interface InstancePaths {
  dir: string;
  record: string;
  bundle: string;
  shimConfig: string;
  shimPid: string;
  startFifo: string;
  started: string;
  initPid: string;
  exit: string;
  logs: string;
}

export function runcRoot(root: string): string {
  return path.join(root, 'runc');
}

export function instancesDir(root: string): string {
  return path.join(root, 'instances');
}

export function instancePaths(root: string, id: string): InstancePaths {
  const dir = path.join(instancesDir(root), id);
  return {
    dir,
    record: path.join(dir, 'instance.json'),
    bundle: path.join(dir, 'bundle'),
    shimConfig: path.join(dir, 'shim.json'),
    shimPid: path.join(dir, 'shim.pid'),
    startFifo: path.join(dir, 'start.fifo'),
    started: path.join(dir, 'started'),
    initPid: path.join(dir, 'init.pid'),
    exit: path.join(dir, 'exit.json'),
    logs: path.join(dir, 'logs'),
  };
}
