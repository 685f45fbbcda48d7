// runtime/runc/seccomp: Skiff's default seccomp profile (OCI runtime-spec `linux.seccomp`), pure data.
// Modelled on Docker's default (moby profiles/seccomp/default.json): deny by default with EPERM and
// allow a list of ordinary syscalls. Skiff never grants CAP_SYS_ADMIN, so the cap-gated groups of the
// Docker profile collapse to "denied". Deliberate differences, stricter than Docker:
//   - io_uring_setup/enter/register denied (a frequent kernel-exploit surface; Docker dropped them too),
//   - ptrace, process_vm_readv/writev denied (Docker allows them on kernels >= 4.8; functions don't debug).
// Not in the allow list, hence denied: keyctl, add_key, request_key, kexec_*, userfaultfd, bpf,
// perf_event_open, mount, umount2, unshare, setns, pivot_root, chroot, reboot, *_module, ...

export interface SeccompArg { index: number; value: number; op: 'SCMP_CMP_EQ' | 'SCMP_CMP_NE' | 'SCMP_CMP_MASKED_EQ'; valueTwo?: number }
export interface SeccompRule { names: string[]; action: 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO'; errnoRet?: number; args?: SeccompArg[] }
export interface SeccompProfile {
  defaultAction: 'SCMP_ACT_ERRNO';
  defaultErrnoRet: number;
  architectures: string[];
  syscalls: SeccompRule[];
}

const EPERM = 1;
const ENOSYS = 38;
const AF_VSOCK = 40;
// CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
const CLONE_NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;
const PERSONALITY_ALLOWED = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

// Whitespace-separated to keep the list readable; grouped roughly by purpose.
const ALLOWED = `
accept accept4 bind connect getpeername getsockname getsockopt listen recv recvfrom recvmmsg recvmmsg_time64
recvmsg send sendmmsg sendmsg sendto setsockopt shutdown socketcall socketpair
access faccessat faccessat2 chdir fchdir chmod fchmod fchmodat chown chown32 fchown fchown32 fchownat lchown
lchown32 creat open openat openat2 close close_range dup dup2 dup3 fcntl fcntl64 flock link linkat mkdir mkdirat
mknod mknodat rename renameat renameat2 rmdir symlink symlinkat unlink unlinkat readlink readlinkat umask
read readv pread64 preadv preadv2 write writev pwrite64 pwritev pwritev2 lseek _llseek sendfile sendfile64
splice tee vmsplice copy_file_range fadvise64 fadvise64_64 fallocate readahead sync syncfs fsync fdatasync
sync_file_range truncate truncate64 ftruncate ftruncate64 stat stat64 lstat lstat64 fstat fstat64 fstatat64
newfstatat statx statfs statfs64 fstatfs fstatfs64 getdents getdents64 getcwd utime utimes utimensat
utimensat_time64 futimesat name_to_handle_at
getxattr lgetxattr fgetxattr listxattr llistxattr flistxattr setxattr lsetxattr fsetxattr removexattr
lremovexattr fremovexattr
inotify_add_watch inotify_init inotify_init1 inotify_rm_watch fanotify_mark
epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old
eventfd eventfd2 poll ppoll ppoll_time64 select _newselect pselect6 pselect6_time64 pipe pipe2 signalfd
signalfd4 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64
io_setup io_destroy io_submit io_cancel io_getevents io_pgetevents io_pgetevents_time64 ioctl
brk mmap mmap2 munmap mremap mprotect madvise mincore mlock mlock2 mlockall munlock munlockall msync
remap_file_pages membarrier memfd_create memfd_secret pkey_alloc pkey_free pkey_mprotect process_mrelease
execve execveat exit exit_group fork vfork wait4 waitid waitpid kill tkill tgkill pidfd_open pidfd_send_signal
rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait
rt_sigtimedwait_time64 rt_tgsigqueueinfo sigaltstack sigprocmask sigreturn pause restart_syscall
futex futex_time64 futex_waitv set_robust_list get_robust_list set_tid_address set_thread_area
get_thread_area rseq arch_prctl modify_ldt prctl seccomp capget capset
getpid getppid gettid getpgid getpgrp getsid setsid setpgid getuid getuid32 geteuid geteuid32 getgid getgid32
getegid getegid32 getresuid getresuid32 getresgid getresgid32 getgroups getgroups32 setuid setuid32 setgid
setgid32 setreuid setreuid32 setregid setregid32 setresuid setresuid32 setresgid setresgid32 setfsuid
setfsuid32 setfsgid setfsgid32 setgroups setgroups32
getrlimit setrlimit ugetrlimit prlimit64 getrusage getpriority setpriority ioprio_get ioprio_set times
sched_getaffinity sched_setaffinity sched_getattr sched_setattr sched_getparam sched_setparam
sched_getscheduler sched_setscheduler sched_get_priority_max sched_get_priority_min sched_rr_get_interval
sched_rr_get_interval_time64 sched_yield getcpu
clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep clock_nanosleep_time64
clock_adjtime clock_adjtime64 adjtimex gettimeofday time nanosleep alarm getitimer setitimer timer_create
timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64
ipc msgctl msgget msgrcv msgsnd semctl semget semop semtimedop semtimedop_time64 shmat shmctl shmdt shmget
mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64
mq_unlink
getrandom uname sysinfo landlock_add_rule landlock_create_ruleset landlock_restrict_self
`;

export const ALLOWED_SYSCALLS: readonly string[] = ALLOWED.split(/\s+/).filter((s) => s !== '');

export function defaultSeccompProfile(): SeccompProfile {
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: EPERM,
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [
      { names: [...ALLOWED_SYSCALLS], action: 'SCMP_ACT_ALLOW' },
      // every address family but vsock (host<->VM channel)
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: AF_VSOCK, op: 'SCMP_CMP_NE' }] },
      ...PERSONALITY_ALLOWED.map((value): SeccompRule => ({
        names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }],
      })),
      // threads and plain forks, but no new namespaces: allowed only when no namespace flag is set
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
      // clone3 passes flags in memory seccomp cannot inspect: ENOSYS makes libc fall back to clone
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
    ],
  };
}
