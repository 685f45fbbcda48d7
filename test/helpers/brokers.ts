// test/helpers/brokers: real message brokers for the event-trigger tests, each a private child process on
// free 127.0.0.1 ports in a fresh temp dir, never a system instance (whatever Debian started on the
// default ports is neither used nor touched): NATS (optionally with JetStream), RabbitMQ, Redis and
// mosquitto (MQTT 3.1.1 and 5). A start waits until the broker accepts clients (a protocol-level probe,
// not just an open port), `restart()` stops the process and starts it again on the same port with the
// same data dir (so JetStream streams and consumers, durable queues with persistent messages, the Redis
// AOF and mosquitto's persistent sessions survive it), and `stop()` kills the process group (the broker
// and whatever it spawned) and removes the dir. As in test/helpers/postgres.ts, stop() belongs in an
// after-hook (pass the test context as `t` to have it registered), and a process 'exit' handler kills
// what is left when the hook never ran.
//
// Start times measured on the 2-core CI machine kind (Debian 12, gVisor), from the start call to the
// first client accepted: nats-server ~30 ms (with JetStream ~35 ms), redis-server ~30 ms, mosquitto
// ~30 ms; RabbitMQ 3.10 5.1-6.3 s, and a graceful restart() ~6 s (~1 s to stop, then a start). Nearly all
// of RabbitMQ's time is the Erlang VM loading and JIT-compiling ~1000 modules while the broker scans them
// for feature flags and boot steps (CPU-bound: tmpfs instead of disk changed nothing); plugins are off
// and the config is Erlang terms, which skips the Cuttlefish schema translation of rabbitmq.conf.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { freePort, isCI, isRoot } from './tools.ts';

export type BrokerKind = 'nats' | 'rabbitmq' | 'redis' | 'mosquitto';

/** the Debian package that has each broker (scripts/system-packages.sh installs them) */
const PACKAGES: Record<BrokerKind, string> = {
  nats: 'nats-server',
  rabbitmq: 'rabbitmq-server',
  redis: 'redis-server',
  mosquitto: 'mosquitto',
};

/** an executable file at `p` */
function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `name` on PATH or in the sbin dirs (mosquitto is in /usr/sbin, which a non-root PATH lacks) */
function findProgram(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) if (dir && executable(path.join(dir, name))) return path.join(dir, name);
  return undefined;
}

/** RabbitMQ's own start script. Debian's /usr/sbin/rabbitmq-server is a wrapper that `su`s to the
 *  rabbitmq user and cds to /var/lib/rabbitmq; the script it wraps runs as any user, root included. */
function findRabbitScript(): string | undefined {
  const debian = '/usr/lib/rabbitmq/bin/rabbitmq-server';
  if (executable(debian)) return debian;
  const onPath = findProgram('rabbitmq-server');
  if (onPath && !readFileSync(onPath, 'utf8').includes('su rabbitmq')) return onPath;
  return undefined;
}

/** epmd, the Erlang port mapper: on PATH (erlang-base links it into /usr/bin) or in the runtime's dir */
function findEpmd(): string | undefined {
  const onPath = findProgram('epmd');
  if (onPath) return onPath;
  const root = '/usr/lib/erlang';
  const erts = existsSync(root) ? readdirSync(root).filter((d) => d.startsWith('erts-')) : [];
  return erts.map((d) => path.join(root, d, 'bin', 'epmd')).find(executable);
}

function programsOf(kind: BrokerKind): Record<string, string | undefined> {
  switch (kind) {
    case 'nats':
      return { 'nats-server': findProgram('nats-server') };
    case 'redis':
      return { 'redis-server': findProgram('redis-server') };
    case 'mosquitto':
      return { mosquitto: findProgram('mosquitto') };
    case 'rabbitmq':
      return { 'rabbitmq-server': findRabbitScript(), epmd: findEpmd() };
  }
}

function program(kind: BrokerKind, name: string): string {
  const p = programsOf(kind)[name];
  if (!p) throw new Error(`${name} not found: apt-get install ${PACKAGES[kind]}`);
  return p;
}

/**
 * Use as `describe(name, { skip: requireBroker('nats') }, ...)`: undefined when the broker can be
 * started; outside CI a skip reason when its programs are missing; under CI a missing broker fails the
 * file naming the Debian package.
 */
export function requireBroker(kind: BrokerKind): string | undefined {
  const missing = Object.entries(programsOf(kind))
    .filter(([, p]) => !p)
    .map(([name]) => name);
  if (missing.length === 0) return undefined;
  if (!isCI) return `needs ${missing.join(' and ')} (Debian package ${PACKAGES[kind]})`;
  throw new Error(`${missing.join(' and ')} not found: apt-get install ${PACKAGES[kind]}`);
}

export interface Broker {
  readonly kind: BrokerKind;
  /** the URL a client connects to, e.g. nats://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** the temp dir: config, data and log (removed by stop()) */
  readonly dir: string;
  /** the broker's process id while it runs */
  readonly pid: number | undefined;
  /** how long the last start or restart took until the broker accepted a client, in ms */
  readonly startMs: number;
  /** the last lines of the broker's output, for an assertion message */
  logTail(lines?: number): string;
  /**
   * Stops the broker and starts it again on the same port with the same data dir. By default a graceful
   * stop (SIGTERM: each broker flushes its state); `{ kill: true }` SIGKILLs it instead, a crash (what
   * survives that is each broker's durability promise: a confirmed persistent RabbitMQ message, a Redis
   * write (AOF, appendfsync everysec: written before the reply), a JetStream message that was acked
   * (nats-server flushes its write cache within a few ms, so an ack just before the kill can be lost),
   * mosquitto's state as of its last save (autosave after every change)).
   */
  restart(opts?: { kill?: boolean }): Promise<void>;
  /** Idempotent: kills the broker and its children, removes the dir. */
  stop(): Promise<void>;
}

export interface RabbitMQBroker extends Broker {
  readonly user: string;
  readonly password: string;
  /** Erlang node name, e.g. skiff-41234@localhost */
  readonly nodeName: string;
}

/** node:test's TestContext, or a describe's hooks: where stop() is registered */
export interface AfterHook {
  after(fn: () => unknown): unknown;
}

// ---------------------------------------------------------------------------------------------------
// child processes

interface Command {
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

/** every process group still running and every temp dir not yet removed: the 'exit' handler's work */
const running = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let exitHandler = false;
function killAllSync(): void {
  for (const child of running) killGroup(child, 'SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    // detached: the child leads its own process group, which its children (erl_child_setup,
    // inet_gethost, RabbitMQ's disk monitor shell) are in too
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the whole group is gone
  }
}

/** One broker process: spawned in its own process group with its output appended to `log`. */
class Proc {
  child: ChildProcess | undefined;
  exit: Promise<void> = Promise.resolve();
  exitStatus: string | undefined;

  constructor(
    readonly what: string,
    readonly log: string,
    readonly cwd: string,
  ) {}

  get alive(): boolean {
    return this.child !== undefined && this.exitStatus === undefined;
  }

  start(c: Command): void {
    const fd = openSync(this.log, 'a');
    try {
      const child = spawn(c.cmd, c.args, { cwd: this.cwd, env: c.env ?? process.env, stdio: ['ignore', fd, fd], detached: true });
      this.child = child;
      this.exitStatus = undefined;
      running.add(child);
      this.exit = new Promise((resolve) => {
        const done = (status: string): void => {
          if (this.child === child) this.exitStatus ??= status;
          running.delete(child);
          // whatever it left in its group goes with it
          killGroup(child, 'SIGKILL');
          resolve();
        };
        child.once('exit', (code, signal) => done(signal ? `killed by ${signal}` : `exited with ${code}`));
        child.once('error', (err) => done(`failed to start: ${err.message}`));
      });
      // a broker a test forgot to stop must not keep the test process alive (the 'exit' handler kills
      // it); stop() holds the loop while it waits for the exit
      child.unref();
    } finally {
      closeSync(fd);
    }
  }

  /** graceful: `signal` to the broker itself, SIGKILL to its group after `graceMs`; else SIGKILL at once */
  async stop(graceful: boolean, signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.ref();
    if (this.alive) {
      if (graceful && child.pid !== undefined) {
        try {
          // the leader only: a SIGTERM to Erlang's erl_child_setup would crash the VM, not stop it
          process.kill(child.pid, signal);
        } catch {
          // gone already
        }
        const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
        await this.exit;
        clearTimeout(timer);
      } else {
        killGroup(child, 'SIGKILL');
      }
    }
    await this.exit;
    killGroup(child, 'SIGKILL');
  }

  tail(lines = 40): string {
    try {
      return readFileSync(this.log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A free 127.0.0.1 port below the kernel's ephemeral range (10000 up to it), for a broker that must get
 * the same port back at restart(): no outgoing connection takes a port from there as its source port
 * while the broker is down, and a client reconnecting to the closed port cannot connect to itself
 * (TCP simultaneous open, when the kernel happens to pick the destination port as the source port).
 */
async function brokerPort(taken: number[]): Promise<number> {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // not Linux: the usual default
  }
  const [lo, hi] = [10000, low - 1];
  for (let i = 0; hi - lo > 1000 && i < 100; i++) {
    const p = lo + Math.floor(Math.random() * (hi - lo + 1));
    if (!taken.includes(p) && (await canBind(p))) return p;
  }
  return freePort();
}

/** Probes until `probe` resolves true; fails when the process exits or after `timeoutMs`, with the log. */
async function waitReady(proc: Proc, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    if (!proc.alive) throw new Error(`${proc.what} ${proc.exitStatus ?? 'exited'} before accepting clients:\n${proc.tail()}`);
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      throw new Error(`${proc.what} accepted no client within ${timeoutMs} ms${lastError ? ` (last: ${lastError})` : ''}:\n${proc.tail()}`);
    }
    await sleep(proc.alive ? 20 : 0);
  }
}

/**
 * A TCP exchange with the broker: connects, writes `send`, and resolves with what `check` says of the
 * bytes received so far (true: ready, false: not yet, undefined: read more); false when the connection
 * is refused, closed or silent for a second.
 */
function tcpProbe(port: number, send: Buffer | undefined, check: (received: Buffer) => boolean | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), 1000);
    socket.on('connect', () => {
      if (send) socket.write(send);
      else if (check(received) !== undefined) finish(check(received) === true);
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      let verdict: boolean | undefined;
      try {
        verdict = check(received);
      } catch {
        verdict = false;
      }
      if (verdict !== undefined) finish(verdict);
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}

// ---------------------------------------------------------------------------------------------------
// the shared life cycle

interface Setup {
  kind: BrokerKind;
  what: string;
  /** writes config files for `port` (ports: the main one first, then any others) */
  configure(dir: string, ports: number[]): void;
  command(dir: string, ports: number[]): Command;
  url(ports: number[]): string;
  probe(ports: number[]): Promise<boolean>;
  /** how many free ports the broker needs */
  ports: number;
  timeoutMs: number;
  /** extra processes that live as long as the broker (RabbitMQ's epmd), started before it */
  companions?: (dir: string, ports: number[]) => Array<{ proc: Proc; command: Command; probe: () => Promise<boolean> }>;
}

async function launch(setup: Setup, t: AfterHook | undefined): Promise<Broker> {
  if (!exitHandler) {
    // last resort when the after-hook never runs (an uncaught error ends the process)
    process.on('exit', killAllSync);
    exitHandler = true;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), `skiff-${setup.kind}-`));
  tempDirs.add(dir);
  const proc = new Proc(setup.what, path.join(dir, `${setup.kind}.log`), dir);
  let companions: ReturnType<NonNullable<Setup['companions']>> = [];
  let ports: number[] = [];
  let startMs = 0;
  let stopped = false;

  // SIGKILL to each process group: nothing is kept, so nothing needs flushing. Processes whose parent
  // dies with them (Erlang's erl_child_setup) go to init, which reaps them (a graceful stop leaves the
  // same: erl_child_setup outlives the VM by a moment either way).
  const stopAll = async (): Promise<void> => {
    await proc.stop(false);
    for (const c of companions) await c.proc.stop(false);
  };
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  };
  t?.after(stop);

  const startBroker = async (): Promise<void> => {
    const began = Date.now();
    proc.start(setup.command(dir, ports));
    await waitReady(proc, () => setup.probe(ports), setup.timeoutMs);
    startMs = Date.now() - began;
  };

  try {
    // A free port can be taken between brokerPort() and the broker binding it: try others.
    for (let attempt = 1; ; attempt++) {
      ports = [];
      while (ports.length < setup.ports) {
        const p = await brokerPort(ports);
        if (!ports.includes(p)) ports.push(p);
      }
      setup.configure(dir, ports);
      try {
        companions = setup.companions?.(dir, ports) ?? [];
        for (const c of companions) {
          c.proc.start(c.command);
          await waitReady(c.proc, c.probe, 10_000);
        }
        await startBroker();
        break;
      } catch (err) {
        // a process that exited (its port taken, most likely) is tried again; one that never answered is not
        const exited = !proc.alive || companions.some((c) => !c.proc.alive);
        await stopAll();
        if (attempt >= 3 || !exited) throw err;
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }

  const broker: Broker = {
    kind: setup.kind,
    get url() {
      return setup.url(ports);
    },
    get port() {
      return ports[0]!;
    },
    dir,
    get pid() {
      return proc.alive ? proc.child?.pid : undefined;
    },
    get startMs() {
      return startMs;
    },
    logTail: (lines) => proc.tail(lines),
    async restart(opts = {}) {
      if (stopped) throw new Error(`${setup.what} was stopped; restart() needs a running broker`);
      await proc.stop(!opts.kill);
      await startBroker();
    },
    stop,
  };
  return broker;
}

// ---------------------------------------------------------------------------------------------------
// NATS

export interface StartNatsOptions {
  /** JetStream on, its store in the temp dir (kept across restart()) */
  jetstream?: boolean;
  /** registers stop() on t.after */
  t?: AfterHook;
}

/** A private nats-server; `url` is nats://127.0.0.1:PORT. */
export async function startNats(opts: StartNatsOptions = {}): Promise<Broker> {
  const bin = program('nats', 'nats-server');
  const broker = await launch(
    {
      kind: 'nats',
      what: `nats-server${opts.jetstream ? ' (JetStream)' : ''}`,
      ports: 1,
      timeoutMs: 15_000,
      configure() {},
      command: (dir, [port]) => ({
        cmd: bin,
        // -n: a server name of its own (JetStream's meta layer keys on it, so it must not change across a restart)
        args: ['-a', '127.0.0.1', '-p', String(port), '-n', 'skiff-test', ...(opts.jetstream ? ['-js', '-sd', path.join(dir, 'jetstream')] : [])],
      }),
      url: ([port]) => `nats://127.0.0.1:${port}`,
      // nats-server greets every client with INFO {json} once it accepts them; JetStream (and the
      // recovery of its streams and consumers) is enabled before the accept loop starts
      probe: ([port]) =>
        tcpProbe(port!, undefined, (b) => {
          const s = b.toString();
          const end = s.indexOf('\r\n');
          if (end < 0) return undefined;
          if (!s.startsWith('INFO ')) return false;
          const info = JSON.parse(s.slice(5, end)) as { jetstream?: boolean };
          return !opts.jetstream || info.jetstream === true;
        }),
    },
    opts.t,
  );
  return broker;
}

// ---------------------------------------------------------------------------------------------------
// Redis

/** A private redis-server with AOF on (appendfsync everysec), RDB snapshots off; `url` is redis://127.0.0.1:PORT. */
export async function startRedis(opts: { t?: AfterHook } = {}): Promise<Broker> {
  const bin = program('redis', 'redis-server');
  const broker = await launch(
    {
      kind: 'redis',
      what: 'redis-server',
      ports: 1,
      timeoutMs: 15_000,
      configure(dir) {
        mkdirSync(path.join(dir, 'data'), { recursive: true });
      },
      command: (dir, [port]) => ({
        cmd: bin,
        // no config file: the compiled-in defaults plus these (Debian's /etc/redis is not read)
        args: [
          '--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'yes', '--daemonize', 'no', '--supervised', 'no',
          '--dir', path.join(dir, 'data'), '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '',
          '--logfile', '',
        ],
      }),
      url: ([port]) => `redis://127.0.0.1:${port}`,
      // ready once the AOF is loaded: INFO answers during loading too, and says so
      probe: ([port]) =>
        tcpProbe(port!, Buffer.from('INFO persistence\r\n'), (b) => {
          const s = b.toString();
          if (s.startsWith('-')) return false;
          const m = /\r\nloading:(\d)\r\n/.exec(s);
          return m ? m[1] === '0' : undefined;
        }),
    },
    opts.t,
  );
  return broker;
}

// ---------------------------------------------------------------------------------------------------
// mosquitto

/** MQTT 3.1.1 CONNECT with a clean session; mosquitto answers CONNACK 0x20 0x02 <flags> <rc> */
function mqttConnectPacket(clientId: string): Buffer {
  const id = Buffer.from(clientId);
  // protocol name "MQTT", level 4 (3.1.1), flags: clean session, keep-alive 10 s
  const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x0a]);
  const payload = Buffer.concat([Buffer.from([id.length >> 8, id.length & 0xff]), id]);
  return Buffer.concat([Buffer.from([0x10, variable.length + payload.length]), variable, payload]);
}

/** A private mosquitto with persistence (queued QoS 1/2 messages of persistent sessions, retained
 *  messages); anonymous clients allowed; `url` is mqtt://127.0.0.1:PORT. */
export async function startMosquitto(opts: { t?: AfterHook } = {}): Promise<Broker> {
  const bin = program('mosquitto', 'mosquitto');
  const broker = await launch(
    {
      kind: 'mosquitto',
      what: 'mosquitto',
      ports: 1,
      timeoutMs: 15_000,
      configure(dir, [port]) {
        mkdirSync(path.join(dir, 'data'), { recursive: true });
        const conf = [
          `listener ${port} 127.0.0.1`,
          'allow_anonymous true',
          'persistence true',
          `persistence_location ${path.join(dir, 'data')}/`,
          // saved after every change, not only at a clean exit: a restart({ kill: true }) keeps
          // what was queued too
          'autosave_interval 1',
          'autosave_on_changes true',
          'log_dest stdout',
          'log_type error',
          'log_type warning',
          'log_type notice',
          'log_type information',
          'connection_messages true',
          // as root mosquitto would switch to the `mosquitto` user, which cannot write the root-owned temp dir
          ...(isRoot ? ['user root'] : []),
        ];
        writeFileSync(path.join(dir, 'mosquitto.conf'), `${conf.join('\n')}\n`);
      },
      command: (dir) => ({ cmd: bin, args: ['-c', path.join(dir, 'mosquitto.conf')] }),
      url: ([port]) => `mqtt://127.0.0.1:${port}`,
      probe: ([port]) =>
        tcpProbe(port!, mqttConnectPacket(`skiff-probe-${process.pid}`), (b) => {
          if (b.length < 4) return undefined;
          // then a DISCONNECT would be polite; closing the socket is enough for a clean session
          return b[0] === 0x20 && b[3] === 0x00;
        }),
    },
    opts.t,
  );
  return broker;
}

// ---------------------------------------------------------------------------------------------------
// RabbitMQ

/** the environment of a RabbitMQ or Erlang process: the caller's, less any RABBITMQ_ and ERL_ settings */
function erlangEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RABBITMQ_') && !k.startsWith('ERL_')) env[k] = v;
  return { ...env, ...extra };
}

/**
 * A private RabbitMQ node: its own Erlang node name (skiff-<port>@localhost), its own epmd on a free
 * port (a child of this process, so it is killed and reaped here; an epmd that Erlang starts itself
 * daemonizes and outlives the tests), its own distribution port, mnesia, log, config, enabled-plugins
 * (none) and env files in the temp dir, and HOME there (the Erlang cookie). Runs as the current user
 * (root works: only Debian's /usr/sbin wrapper switches users). A user of its own with a random
 * password, administrator on vhost /; `url` is amqp://skiff:PASSWORD@127.0.0.1:PORT/%2f.
 * Takes ~5.5 s to start here (see the top of this file).
 */
export async function startRabbitMQ(opts: { t?: AfterHook } = {}): Promise<RabbitMQBroker> {
  const script = program('rabbitmq', 'rabbitmq-server');
  const epmd = program('rabbitmq', 'epmd');
  const user = 'skiff';
  const password = randomBytes(12).toString('hex');
  const url = (port: number | undefined): string => `amqp://${user}:${password}@127.0.0.1:${port}/%2f`;
  let nodeName = '';
  const broker = await launch(
    {
      kind: 'rabbitmq',
      what: 'RabbitMQ',
      // AMQP, Erlang distribution, epmd
      ports: 3,
      timeoutMs: 90_000,
      configure(dir, [port]) {
        nodeName = `skiff-${port}@localhost`;
        for (const d of ['mnesia', 'log']) mkdirSync(path.join(dir, d), { recursive: true });
        // classic Erlang-term config: the .conf format goes through a Cuttlefish schema translation
        // that costs a few hundred ms of every start. Warnings and errors also go to stdout (the log
        // that logTail() and a failed start show); the full log is in log/<node>.log.
        const config = `[
  {rabbit, [
    {tcp_listeners, [{"127.0.0.1", ${port}}]},
    {default_user, <<"${user}">>},
    {default_pass, <<"${password}">>},
    {default_user_tags, [administrator]},
    {default_permissions, [<<".*">>, <<".*">>, <<".*">>]},
    {disk_free_limit, 1000000},
    {log, [{console, [{enabled, true}, {level, warning}]}, {file, [{level, info}]}]}
  ]}
].
`;
        writeFileSync(path.join(dir, 'rabbitmq.config'), config);
        writeFileSync(path.join(dir, 'enabled_plugins'), '[].\n');
        // read instead of /etc/rabbitmq/rabbitmq-env.conf
        writeFileSync(path.join(dir, 'rabbitmq-env.conf'), '');
      },
      companions: (dir, [, , epmdPort]) => [
        {
          proc: new Proc('epmd', path.join(dir, 'epmd.log'), dir),
          command: { cmd: epmd, args: ['-port', String(epmdPort), '-address', '127.0.0.1'], env: erlangEnv({}) },
          probe: () => tcpProbe(epmdPort!, undefined, () => true),
        },
      ],
      command: (dir, [port, distPort, epmdPort]) => ({
        cmd: script,
        args: [],
        env: erlangEnv({
          HOME: dir,
          ERL_EPMD_PORT: String(epmdPort),
          RABBITMQ_NODENAME: `skiff-${port}@localhost`,
          RABBITMQ_DIST_PORT: String(distPort),
          RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
          RABBITMQ_LOG_BASE: path.join(dir, 'log'),
          RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.config'),
          RABBITMQ_ADVANCED_CONFIG_FILE: path.join(dir, 'advanced.config'),
          RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
          RABBITMQ_CONF_ENV_FILE: path.join(dir, 'rabbitmq-env.conf'),
          RABBITMQ_PID_FILE: path.join(dir, 'rabbitmq.pid'),
          RABBITMQ_PLUGINS_EXPAND_DIR: path.join(dir, 'plugins-expand'),
          // the distribution listener binds every interface unless told otherwise
          RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
        }),
      }),
      url: ([port]) => url(port),
      // a real AMQP connection with the user's credentials: the listener opens at the end of the boot,
      // after the user is created
      probe: async ([port]) => {
        const conn = await amqp.connect(url(port), { timeout: 2000 });
        conn.on('error', () => {});
        await conn.close();
        return true;
      },
    },
    opts.t,
  );
  return Object.assign(broker, { user, password, nodeName });
}
