// runtime/runc/layout: where the runc driver keeps its state. Everything an instance needs to be
// re-adopted after a daemon restart lives on disk here; the daemon holds no state of its own.
//   <root>/
//     runc/                     runc --root (runc's own container state)
//     instances/<id>/
//       instance.json           InstanceRecord: the spec, address, cgroup path (written at create)
//       bundle/config.json      OCI runtime config (bundle.ts)
//       supervisor.pid          supervisor pid, written when supervisor.ts spawns it (at create)
//       supervisor.err          the supervisor's own stderr (its failures, never the instance's output)
//       started                 marker written by start(): the instance is no longer just 'created'
//       init.pid                the instance's init pid on the host (runc create --pid-file)
//       exit.json               ExitRecord, written atomically by the supervisor when it reaps the init
//       logs/output.log[.1..N]  timestamped stdout/stderr lines, size-rotated (log-file.ts)
import path from 'node:path';

export interface InstancePaths {
  dir: string;
  record: string;
  bundle: string;
  supervisorPid: string;
  supervisorErr: string;
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
    supervisorPid: path.join(dir, 'supervisor.pid'),
    supervisorErr: path.join(dir, 'supervisor.err'),
    started: path.join(dir, 'started'),
    initPid: path.join(dir, 'init.pid'),
    exit: path.join(dir, 'exit.json'),
    logs: path.join(dir, 'logs'),
  };
}
