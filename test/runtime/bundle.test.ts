// test/runtime/bundle.test: the OCI config and seccomp profile policy, as pure data (no root needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildOciConfig, DEFAULT_CAPABILITIES, type BundleInput } from '../../src/runtime/runc/bundle.ts';
import { ALLOWED_SYSCALLS, defaultSeccompProfile } from '../../src/runtime/runc/seccomp.ts';

const input: BundleInput = {
  rootfs: '/var/lib/skiff/rootfs/x', readOnlyRoot: true, args: ['/bin/app'], env: ['PATH=/bin'], cwd: '/srv',
  user: { uid: 1000, gid: 1000, additionalGids: [5] }, hostname: 'app', limits: { memoryBytes: 128 << 20, cpus: 0.5, pids: 100 },
  netnsPath: '/run/netns/skiff-x', cgroupsPath: '/skiff/x',
};

test('namespaces: pid, mount, ipc, uts, cgroup new; network joined by path', () => {
  const c = buildOciConfig(input);
  assert.deepEqual(c.linux.namespaces, [
    { type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }, { type: 'cgroup' },
    { type: 'network', path: '/run/netns/skiff-x' },
  ]);
  assert.deepEqual(c.root, { path: '/var/lib/skiff/rootfs/x', readonly: true });
});

test('limits: memory with equal swap (no swapping), CPU quota and shares, pids', () => {
  const r = buildOciConfig(input).linux.resources as Record<string, Record<string, unknown>>;
  assert.deepEqual(r.memory, { limit: 128 << 20, swap: 128 << 20, disableOOMKiller: false });
  assert.deepEqual(r.cpu, { quota: 50_000, period: 100_000, shares: 512 });
  assert.deepEqual(r.pids, { limit: 100 });
});

test('process: Docker capabilities without NET_RAW or ambient/inheritable, no new privileges, nofile within the host limit', () => {
  const p = buildOciConfig(input).process as Record<string, any>;
  assert.equal(DEFAULT_CAPABILITIES.length, 13);
  assert.ok(!p.capabilities.bounding.includes('CAP_NET_RAW'), 'NET_RAW only when asked for');
  const raw = buildOciConfig({ ...input, capabilities: ['NET_RAW'] }).process as Record<string, any>;
  for (const set of ['bounding', 'effective', 'permitted']) assert.deepEqual(raw.capabilities[set], [...DEFAULT_CAPABILITIES, 'CAP_NET_RAW']);
  assert.deepEqual(Object.keys(p.capabilities).sort(), ['bounding', 'effective', 'permitted']);
  assert.ok(!DEFAULT_CAPABILITIES.includes('CAP_SYS_ADMIN') && !DEFAULT_CAPABILITIES.includes('CAP_NET_ADMIN'));
  assert.equal(p.noNewPrivileges, true);
  assert.deepEqual(p.user, { uid: 1000, gid: 1000, additionalGids: [5] });
  assert.deepEqual(p.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 }]);
});

test('mounts: standard set, /sys and cgroup read-only, resolv.conf only when given', () => {
  const plain = buildOciConfig(input).mounts;
  assert.deepEqual(plain.map((m) => m.destination), ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup', '/tmp']);
  for (const d of ['/sys', '/sys/fs/cgroup']) assert.ok(plain.find((m) => m.destination === d)?.options?.includes('ro'));
  const withDns = buildOciConfig({ ...input, resolvConf: '/etc/resolv.conf' }).mounts.at(-1);
  assert.deepEqual(withDns, { destination: '/etc/resolv.conf', type: 'bind', source: '/etc/resolv.conf', options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] });
});

test('seccomp: deny by default with EPERM; dangerous syscalls are not allowed', () => {
  const s = defaultSeccompProfile();
  assert.equal(s.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(s.defaultErrnoRet, 1);
  assert.deepEqual(s.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  const allowedAnyhow = new Set(s.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names));
  const denied = ['keyctl', 'add_key', 'request_key', 'kexec_load', 'kexec_file_load', 'userfaultfd', 'io_uring_setup', 'io_uring_enter',
    'io_uring_register', 'bpf', 'perf_event_open', 'ptrace', 'mount', 'umount2', 'unshare', 'setns', 'pivot_root', 'clone', 'clone3'];
  for (const name of denied) assert.ok(!allowedAnyhow.has(name), `${name} must not be allowed unconditionally`);
  assert.equal(new Set(ALLOWED_SYSCALLS).size, ALLOWED_SYSCALLS.length, 'no duplicates');
});

test('seccomp: clone only without namespace flags; clone3 answers ENOSYS so libc falls back to clone', () => {
  const s = defaultSeccompProfile();
  const clone = s.syscalls.find((r) => r.names.includes('clone'));
  assert.deepEqual(clone?.args, [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
  assert.deepEqual(s.syscalls.find((r) => r.names.includes('clone3')), { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
});
