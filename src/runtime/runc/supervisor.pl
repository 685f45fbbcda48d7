#!/usr/bin/perl
# runtime/runc/supervisor.pl: the per-instance supervisor, spawned detached (own session) by supervisor.ts
# at create. It makes itself a child subreaper, runs `runc create` with its own pipes as the container's
# stdout/stderr, and stays: when runc create exits, the container's init is re-parented to it, so it can
# reap the init and learn the real exit status — the only reliable way, since the init is nobody else's
# child. It writes the output as timestamped, size-rotated lines (format: log-file.ts) and, at the exit,
# exit.json = {status, signal, oomKills, pidsLimitHits}. start() then only has to release the created init (exec-fifo.ts).
# Why Perl and not Node: Node cannot call prctl(PR_SET_CHILD_SUBREAPER), and a Node process costs ~43 MB
# RSS and ~70 ms to start; perl (Debian, essential) costs ~5 MB and ~10 ms (docs/runtime.md).
# Usage: perl supervisor.pl RUNC RUNC_ROOT ID BUNDLE INIT_PID_FILE EXIT_FILE LOGS_DIR MAX_BYTES KEEP CGROUPS_PATH
use strict;
use warnings;
use Config;
use Fcntl qw(F_SETFL O_NONBLOCK);
use POSIX qw(WNOHANG EINTR strftime);
use Time::HiRes qw(time);

my ($runc, $root, $id, $bundle, $pid_file, $exit_file, $logs_dir, $max_bytes, $keep, $cgroups_path) = @ARGV;
die "usage: supervisor.pl RUNC ROOT ID BUNDLE PIDFILE EXITFILE LOGSDIR MAXBYTES KEEP CGROUP\n" unless defined $cgroups_path;

my %SYS_PRCTL = (x86_64 => 157, aarch64 => 167);
my ($arch) = $Config{archname} =~ /^([^-]+)/;
my $sys_prctl = $SYS_PRCTL{$arch} // die "supervisor.pl: no prctl syscall number for $arch\n";
syscall($sys_prctl, 36, 1, 0, 0, 0) == 0 or die "prctl(PR_SET_CHILD_SUBREAPER): $!\n"; # 36 = PR_SET_CHILD_SUBREAPER

# --- logs: "<ISO time> <stream> <line>\n", rotated output.log -> .1 -> ... -> .<keep>, oldest dropped
my $log_path = "$logs_dir/output.log";
my ($log_fh, $log_size);
sub open_log { open($log_fh, '>>', $log_path) or die "open $log_path: $!\n"; $log_size = -s $log_fh; }
sub rotate {
  close $log_fh;
  my $name = sub { $_[0] == 0 ? $log_path : "$log_path.$_[0]" };
  unlink $name->($keep);
  for (my $n = $keep - 1; $n >= 0; $n--) { rename($name->($n), $name->($n + 1)) or $!{ENOENT} or die "rotate: $!\n"; }
  open_log();
}
sub write_line {
  my ($stream, $line) = @_;
  my $t = time;
  my $rec = strftime('%Y-%m-%dT%H:%M:%S', gmtime $t) . sprintf('.%03dZ', ($t - int $t) * 1000) . " $stream $line\n";
  rotate() if $log_size > 0 && $log_size + length($rec) > $max_bytes;
  syswrite($log_fh, $rec) // die "write $log_path: $!\n";
  $log_size += length $rec;
}
open_log();

# --- runc create, its stdout/stderr (and so the container's) on our pipes
pipe(my $out_r, my $out_w) or die "pipe: $!\n";
pipe(my $err_r, my $err_w) or die "pipe: $!\n";
pipe(my $wake_r, my $wake_w) or die "pipe: $!\n"; # SIGCHLD writes here so select() never sleeps through it
fcntl($wake_w, F_SETFL, O_NONBLOCK) or die "fcntl: $!\n"; # a full wake pipe already wakes select()
$SIG{CHLD} = sub { syswrite($wake_w, 'x') };
my $runc_pid = fork() // die "fork: $!\n";
if ($runc_pid == 0) {
  open(STDIN, '<', '/dev/null'); open(STDOUT, '>&', $out_w); open(STDERR, '>&', $err_w);
  exec($runc, '--root', $root, 'create', '--bundle', $bundle, '--pid-file', $pid_file, $id) or POSIX::_exit(127);
}
close $out_w; close $err_w;

my %streams = (fileno($out_r) => ['stdout', $out_r, ''], fileno($err_r) => ['stderr', $err_r, '']);
my %reaped; # pid => wait status
my ($init_pid, $status, $signal);
sub exit_status { my $w = shift; ($w & 127) ? 128 + ($w & 127) : $w >> 8 }

while (!defined $status || %streams) {
  my $rin = '';
  vec($rin, $_, 1) = 1 for keys %streams;
  vec($rin, fileno($wake_r), 1) = 1 unless defined $status;
  # once the init is gone, drain what is left but do not wait on a descendant that kept the pipes
  my $n = select(my $rout = $rin, undef, undef, defined $status ? 1 : 5);
  if ($n < 0) { next if $! == EINTR; die "select: $!\n"; }
  last if $n == 0 && defined $status;
  sysread($wake_r, my $junk, 512) if vec($rout, fileno($wake_r), 1);
  for my $fd (keys %streams) {
    next unless vec($rout, $fd, 1);
    my $s = $streams{$fd};
    my $got = sysread($s->[1], my $buf, 65536);
    if (!$got) { write_line($s->[0], $s->[2]) if $s->[2] ne ''; delete $streams{$fd}; next; }
    my @lines = split /\n/, $s->[2] . $buf, -1;
    $s->[2] = pop @lines;
    write_line($s->[0], $_) for @lines;
  }
  while ((my $pid = waitpid(-1, WNOHANG)) > 0) { $reaped{$pid} = $?; }
  if (!defined $init_pid && exists $reaped{$runc_pid}) {
    my $rc = exit_status(delete $reaped{$runc_pid});
    if ($rc != 0) { ($status, $signal) = ($rc, 0); next; } # runc create failed; its error is in the log
    open(my $pf, '<', $pid_file) or die "read $pid_file: $!\n";
    ($init_pid) = (<$pf> // '') =~ /(\d+)/;
    die "no pid in $pid_file\n" unless defined $init_pid;
  }
  if (defined $init_pid && exists $reaped{$init_pid}) {
    my $w = delete $reaped{$init_pid};
    ($status, $signal) = (exit_status($w), $w & 127);
  }
}
for my $s (values %streams) { write_line($s->[0], $s->[2]) if $s->[2] ne ''; }
close $log_fh;

my $oom = 0;
for my $f ("/sys/fs/cgroup/$cgroups_path/memory.events", "/sys/fs/cgroup/memory/$cgroups_path/memory.oom_control") {
  open(my $fh, '<', $f) or next;
  while (<$fh>) { $oom = $1 if /^oom_kill (\d+)/; }
}
# forks refused at the pids limit ("max N" in pids.events, v2 path first, then v1's)
my $pids_max = 0;
for my $f ("/sys/fs/cgroup/$cgroups_path/pids.events", "/sys/fs/cgroup/pids/$cgroups_path/pids.events") {
  open(my $fh, '<', $f) or next;
  while (<$fh>) { $pids_max = $1 if /^max (\d+)/; }
}
my $tmp = "$exit_file.tmp";
open(my $ef, '>', $tmp) or die "write $tmp: $!\n";
print $ef qq({"status":$status,"signal":$signal,"oomKills":$oom,"pidsLimitHits":$pids_max});
close $ef or die "write $tmp: $!\n";
rename($tmp, $exit_file) or die "rename $tmp: $!\n";
