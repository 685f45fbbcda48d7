// test/helpers/swarm-lab: a real multi-node Docker Swarm on this one machine, for tests and benchmarks
// of a Swarm instance driver. Each node is a dockerd (with its own managed containerd) in its own network
// namespace, mount namespace (private /run, /etc/docker, /etc/resolv.conf → 127.0.0.1, host cgroups
// re-mounted), UTS namespace (hostname `<prefix>-N`) and PID namespace whose PID 1 is docker-init: a
// SIGKILL of that init takes the whole node down (dockerd, containerd, shims, containers) as a real node
// failure would. The nodes' veths meet on a bridge that lives in a namespace of its own (no host
// iptables or sysctl is involved or changed); the host joins that bridge with one veth (`<prefix>-h`,
// the subnet's .1 = hostAddress), so it reaches every node address and nodes reach host listeners.
// Nodes have no default route and resolve nothing, so a pull or lookup fails at once instead of waiting.
// No IPVS in this kernel: services need `--endpoint-mode dnsrr` and host-mode ports (see
// shared/notes/swarm-on-one-machine.md). stop() removes everything (processes, namespaces, veth, cgroup
// dirs, the lab dir), also after a failed start; a process 'exit'/SIGINT/SIGTERM safety net does the same.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeSubnetOctet, requireTool, run, type RunResult } from './tools.ts';

export interface SwarmNode {
  index: number;
  /** hostname (and swarm node hostname), `${prefix}-${index}` */
  name: string;
  /** the node's IP on the lab bridge */
  address: string;
  /** absolute path of the node dockerd's unix socket */
  socket: string;
  /** `unix://${socket}` */
  host: string;
  /** swarm node id */
  id: string;
  /** the node's directory (data-root, exec-root, dockerd.log, ...) */
  dir: string;
  /** network namespace name (`ip netns exec <netns> …` runs a command "on" the node's network) */
  netns: string;
}

export interface SwarmLab {
  nodes: SwarmNode[];
  /** nodes[0], the only manager */
  manager: SwarmNode;
  /** the host's address on the lab network: nodes reach host listeners here */
  hostAddress: string;
  /** e.g. 10.77.0.0/24 */
  subnet: string;
  /** the lab directory (under os.tmpdir(), `skiff-swarmlab-…`) */
  dir: string;
  /** names of the lab's netns/veth/cgroups start with this */
  prefix: string;
  /** milliseconds startSwarmLab took until all nodes were Ready (and labelled) */
  startMs: number;
  /** the docker CLI against node N's dockerd (1-based), own DOCKER_CONFIG, legacy builder */
  docker(node: number, args: string[], opts?: { input?: string }): Promise<RunResult>;
  /** `docker save ref` on node `from` piped into `docker load` on each of `to` (default: every other node) */
  copyImage(ref: string, from: number, to?: number[]): Promise<void>;
  /** the last lines of node N's dockerd log */
  logTail(node: number, lines?: number): string;
  /** SIGKILL the node (init of its PID namespace: dockerd, containerd, shims, containers all die); resolves when they are gone */
  killNode(node: number): Promise<void>;
  /** start a killed node again on the same data root; resolves when its dockerd answers */
  restartNode(node: number): Promise<void>;
  /** idempotent; removes everything the lab made, and throws listing anything it could not */
  stop(): Promise<void>;
}

export interface SwarmLabOptions {
  /** names of netns/veth/hostnames/cgroups; default `sl` + 4 hex (≤ 13 chars: interface names ≤ 15) */
  prefix?: string;
  /** a /24, `a.b.c.0/24`; default the first 10.77.X.0/24 no host interface has an address in */
  subnet?: string;
  /** default 3 */
  nodes?: number;
  /** passed to every dockerd as --insecure-registry */
  insecureRegistries?: string[];
  /** node labels by node index, set after the join */
  labels?: Record<number, Record<string, string>>;
}

const DOCKERD_READY_MS = 60_000;
const SWARM_READY_MS = 60_000;
const KILL_WAIT_MS = 20_000;

interface NodeState {
  node: SwarmNode;
  launcher?: ChildProcess;
  exited?: Promise<void>;
  alive: boolean;
  exitNote?: string;
}

/** sync teardown of every lab still running, for the process 'exit' / signal safety net */
const liveLabs = new Map<string, () => void>();
let netInstalled = false;
function installSafetyNet(): void {
  if (netInstalled) return;
  netInstalled = true;
  process.on('exit', () => { for (const f of liveLabs.values()) f(); });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const f of liveLabs.values()) f();
      // the default action now that our listener is gone, unless the program handles the signal itself
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

/** sh: waits for $SL_PID to die, then does what stop() does (kill the nodes, cgroup dirs, veth, netns, dir) */
const WATCHDOG = `
while kill -0 "$SL_PID" 2>/dev/null; do sleep 1; done
i=0
while [ $i -lt 100 ]; do
  found=
  for p in /proc/[0-9]*; do
    [ "\${p#/proc/}" = "$$" ] && continue
    case "$(tr '\\0' ' ' < "$p/cmdline" 2>/dev/null)" in *"$SL_DIR"*) found=1; kill -9 "\${p#/proc/}" 2>/dev/null ;; esac
  done
  [ -z "$found" ] && break
  sleep 0.2; i=$((i + 1))
done
i=0
while [ $i -lt 100 ]; do
  left=$(find /sys/fs/cgroup/*/"$SL_PREFIX"-[0-9]* -depth -type d 2>/dev/null)
  [ -z "$left" ] && break
  for d in $left; do rmdir "$d" 2>/dev/null; done
  sleep 0.2; i=$((i + 1))
done
ip link del "$SL_VETH" 2>/dev/null
for ns in $SL_NS; do ip netns del "$ns" 2>/dev/null; done
rm -rf "$SL_DIR"
`;

/** 10.77.X.0/24 with X the first from pid % 250 on that no host interface has an address in (and no lab
 *  of this process started with): labs of parallel test files do not pick the same one */
const subnetsTaken = new Set<number>();
function defaultSubnet(): string {
  let start = process.pid % 250;
  for (let i = 0; i < 250; i++) {
    const x = freeSubnetOctet(77, start);
    if (!subnetsTaken.has(x)) {
      subnetsTaken.add(x);
      return `10.77.${x}.0/24`;
    }
    start = (x + 1) % 250;
  }
  throw new Error('swarm-lab: no free 10.77.X.0/24');
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** docker-init's host pid: the one child of the `unshare --fork` launcher */
function initPid(launcherPid: number): number | undefined {
  try {
    const kids = readFileSync(`/proc/${launcherPid}/task/${launcherPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return kids[0];
  } catch {
    return undefined;
  }
}

/** a pid still running (not gone, not a zombie) */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** GET/POST on a dockerd socket; resolves with status and parsed body (or text) */
function api(socket: string, method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ socketPath: socket, method, path: urlPath, headers: data ? { 'content-type': 'application/json' } : {}, timeout: 5_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let parsed: unknown = text;
        try { parsed = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath} on ${socket}: timed out`)));
    req.on('error', reject);
    req.end(data);
  });
}

/** shell lines that re-create the host's /sys/fs/cgroup mounts (and symlinks) in a node's mount namespace:
 *  `ip netns exec` mounts a fresh sysfs on /sys, which hides them */
function cgroupMountScript(): string {
  const lines: string[] = [];
  for (const l of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const [src, mp, type, opts] = l.split(' ');
    if (!src || !mp || !type || !opts || (mp !== '/sys/fs/cgroup' && !mp.startsWith('/sys/fs/cgroup/'))) continue;
    lines.push(`mkdir -p ${q(mp)} && mount -t ${q(type)} -o ${q(opts)} ${q(src)} ${q(mp)}`);
  }
  try {
    for (const e of readdirSync('/sys/fs/cgroup', { withFileTypes: true })) {
      if (!e.isSymbolicLink()) continue;
      const p = `/sys/fs/cgroup/${e.name}`;
      lines.push(`ln -sfn ${q(execFileSync('readlink', [p], { encoding: 'utf8' }).trim())} ${q(p)}`);
    }
  } catch { /* no cgroup fs */ }
  return lines.join('\n');
}

/** the node's init: runs as docker-init's child inside the node's namespaces, sets up its mounts, execs dockerd */
function nodeInitScript(labDir: string, n: SwarmNode, prefix: string, cgroups: string, insecure: string[]): string {
  const N = n.dir;
  const dockerd = [
    'dockerd',
    '--config-file', `${N}/daemon.json`,
    '--data-root', `${N}/data`,
    '--exec-root', `${N}/exec`,
    '--pidfile', `${N}/dockerd.pid`,
    '-H', n.host,
    '--cgroup-parent', `/${prefix}-${n.index}`,
    '--storage-driver', 'overlay2',
    ...insecure.flatMap((r) => ['--insecure-registry', r]),
  ];
  return `#!/bin/sh
# swarm-lab node ${n.index} init (generated): runs inside the node's net/mount/uts/pid namespaces
set -e
# The host's other mounts (netns files, overlays, other tests' dirs) were copied into this mount namespace
# and would stay pinned as long as the node runs: detach them, all in one umount call (one call per mount
# takes seconds when the host has many). Kept: /, /proc, /sys, /dev, system dirs, the mounts holding the lab dir.
awk -v dir=${q(labDir + '/')} '{
  mp = $5; fs = ""
  for (i = 7; i <= NF; i++) if ($i == "-") { fs = $(i + 1); break }
  if (mp == "/") next
  if (fs != "nsfs" && fs != "overlay") {
    if (mp ~ /^\\/(proc|sys|dev|usr|etc|bin|sbin|lib[^\\/]*|opt)(\\/|$)/) next
    if (index(dir, mp "/") == 1) next
  }
  print mp
}' /proc/self/mountinfo | sort -r | xargs -r -d '\\n' umount -l 2>/dev/null || true
${cgroups}
# containerd 1.6 puts shim sockets in /run/containerd/s; dockerd would use a system containerd if
# /run/containerd/containerd.sock existed: a private /run per node
mount -t tmpfs -o mode=755,size=64m swarmlab-run /run
# dockerd's engine id (key.json) lives in /etc/docker
mount --bind ${q(`${N}/etc-docker`)} /etc/docker
# resolve nothing, at once (no ~20 s DNS timeouts on pulls and creates)
resolv=$(readlink -m /etc/resolv.conf)
case "$resolv" in
  /run/*) mkdir -p "$(dirname "$resolv")"; cp ${q(`${N}/resolv.conf`)} "$resolv" ;;
  *) mount --bind ${q(`${N}/resolv.conf`)} "$resolv" ;;
esac
hostname ${q(n.name)}
ip link set lo up
exec ${dockerd.map(q).join(' ')}
`;
}

export async function startSwarmLab(opts: SwarmLabOptions = {}): Promise<SwarmLab> {
  const t0 = Date.now();
  const count = opts.nodes ?? 3;
  const prefix = opts.prefix ?? `sl${randomBytes(2).toString('hex')}`;
  if (!/^[a-z][a-z0-9]{0,12}$/.test(prefix)) throw new Error(`swarm-lab prefix ${prefix}: 1-13 lowercase letters/digits, starting with a letter`);
  if (count < 1 || count > 200) throw new Error(`swarm-lab: ${count} nodes`);
  const subnet = opts.subnet ?? defaultSubnet();
  const m = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(subnet);
  if (!m) throw new Error(`swarm-lab subnet ${subnet}: must be a.b.c.0/24`);
  const base = m[1]!;
  const hostAddress = `${base}.1`;
  const brNs = `${prefix}-br`;
  const hostVeth = `${prefix}-h`;
  // /etc/docker is bind-mounted per node; it exists wherever docker.io is installed
  mkdirSync('/etc/docker', { recursive: true });

  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-swarmlab-'));
  const clientDir = path.join(dir, 'client');
  mkdirSync(clientDir);
  const env = { ...process.env, DOCKER_CONFIG: clientDir, DOCKER_BUILDKIT: '0', DOCKER_CLI_HINTS: 'false' };
  const states: NodeState[] = [];
  for (let i = 1; i <= count; i++) {
    const ndir = path.join(dir, `n${i}`);
    const socket = path.join(ndir, 'docker.sock');
    states.push({
      alive: false,
      node: { index: i, name: `${prefix}-${i}`, address: `${base}.${10 + i}`, socket, host: `unix://${socket}`, id: '', dir: ndir, netns: `${prefix}-${i}` },
    });
  }
  const nodes = states.map((s) => s.node);
  const st = (i: number): NodeState => {
    const s = states[i - 1];
    if (!s) throw new Error(`swarm-lab: no node ${i} (1..${count})`);
    return s;
  };
  const docker = (i: number, args: string[], o: { input?: string } = {}) => run('docker', ['-H', st(i).node.host, ...args], { input: o.input, env });
  const logTail = (i: number, lines = 25) => {
    try {
      return readFileSync(path.join(st(i).node.dir, 'dockerd.log'), 'utf8').trim().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  };

  // ---- teardown (sync, so the exit safety net can use it too) ----
  let netnsMade = false;
  const teardownSync = (): string[] => {
    const problems: string[] = [];
    try { if (watchdog.pid) process.kill(watchdog.pid, 'SIGKILL'); } catch { /* gone */ }
    // 1. kill every node's PID namespace; its init's exit waits for all its processes to be gone
    const launchers = states.map((s) => s.launcher?.pid).filter((p): p is number => !!p);
    for (const l of launchers) {
      const init = initPid(l);
      try { if (init) process.kill(init, 'SIGKILL'); } catch { /* gone */ }
      try { process.kill(l, 'SIGKILL'); } catch { /* gone */ } // --kill-child: SIGKILLs the init too
    }
    const deadline = Date.now() + KILL_WAIT_MS;
    const labProcs = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid).filter((p) => {
      try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir); } catch { return false; }
    });
    for (;;) {
      const left = labProcs();
      if (!left.length) break;
      if (Date.now() > deadline) {
        problems.push(`processes still running: ${left.join(' ')}`);
        break;
      }
      for (const p of left) { try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ } }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
    }
    for (const s of states) s.alive = false;
    // 2. the nodes' cgroup trees (--cgroup-parent /<prefix>-N), depth-first; a just-emptied cgroup can be busy briefly
    const cgDirs = (): string[] => {
      const out: string[] = [];
      const walk = (d: string) => {
        let entries;
        try { entries = readdirSync(d, { withFileTypes: true }); } catch { return; }
        for (const e of entries) if (e.isDirectory()) walk(path.join(d, e.name));
        out.push(d);
      };
      let ctrls: string[] = [];
      try { ctrls = readdirSync('/sys/fs/cgroup'); } catch { /* none */ }
      for (const c of ctrls) for (const s of states) {
        const d = `/sys/fs/cgroup/${c}/${prefix}-${s.node.index}`;
        if (existsSync(d)) walk(d);
      }
      return out;
    };
    for (let tries = 0; ; tries++) {
      const left = cgDirs();
      for (const d of left) { try { rmdirSync(d); } catch { /* retried */ } }
      const still = cgDirs();
      if (!still.length) break;
      if (tries > 200) { problems.push(`cgroup dirs left: ${still.join(' ')}`); break; }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
    }
    // 3. network: the host veth (its peer goes too), then the namespaces (their veths go with them)
    if (netnsMade) {
      try { execFileSync('ip', ['link', 'del', hostVeth], { stdio: 'ignore' }); } catch { /* never made or gone */ }
      for (const ns of [...states.map((s) => s.node.netns), brNs]) {
        try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* never made or gone */ }
      }
      const nsLeft = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(`${prefix}-`));
      if (nsLeft.length) problems.push(`netns left: ${nsLeft.join(' ')}`);
      if (existsSync(`/sys/class/net/${hostVeth}`)) problems.push(`interface left: ${hostVeth}`);
    }
    // 4. mounts (none expected on the host: node mounts live in the nodes' namespaces) and the directory
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((mp) => mp.startsWith(dir));
    for (const mp of mounts.sort().reverse()) { try { execFileSync('umount', ['-l', mp], { stdio: 'ignore' }); } catch { /* reported below */ } }
    if (mounts.length) problems.push(`host mounts were left under the lab dir: ${mounts.join(' ')}`);
    try { rmSync(dir, { recursive: true, force: true }); } catch (err) { problems.push(`lab dir: ${(err as Error).message}`); }
    return problems;
  };
  // A watchdog removes the lab if this process dies without stop() or the exit net (SIGKILL, a test
  // runner's timeout). Its command line does not name the lab dir (that is passed in its environment).
  const watchdog = spawn('sh', ['-c', WATCHDOG, 'swarmlab-watchdog'], {
    detached: true, stdio: 'ignore',
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', SL_PID: String(process.pid), SL_DIR: dir, SL_PREFIX: prefix, SL_VETH: hostVeth, SL_NS: [...states.map((s) => s.node.netns), brNs].join(' ') },
  });
  watchdog.unref();
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      liveLabs.delete(dir);
      for (const s of states) if (s.alive) s.launcher?.ref();
      const problems = teardownSync();
      // let the launchers' exit events run (reaps the zombies)
      await Promise.all(states.map((s) => s.exited && Promise.race([s.exited, sleep(2_000, undefined, { ref: false })])));
      if (problems.length) throw new Error(`swarm-lab ${prefix} stop left things behind:\n${problems.join('\n')}`);
    })());
  installSafetyNet();
  liveLabs.set(dir, () => { liveLabs.delete(dir); teardownSync(); });

  // ---- nodes ----
  const cgroups = cgroupMountScript();
  const insecure = opts.insecureRegistries ?? [];
  const launch = (s: NodeState) => {
    const n = s.node;
    rmSync(path.join(n.dir, 'exec'), { recursive: true, force: true });
    rmSync(path.join(n.dir, 'dockerd.pid'), { force: true });
    const logFd = openSync(path.join(n.dir, 'dockerd.log'), 'a');
    const child = spawn(
      'ip',
      ['netns', 'exec', n.netns, 'unshare', '--uts', '--pid', '--fork', '--mount-proc', '--kill-child', 'docker-init', '--', 'sh', path.join(n.dir, 'init.sh')],
      { stdio: ['ignore', logFd, logFd], detached: true, env },
    );
    closeSync(logFd);
    child.unref(); // a lab nobody stopped must not keep the process alive: the exit safety net removes it
    s.launcher = child;
    s.alive = true;
    s.exitNote = undefined;
    s.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => { s.alive = false; s.exitNote = `node ${n.index} exited with ${code ?? signal}`; resolve(); });
      child.once('error', (err) => { s.alive = false; s.exitNote = `node ${n.index}: ${err.message}`; resolve(); });
    });
  };
  const waitDockerd = async (s: NodeState) => {
    const deadline = Date.now() + DOCKERD_READY_MS;
    for (;;) {
      if (!s.alive) throw new Error(s.exitNote ?? `node ${s.node.index} is not running`);
      const ok = await api(s.node.socket, 'GET', '/_ping').then((r) => r.status === 200, () => false);
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`node ${s.node.index}: dockerd did not answer within ${DOCKERD_READY_MS} ms`);
      await sleep(50);
    }
  };
  const swarmNodes = async (): Promise<Array<{ ID: string; Description?: { Hostname?: string }; Status?: { State?: string } }>> => {
    const r = await api(nodes[0]!.socket, 'GET', '/nodes');
    if (r.status !== 200 || !Array.isArray(r.body)) throw new Error(`GET /nodes: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const waitState = async (want: Map<string, string>, ms: number) => {
    const deadline = Date.now() + ms;
    let last = '';
    for (;;) {
      const list = await swarmNodes().catch((err: Error) => (last = err.message, []));
      if (list.length) last = list.map((x) => `${x.Description?.Hostname}=${x.Status?.State}`).join(' ');
      const byName = new Map(list.map((x) => [x.Description?.Hostname ?? '', x]));
      if ([...want].every(([name, state]) => byName.get(name)?.Status?.State === state)) return byName;
      if (Date.now() > deadline) throw new Error(`swarm nodes not ${[...want].map(([n, s]) => `${n}=${s}`).join(' ')} within ${ms} ms (last: ${last})`);
      await sleep(100);
    }
  };

  const killNode = async (i: number) => {
    const s = st(i);
    const l = s.launcher?.pid;
    if (!s.alive || !l) return;
    const init = initPid(l);
    s.launcher!.ref(); // keep the event loop alive until its exit event
    try { process.kill(init ?? l, 'SIGKILL'); } catch { /* gone */ }
    // unshare exits once its child, the PID namespace's init, is reaped, which the kernel delays until
    // every other process of the namespace is gone
    const done = await Promise.race([s.exited!.then(() => true), sleep(KILL_WAIT_MS, false, { ref: false })]);
    if (!done) throw new Error(`node ${i}: still running ${KILL_WAIT_MS} ms after SIGKILL`);
    const deadline = Date.now() + 5_000;
    while ((init && running(init)) || running(l)) {
      if (Date.now() > deadline) throw new Error(`node ${i}: init ${init} still running after its launcher exited`);
      await sleep(20);
    }
  };
  const restartNode = async (i: number) => {
    const s = st(i);
    if (stopped) throw new Error('swarm-lab: restartNode after stop()');
    if (s.alive) throw new Error(`node ${i} is running: killNode(${i}) first`);
    launch(s);
    await waitDockerd(s);
  };
  const copyImage = async (ref: string, from: number, to?: number[]) => {
    const targets = to ?? nodes.map((n) => n.index).filter((i) => i !== from);
    await Promise.all(targets.map((i) =>
      run('bash', ['-c', `set -o pipefail; docker -H "$1" save "$3" | docker -H "$2" load -q`, 'sh', st(from).node.host, st(i).node.host, ref], { env })));
  };

  const lab: SwarmLab = {
    nodes, manager: nodes[0]!, hostAddress, subnet, dir, prefix, startMs: 0,
    docker, copyImage, logTail, killNode, restartNode, stop,
  };

  try {
    // network: bridge in its own netns (no host iptables/sysctls in the path), host veth .1, node veths .11+
    const ip = (...args: string[]) => run('ip', args);
    netnsMade = true;
    await ip('netns', 'add', brNs);
    await ip('-n', brNs, 'link', 'set', 'lo', 'up');
    await ip('-n', brNs, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', brNs, 'link', 'set', 'br0', 'up');
    await ip('link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'host', 'netns', brNs);
    await ip('addr', 'add', `${hostAddress}/24`, 'dev', hostVeth);
    await ip('link', 'set', hostVeth, 'up');
    await ip('-n', brNs, 'link', 'set', 'host', 'master', 'br0', 'up');
    for (const n of nodes) {
      await ip('netns', 'add', n.netns);
      await ip('-n', brNs, 'link', 'add', `n${n.index}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.netns);
      await ip('-n', brNs, 'link', 'set', `n${n.index}`, 'master', 'br0', 'up');
      await ip('-n', n.netns, 'addr', 'add', `${n.address}/24`, 'dev', 'eth0');
      await ip('-n', n.netns, 'link', 'set', 'eth0', 'up');
      await ip('-n', n.netns, 'link', 'set', 'lo', 'up');
    }

    for (const s of states) {
      const n = s.node;
      mkdirSync(path.join(n.dir, 'etc-docker'), { recursive: true });
      writeFileSync(path.join(n.dir, 'daemon.json'), '{}\n'); // the host's /etc/docker/daemon.json cannot change this daemon
      writeFileSync(path.join(n.dir, 'resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
      writeFileSync(path.join(n.dir, 'init.sh'), nodeInitScript(dir, n, prefix, cgroups, insecure));
      launch(s);
    }
    await Promise.all(states.map(waitDockerd));

    const mgr = nodes[0]!;
    await docker(1, ['swarm', 'init', '--advertise-addr', mgr.address, '--listen-addr', `${mgr.address}:2377`, '--dispatcher-heartbeat', '1s']);
    const token = (await docker(1, ['swarm', 'join-token', '-q', 'worker'])).stdout.trim();
    await Promise.all(nodes.slice(1).map((n) =>
      docker(n.index, ['swarm', 'join', '--token', token, '--advertise-addr', n.address, '--listen-addr', `${n.address}:2377`, `${mgr.address}:2377`])));
    const byName = await waitState(new Map(nodes.map((n) => [n.name, 'ready'])), SWARM_READY_MS);
    for (const n of nodes) n.id = byName.get(n.name)!.ID;
    for (const [idx, labels] of Object.entries(opts.labels ?? {})) {
      const n = st(Number(idx)).node;
      const adds = Object.entries(labels).flatMap(([k, v]) => ['--label-add', `${k}=${v}`]);
      if (adds.length) await docker(1, ['node', 'update', ...adds, n.id]);
    }
    lab.startMs = Date.now() - t0;
    return lab;
  } catch (err) {
    // containerd's and dockerd's info lines bury the one line that says why
    const tails = states.map((s) => `--- node ${s.node.index} dockerd log (no info lines) ---\n${
      logTail(s.node.index, 400).split('\n').filter((l) => !/level=(info|debug)/.test(l)).slice(-12).join('\n')}`).join('\n');
    await stop().catch((e: Error) => console.error(e.message));
    throw new Error(`swarm-lab ${prefix} did not start: ${(err as Error).message}\n${tails}`);
  }
}

/** The lab accessor useSwarmLab returns; `skip` is a reason to skip (not root and not CI, dockerd missing). */
export interface SwarmLabHandle {
  (): SwarmLab;
  skip: string | undefined;
}

/**
 * For test files: starts a lab once per file (in a `before` hook) and stops it in an `after` hook (also
 * when tests fail). Under CI=true or as root a missing dockerd/docker is an error naming docker.io; as
 * non-root off CI the lab is not started and `handle.skip` says why: pass it as `{ skip: handle.skip }`.
 */
export function useSwarmLab(opts?: SwarmLabOptions): SwarmLabHandle {
  const skip = requireTool('dockerd', 'docker.io') ?? requireTool('docker-init', 'docker.io') ?? requireTool('docker', 'docker.io');
  let lab: SwarmLab | undefined;
  const handle = (() => {
    if (!lab) throw new Error(skip ? `swarm lab not started: ${skip}` : 'swarm lab not started (use it inside a test, after the before hook)');
    return lab;
  }) as SwarmLabHandle;
  handle.skip = skip;
  if (!skip) {
    before(async () => { lab = await startSwarmLab(opts); }, { timeout: 120_000 });
    after(async () => { await lab?.stop(); }, { timeout: 60_000 });
  }
  return handle;
}
