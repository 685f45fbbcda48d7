// runtime/runc/bundle: builds the OCI runtime-spec config.json (spec 1.0.2, what Debian's runc 1.1 reads)
// for one instance. Pure: same input, same document. The policy is documented in docs/runtime.md.
import type { ContainerSpec } from './container-runtime.ts';
import { defaultSeccompProfile, type SeccompProfile } from './seccomp.ts';
import { applyDeviceEdits, type OciHook, type OciHookName } from '../devices/devices.ts';

export interface BundleInput extends Omit<ContainerSpec, 'id' | 'service'> {
  /** network namespace to join (`/run/netns/<name>`); runc creates no network of its own */
  netnsPath: string;
  /** cgroup path relative to the hierarchy roots, e.g. `/skiff/<id>` */
  cgroupsPath: string;
  /** optional host files bind-mounted read-only into the instance */
  resolvConf?: string;
  hosts?: string;
}

// Docker's default capability set minus CAP_NET_RAW, which only ping-like tools need and which lets an
// instance forge ARP replies and raw packets (a service opts in: `capabilities: [NET_RAW]`). Ambient and
// inheritable stay empty: a non-root process that execs must not keep capabilities (and with
// noNewPrivileges nothing can regain them).
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

// Docker/runc defaults: kernel interfaces that leak host information or allow host-wide changes.
export const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

// nofile must not exceed this host's hard limit (20000 here; higher fails at exec).
const NOFILE = 20000;
const CPU_PERIOD_US = 100_000;

interface Mount { destination: string; type: string; source: string; options?: string[] }

function standardMounts(input: BundleInput): Mount[] {
  const nosuid = ['nosuid', 'noexec', 'nodev'];
  const mounts: Mount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: nosuid },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: [...nosuid, 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: nosuid },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: [...nosuid, 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [...nosuid, 'relatime', 'ro'] },
    // a writable /tmp even with a read-only root, as functions expect scratch space
    { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=65536k'] },
  ];
  const bind = (source: string, destination: string): Mount => ({ destination, type: 'bind', source, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] });
  if (input.resolvConf) mounts.push(bind(input.resolvConf, '/etc/resolv.conf'));
  if (input.hosts) mounts.push(bind(input.hosts, '/etc/hosts'));
  // secret files: a tmpfs directory of the host, read-only; its files are 0400, owned by the process's user
  for (const m of input.secretMounts ?? []) mounts.push(bind(m.source, m.destination));
  // persistent volumes: no devices or setuid from a volume, whatever an instance wrote there
  for (const b of input.binds ?? []) {
    mounts.push({ destination: b.destination, type: 'bind', source: b.source, options: ['rbind', b.readOnly ? 'ro' : 'rw', 'nosuid', 'nodev', 'rprivate'] });
  }
  return mounts;
}

export interface OciConfig {
  ociVersion: string;
  process: Record<string, unknown>;
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: Mount[];
  linux: Record<string, unknown> & { seccomp: SeccompProfile };
  /** only with devices whose CDI spec has hooks */
  hooks?: Partial<Record<OciHookName, OciHook[]>>;
}

export function buildOciConfig(input: BundleInput): OciConfig {
  const caps = [...DEFAULT_CAPABILITIES, ...(input.capabilities ?? []).map((c) => `CAP_${c}`)];
  // host devices and CDI edits (docs/runtime.md, "Devices and GPUs"): nodes, allow rules, mounts, env, hooks
  return applyDeviceEdits(baseConfig(input, caps), input.devices);
}

function baseConfig(input: BundleInput, caps: string[]): OciConfig {
  const { memoryBytes, cpus, pids } = input.limits;
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: input.user.uid, gid: input.user.gid, additionalGids: input.user.additionalGids },
      args: input.args,
      env: input.env,
      cwd: input.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: NOFILE, soft: NOFILE }],
      noNewPrivileges: true,
      oomScoreAdj: 0,
    },
    root: { path: input.rootfs, readonly: input.readOnlyRoot },
    hostname: input.hostname,
    mounts: standardMounts(input),
    linux: {
      namespaces: [
        { type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }, { type: 'cgroup' },
        { type: 'network', path: input.netnsPath },
      ],
      cgroupsPath: input.cgroupsPath,
      resources: {
        devices: [{ allow: false, access: 'rwm' }],
        // swap == memory: memory+swap limit equal to the memory limit means no swap at all
        memory: { limit: memoryBytes, swap: memoryBytes, disableOOMKiller: false },
        cpu: { quota: Math.max(1000, Math.round(cpus * CPU_PERIOD_US)), period: CPU_PERIOD_US, shares: Math.max(2, Math.round(cpus * 1024)) },
        pids: { limit: pids },
      },
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
      seccomp: defaultSeccompProfile(),
    },
  };
}
