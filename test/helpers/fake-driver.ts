// test/helpers/fake-driver: an in-memory InstanceDriver (src/core/instance.ts) for scheduler, gateway
// and serving tests, passing the same contract as the runc driver (test/runtime/fake-driver.test.ts).
// Each started instance runs a "program" in this process:
//
//   command absent     an HTTP server on 127.0.0.1 (a port of its own; the address says which):
//                      /healthz 200 (500 when started unhealthy), /env the environment (spec env + PORT)
//                      as KEY=VALUE lines, anything else `<revision> <id>` after latencyMs. Requests to a
//                      paused instance wait for resume. The stop signal ends it with exit 0.
//   ['fake', ...steps] steps in order (args are appended): out:<line>, err:<line> (captured output),
//                      sleep:<ms>, exit:<code>; `run` keeps running and exits 0 on the stop signal;
//                      `ignore-stop` keeps running until the grace ends (SIGKILL). Like a shell as pid 1,
//                      steps ignore the stop signal: stopping mid-steps ends in SIGKILL. No exit step: exit 0.
//                      write:<path>=<text> prints `wrote` (or `write failed` on a read-only mount) and
//                      cat:<path> prints the text (or `missing`): files live in the instance, or in the
//                      volume (createVolume) mounted over that path (InstanceSpec.mounts).
//   anything else      create fails, as runc does for a command the image lacks.
//
// Knobs: latencyMs, failStarts (create throws), unhealthyStarts (that many next starts answer /healthz
// with 500), ignoreStopSignal (every program waits out the grace), memoryBytes (what stats report),
// missingImages (pinned references that fail with MANIFEST_UNKNOWN). Counters: created, started;
// countOf(revision) = started instances (running or paused) of a revision; crash(id) ends one on its own.
// State (`live`, the instances by id) can be shared with a second driver, as a restarted daemon
// re-adopts what runs: `reopen()`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SkiffError } from '../../src/core/errors.ts';
import type { ExitReason, InstanceAddress, InstanceInfo, InstanceSpec, InstanceStats, InstanceStatus, ListeningSocket, LogLine, PastInstance } from '../../src/core/instance.ts';
import { assertInstanceId, isInstanceId, pinnedReference } from '../../src/core/names.ts';
import type { PinnedImage } from '../../src/core/service.ts';
import type { InstanceDriver } from '../../src/core/instance.ts';
import { assertMountTarget } from '../../src/core/volumes.ts';

export interface FakeInstance {
  readonly id: string;
  readonly spec: InstanceSpec;
  /** spec.revision, '' for a one-off run */
  readonly revision: string;
  status: Exclude<InstanceStatus, 'missing'>;
  /** the HTTP server of a started server program; undefined while created (and for step programs) */
  server: http.Server | undefined;
  address: InstanceAddress | undefined;
  paused: boolean;
  healthy: boolean;
  exit: ExitReason | undefined;
  readonly logs: LogLine[];
  /** resolves when the process has ended */
  readonly exited: Promise<ExitReason>;
  /** ends the process on its own, as a crash does (default: exit 1) */
  crash(exit?: ExitReason): void;
}

/** What two drivers on "the same machine" share. */
export interface FakeState {
  live: Map<string, FakeInstance>;
  prepared: Set<string>;
  /** deleted instances of services whose output is kept, by id */
  past?: Map<string, { past: PastInstance; service: string; logs: LogLine[] }>;
  /** volumes (createVolume): their files by path */
  volumes?: Map<string, Map<string, string>>;
}

interface Internals {
  end(exit: ExitReason): void;
  /** wakes followers and paused requests */
  changed(): void;
  waitChange(): Promise<void>;
  onStop: 'exit0' | 'ignore';
  deleted: Promise<void>;
  markDeleted(): void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Resolves after `ms` or when `done` settles, whichever is first, leaving no timer behind. */
function graceOver(ms: number, done: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([done.then(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]).finally(() => clearTimeout(timer));
}
/** per instance, shared by every driver on the same state */
const internalsOf = new WeakMap<FakeInstance, Internals>();
const KILLED: ExitReason = { reason: 'signalled', signal: 9 };

export class FakeDriver implements InstanceDriver {
  created = 0;
  started = 0;
  /** ms each request takes */
  latencyMs = 0;
  failStarts = false;
  /** what stats() reports for every instance */
  memoryBytes = 0;
  /** this many of the next started instances answer their /healthz with 500 (never ready) */
  unhealthyStarts = 0;
  /** stop() waits its whole grace, as a process that ignores the stop signal does */
  ignoreStopSignal = false;
  /** pinned references (`repo@sha256:…`) the fake registry does not have */
  readonly missingImages = new Set<string>();
  /** files an instance wrote outside its volumes, by instance id */
  private readonly files = new Map<string, Map<string, string>>();

  /** a volume instances may mount (InstanceSpec.mounts), with no files */
  createVolume(name: string): void {
    (this.state.volumes ??= new Map()).set(name, new Map());
  }

  constructor(readonly state: FakeState = { live: new Map(), prepared: new Set() }) {}

  /** Every instance until it is deleted, by id. */
  get live(): Map<string, FakeInstance> {
    return this.state.live;
  }

  private get past(): NonNullable<FakeState['past']> {
    return (this.state.past ??= new Map());
  }

  /** A second driver on the same state: what a restarted daemon builds. */
  reopen(): FakeDriver {
    return new FakeDriver(this.state);
  }

  /** started (running or paused) instances of a revision */
  countOf(revision: string): number {
    return [...this.live.values()].filter((i) => i.revision === revision && (i.status === 'running' || i.status === 'paused')).length;
  }

  crash(id: string, exit?: ExitReason): void {
    this.live.get(id)?.crash(exit);
  }

  private checkImage(image: PinnedImage): void {
    const ref = pinnedReference(image);
    if (this.missingImages.has(ref)) throw new SkiffError('MANIFEST_UNKNOWN', `manifest unknown: ${ref}`);
  }

  async prepare(image: PinnedImage): Promise<{ total: number; unpacked: number }> {
    this.checkImage(image);
    const ref = pinnedReference(image);
    const unpacked = this.state.prepared.has(ref) ? 0 : 1;
    this.state.prepared.add(ref);
    return { total: 1, unpacked };
  }

  async create(id: string, spec: InstanceSpec): Promise<void> {
    assertInstanceId(id);
    if (this.live.has(id)) throw new SkiffError('CONFLICT', `instance ${id} already exists`);
    this.checkImage(spec.image);
    if (this.failStarts) throw new SkiffError('INTERNAL', 'image cannot start');
    if (spec.command !== undefined && spec.command[0] !== 'fake') throw new SkiffError('INTERNAL', `runc create ${id} failed: exec: "${spec.command[0]}": not found`);
    for (const [i, m] of (spec.mounts ?? []).entries()) {
      assertMountTarget(m.target, `mounts[${i}].target`);
      if (!this.state.volumes?.has(m.volume)) throw new SkiffError('NOT_FOUND', `no volume ${m.volume} on this node`);
    }
    this.state.prepared.add(pinnedReference(spec.image));
    this.created++;
    this.live.set(id, this.newInstance(id, spec));
  }

  private newInstance(id: string, spec: InstanceSpec): FakeInstance {
    let resolveExit!: (e: ExitReason) => void;
    let markDeleted!: () => void;
    let wake: () => void = () => {};
    let change = new Promise<void>((r) => (wake = r));
    const inst: FakeInstance = {
      id, spec, revision: spec.revision ?? '', status: 'created', server: undefined, address: undefined, paused: false, healthy: true,
      exit: undefined, logs: [], exited: new Promise<ExitReason>((r) => (resolveExit = r)),
      crash: (exit = { reason: 'exited', exitCode: 1 }) => internals.end(exit),
    };
    const internals: Internals = {
      onStop: 'exit0',
      deleted: new Promise<void>((r) => (markDeleted = r)),
      markDeleted: () => markDeleted(),
      changed: () => {
        wake();
        change = new Promise<void>((r) => (wake = r));
      },
      waitChange: () => change,
      end: (exit) => {
        if (inst.exit) return;
        inst.exit = exit;
        inst.status = 'stopped';
        inst.paused = false;
        // a server still binding is closed by serve() once it listens (closing it now would lose the bind)
        if (inst.server?.listening) {
          inst.server.closeAllConnections();
          inst.server.close();
        }
        resolveExit(exit);
        internals.changed();
      },
    };
    internalsOf.set(inst, internals);
    return inst;
  }

  private inner(inst: FakeInstance): Internals {
    return internalsOf.get(inst)!;
  }

  private must(id: string): FakeInstance {
    const inst = isInstanceId(id) ? this.live.get(id) : undefined;
    if (!inst) throw new SkiffError('NOT_FOUND', `no instance ${id}`);
    return inst;
  }

  private env(inst: FakeInstance): Record<string, string> {
    return { ...inst.spec.env, ...(inst.spec.port === undefined ? {} : { PORT: String(inst.spec.port) }) };
  }

  private print(inst: FakeInstance, stream: LogLine['stream'], line: string): void {
    inst.logs.push({ time: new Date().toISOString(), stream, line });
    this.inner(inst).changed();
  }

  async start(id: string): Promise<InstanceAddress> {
    const inst = this.must(id);
    if (inst.status !== 'created') throw new SkiffError('CONFLICT', `instance ${id} was already started`);
    this.started++;
    inst.status = 'running';
    if (this.unhealthyStarts > 0) {
      this.unhealthyStarts--;
      inst.healthy = false;
    }
    if (inst.spec.command === undefined) inst.address = await this.serve(inst);
    else {
      inst.address = { host: '127.0.0.1', port: inst.spec.port ?? 0 };
      void this.runSteps(inst, [...inst.spec.command.slice(1), ...(inst.spec.args ?? [])]);
    }
    return inst.address;
  }

  private async serve(inst: FakeInstance): Promise<InstanceAddress> {
    const inner = this.inner(inst);
    const server = http.createServer(async (req, res) => {
      while (inst.paused) await inner.waitChange();
      if (req.url === '/healthz') {
        res.statusCode = inst.healthy ? 200 : 500;
        return res.end();
      }
      if (req.url === '/env') {
        return res.end(Object.entries(this.env(inst)).map(([k, v]) => `${k}=${v}\n`).join(''));
      }
      setTimeout(() => res.end(`${inst.revision} ${inst.id}`), this.latencyMs);
    });
    inst.server = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const address = { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
    if (inst.exit) server.close(); // stopped or deleted while it was binding
    return address;
  }

  private async runSteps(inst: FakeInstance, steps: string[]): Promise<void> {
    const inner = this.inner(inst);
    inner.onStop = 'ignore';
    for (const step of steps) {
      if (inst.exit) return;
      const [op = '', ...rest] = step.split(':');
      const arg = rest.join(':');
      if (op === 'out') this.print(inst, 'stdout', arg);
      else if (op === 'err') this.print(inst, 'stderr', arg);
      else if (op === 'sleep') await sleep(Number(arg));
      else if (op === 'write') {
        const eq = arg.indexOf('=');
        const where = this.fileOf(inst, arg.slice(0, eq));
        if (where.readOnly) this.print(inst, 'stdout', 'write failed');
        else {
          where.files.set(where.path, arg.slice(eq + 1));
          this.print(inst, 'stdout', 'wrote');
        }
      } else if (op === 'cat') {
        const where = this.fileOf(inst, arg);
        this.print(inst, 'stdout', where.files.get(where.path) ?? 'missing');
      }
      else if (op === 'exit') return inner.end({ reason: 'exited', exitCode: Number(arg) });
      else if (op === 'run' || op === 'ignore-stop') {
        inner.onStop = op === 'run' ? 'exit0' : 'ignore';
        return;
      } else {
        this.print(inst, 'stderr', `fake: unknown step ${step}`);
        return inner.end({ reason: 'exited', exitCode: 127 });
      }
    }
    if (!inst.exit) inner.end({ reason: 'exited', exitCode: 0 });
  }

  /** the file map a path of the instance lands in: the volume mounted over it (deepest first), or the instance's own */
  private fileOf(inst: FakeInstance, file: string): { files: Map<string, string>; path: string; readOnly: boolean } {
    const mounts = [...(inst.spec.mounts ?? [])].sort((a, b) => b.target.length - a.target.length);
    for (const m of mounts) {
      if (file.startsWith(m.target + '/')) return { files: this.state.volumes!.get(m.volume)!, path: file.slice(m.target.length), readOnly: m.readOnly };
    }
    let own = this.files.get(inst.id);
    if (!own) this.files.set(inst.id, (own = new Map()));
    return { files: own, path: file, readOnly: false };
  }

  async pause(id: string): Promise<void> {
    const inst = this.must(id);
    if (inst.status !== 'running') throw new SkiffError('CONFLICT', `instance ${id} is ${inst.status}, not running`);
    inst.paused = true;
    inst.status = 'paused';
  }

  async resume(id: string): Promise<void> {
    const inst = this.must(id);
    if (inst.status !== 'paused') throw new SkiffError('CONFLICT', `instance ${id} is ${inst.status}, not paused`);
    inst.paused = false;
    inst.status = 'running';
    this.inner(inst).changed();
  }

  async stop(id: string, graceMs: number): Promise<void> {
    const inst = isInstanceId(id) ? this.live.get(id) : undefined;
    if (!inst || inst.exit) return;
    const inner = this.inner(inst);
    if (inst.status === 'created') return inner.end(KILLED);
    if (inst.paused) await this.resume(id);
    if (inner.onStop === 'exit0' && !this.ignoreStopSignal) return inner.end({ reason: 'exited', exitCode: 0 });
    await graceOver(graceMs, inst.exited);
    inner.end(KILLED);
  }

  async delete(id: string): Promise<void> {
    const inst = isInstanceId(id) ? this.live.get(id) : undefined;
    if (!inst) return;
    const inner = this.inner(inst);
    inner.end(KILLED);
    this.live.delete(id);
    // a service's instance keeps its output, as the runc driver's archive keeps it (runs do not), and so
    // does one created with a log group (a job's task attempt), under that group
    if (inst.revision || inst.spec.logGroup) this.past.set(id, { past: { id, revision: inst.revision, endedAt: Date.now() }, service: inst.spec.logGroup ?? inst.spec.service, logs: inst.logs });
    inner.markDeleted();
    inner.changed();
  }

  private info(inst: FakeInstance): InstanceInfo {
    return {
      id: inst.id,
      service: inst.spec.service,
      revision: inst.revision,
      status: inst.status,
      ...((inst.status === 'running' || inst.status === 'paused') && inst.address ? { address: inst.address } : {}),
      ...(inst.exit ? { exit: inst.exit } : {}),
    };
  }

  async inspect(id: string): Promise<InstanceInfo | undefined> {
    const inst = isInstanceId(id) ? this.live.get(id) : undefined;
    return inst && this.info(inst);
  }

  async list(): Promise<InstanceInfo[]> {
    return [...this.live.values()].map((i) => this.info(i));
  }

  async watch(id: string): Promise<ExitReason | undefined> {
    const inst = isInstanceId(id) ? this.live.get(id) : undefined;
    if (!inst) return undefined;
    return Promise.race([inst.exited, this.inner(inst).deleted.then(() => undefined)]);
  }

  async *logs(id: string, opts?: { tail?: number }): AsyncGenerator<LogLine> {
    const logs = (isInstanceId(id) ? this.live.get(id) : undefined)?.logs ?? this.past.get(id)?.logs;
    if (!logs) return;
    yield* opts?.tail === undefined ? [...logs] : opts.tail > 0 ? logs.slice(-opts.tail) : [];
  }

  async pastInstances(service: string): Promise<PastInstance[]> {
    return [...this.past.values()].filter((p) => p.service === service).map((p) => p.past);
  }

  async forgetLogs(service: string): Promise<void> {
    for (const [id, p] of this.past) if (p.service === service) this.past.delete(id);
  }

  async *followLogs(id: string, signal: AbortSignal, opts?: { tail?: number }): AsyncGenerator<LogLine> {
    const inst = isInstanceId(id) ? this.live.get(id) : undefined;
    if (!inst) return;
    const inner = this.inner(inst);
    const aborted = new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
    for (let next = opts?.tail === undefined ? 0 : Math.max(0, inst.logs.length - opts.tail); ; ) {
      while (next < inst.logs.length) {
        if (signal.aborted) return;
        yield inst.logs[next++]!;
      }
      if (inst.exit || signal.aborted || !this.live.has(id)) return;
      await Promise.race([inner.waitChange(), aborted]);
    }
  }

  /** A serving instance listens on its spec's port as it sees itself (its address maps it to a port of
   *  its own, as swarm's published ports do); a program listens nowhere. */
  async listening(id: string): Promise<ListeningSocket[] | undefined> {
    const inst = isInstanceId(id) ? this.live.get(id) : undefined;
    if (!inst || (inst.status !== 'running' && inst.status !== 'paused')) return undefined;
    return inst.server && inst.address ? [{ address: inst.address.host, port: inst.spec.port ?? inst.address.port }] : [];
  }

  async stats(id: string): Promise<InstanceStats | undefined> {
    const inst = isInstanceId(id) ? this.live.get(id) : undefined;
    if (!inst || (inst.status !== 'running' && inst.status !== 'paused')) return undefined;
    return { cpuNanos: 0, memoryBytes: this.memoryBytes, workingSetBytes: this.memoryBytes };
  }
}
