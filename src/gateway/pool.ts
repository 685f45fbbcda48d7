// gateway/pool: the instances of one revision, their outstanding requests, and the activator queue.
// acquire() hands out the ready instance with the fewest outstanding requests below the hard limit;
// when none can take the request it waits in a bounded FIFO queue and asks for capacity once per
// burst. The outcome is a value: a slot, or why there is none ('queue-full' | 'timeout' | 'closed').
// A timeout is never reported as a slot.
//
// An upgraded connection (a websocket) holds its slot only until the instance answers 101: after
// that it is a tunnel that may stay open for hours mostly idle, and counting it against `concurrency`
// let a few idle tunnels starve a service of every slot. It stays visible to whenIdle() so the
// scheduler does not stop or freeze an instance under an open tunnel — for at most the tunnel idle
// timeout, so a chatty tunnel cannot hold a drain forever.
import type { Endpoint, RevisionLimits } from './ports.ts';
import { RequestStats } from './request-stats.ts';
import { InstanceUsage, type UsageTaken } from './instance-usage.ts';

interface Instance {
  endpoint: Endpoint;
  outstanding: number;
  draining: boolean;
  /** upgraded connections past their 101 (they no longer count in `outstanding`) */
  tunnels: number;
  /** whenIdle() callers, told when outstanding and tunnels reach 0 */
  idleWaiters?: IdleWaiter[];
  /** requests, bytes and busy time, for the metering (instance-usage.ts) */
  usage: InstanceUsage;
}

interface IdleWaiter {
  tell(): void;
  /** the tunnel idle timeout has passed since the wait began: open tunnels no longer count */
  pastTunnels: boolean;
  timer: NodeJS.Timeout;
}

/** An upgraded connection after its 101; close() exactly when the tunnel closes. */
export interface Tunnel {
  close(): void;
}

export interface Slot {
  endpoint: Endpoint;
  /** ms spent waiting for capacity; 0 when an instance was free at once */
  waitedMs: number;
  release(): void;
  /** `bytes` of response body were sent to the client (metering's egress) */
  sent(bytes: number): void;
  /** the instance answered 101: the slot is freed and the connection counted as a tunnel instead */
  toTunnel(): Tunnel;
}

export type AcquireResult =
  | { ok: true; slot: Slot }
  | { ok: false; reason: 'queue-full' | 'timeout' | 'closed' }
  /** the revision cannot start now (crash-loop back-off; `quota`: its project is at its quota): why,
   *  and when the next start is due */
  | { ok: false; reason: 'failed'; cause: string; retryInMs: number; quota?: true; budget?: true };

/** An answer that is not a slot. */
export type Refusal = Extract<AcquireResult, { ok: false }>;

interface Waiter {
  resolve(r: AcquireResult): void;
  timer: NodeJS.Timeout;
  since: number;
}

/** A taken slot; a class rather than closures because one is made per request. */
class Lease implements Slot {
  readonly endpoint: Endpoint;
  private released = false;

  constructor(
    private readonly pool: RevisionPool,
    private readonly inst: Instance,
    readonly waitedMs: number,
  ) {
    this.endpoint = inst.endpoint;
  }

  sent(bytes: number): void {
    this.inst.usage.egressBytes += bytes;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.pool.giveBack(this.inst);
  }

  toTunnel(): Tunnel {
    if (this.released) throw new Error('a released slot cannot become a tunnel');
    this.released = true;
    const { pool, inst } = this;
    inst.tunnels++;
    pool.giveBack(inst);
    let open = true;
    return {
      close: () => {
        if (!open) return;
        open = false;
        inst.tunnels--;
        pool.checkIdle(inst);
      },
    };
  }
}

export class RevisionPool {
  private readonly instances = new Map<string, Instance>();
  private readonly waiters: Waiter[] = [];
  private capacityRequested = false;
  private closed = false;
  /** the scheduler said the revision cannot start before `until` (this pool's clock), and why */
  private failing: { cause: string; until: number; quota?: true; budget?: true } | undefined;
  /** requests in flight + queued; with `served`, what the autoscaler samples each tick */
  private inFlight = 0;
  private arrivedSinceSample = 0;
  /** the revision's finished requests, by status class, and their latency (read by a metrics scrape) */
  readonly requests = new RequestStats();

  constructor(
    readonly revision: string,
    public limits: RevisionLimits,
    private readonly requestCapacity: () => void,
    private readonly now: () => number = () => performance.now(),
    /** how long whenIdle() waits for open tunnels (the gateway's tunnel idle timeout) */
    private readonly tunnelWaitMs = 60_000,
    /** a busy spell's billed length from its length (metering/billing.ts roundUpBusy); absent: no
     *  meter, and nothing is counted per instance (metering off) */
    private readonly roundBusy?: (ms: number) => number,
  ) {}

  /** instances that left the pool with usage not yet taken (they are kept until the next take) */
  private readonly leftUsage = new Map<string, InstanceUsage>();
  /** a meter reads usage (roundBusy given): requests and busy time are counted per instance (egress always, a plain add) */
  private get metered(): boolean {
    return this.roundBusy !== undefined;
  }

  /** Per instance, its requests, egress bytes and busy ms since the previous call (the meter's once a
   *  second reading); an instance that left the pool is reported one last time. */
  takeUsage(): Array<{ instance: string } & UsageTaken> {
    const now = this.now();
    const out: Array<{ instance: string } & UsageTaken> = [];
    for (const [id, inst] of this.instances) out.push({ instance: id, ...inst.usage.take(now) });
    for (const [id, u] of this.leftUsage) if (!this.instances.has(id)) out.push({ instance: id, ...u.take(now) });
    this.leftUsage.clear();
    return out;
  }

  /** requests holding a slot now (a metrics gauge; queued ones are `queued`) */
  get active(): number {
    return this.inFlight;
  }

  get queued(): number {
    return this.waiters.length;
  }

  get readyCount(): number {
    let n = 0;
    for (const i of this.instances.values()) if (!i.draining) n++;
    return n;
  }

  /** Concurrency sample for the autoscaler: in flight + queued now, and arrivals since the last sample. */
  sample(): { concurrency: number; arrivals: number } {
    const s = { concurrency: this.inFlight + this.waiters.length, arrivals: this.arrivedSinceSample };
    this.arrivedSinceSample = 0;
    return s;
  }

  outstandingOf(instanceId: string): number | undefined {
    return this.instances.get(instanceId)?.outstanding;
  }

  /** Requests in flight and open tunnels on the instance (0 when unknown): the scheduler freezes an
   *  idle instance only at 0. */
  activeOf(instanceId: string): number {
    const inst = this.instances.get(instanceId);
    return inst ? inst.outstanding + inst.tunnels : 0;
  }

  /** Replaces the set of ready endpoints. Removed instances stop getting requests; their in-flight ones finish. */
  setEndpoints(endpoints: Endpoint[]): void {
    const keep = new Set(endpoints.map((e) => e.id));
    for (const [id, inst] of this.instances) {
      if (!keep.has(id)) {
        inst.draining = true;
        if (inst.outstanding === 0 && inst.tunnels === 0) this.forgetInstance(id, inst);
      }
    }
    for (const e of endpoints) {
      const existing = this.instances.get(e.id);
      if (existing) {
        existing.draining = false;
        existing.endpoint = e;
      } else {
        this.instances.set(e.id, { endpoint: e, outstanding: 0, draining: false, tunnels: 0, usage: this.leftUsage.get(e.id) ?? new InstanceUsage() });
        this.leftUsage.delete(e.id);
      }
    }
    if (endpoints.length > 0) {
      this.capacityRequested = false;
      this.failing = undefined;
    }
    this.dispatch();
  }

  /** Resolves once the instance has no request in flight and no open tunnel — at once when it has
   *  none or is unknown; open tunnels are waited for at most the tunnel idle timeout. A drain or
   *  freeze unpublishes an instance, then waits here before stopping or pausing it. */
  whenIdle(instanceId: string): Promise<void> {
    const inst = this.instances.get(instanceId);
    if (!inst || (inst.outstanding === 0 && inst.tunnels === 0)) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter: IdleWaiter = {
        tell: resolve,
        pastTunnels: false,
        timer: setTimeout(() => {
          waiter.pastTunnels = true;
          this.checkIdle(inst);
        }, this.tunnelWaitMs),
      };
      waiter.timer.unref();
      (inst.idleWaiters ??= []).push(waiter);
    });
  }

  /**
   * A slot for one request. `avoid` names instances that already refused this request's connection;
   * they are skipped while another instance exists.
   */
  acquire(avoid?: ReadonlySet<string>): Promise<AcquireResult> | AcquireResult {
    if (!avoid) this.arrivedSinceSample++;
    if (this.closed) return { ok: false, reason: 'closed' };
    if (this.waiters.length === 0 || avoid) {
      const inst = this.pick(avoid);
      if (inst) return { ok: true, slot: this.take(inst, 0) };
    }
    // No instance, and the revision is backing off after failures: the cause now, not a timeout later.
    const failed = this.failedNow();
    if (failed && this.readyCount === 0) return failed;
    if (this.waiters.length >= this.limits.queueLimit) return { ok: false, reason: 'queue-full' };
    if (!this.capacityRequested) {
      this.capacityRequested = true;
      this.requestCapacity();
      // the scheduler may refuse at once (its project is at its quota): this request is told too
      const refused = this.failedNow();
      if (refused && this.readyCount === 0) return refused;
    }
    return new Promise<AcquireResult>((resolve) => {
      const waiter: Waiter = {
        resolve,
        since: this.now(),
        timer: setTimeout(() => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          resolve({ ok: false, reason: 'timeout' });
        }, this.limits.timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Capacity is still wanted (e.g. the scale-up failed): allow the next waiter to ask again. */
  capacityFailed(): void {
    this.capacityRequested = false;
    if (this.waiters.length > 0) {
      this.capacityRequested = true;
      this.requestCapacity();
    }
  }

  /** The revision cannot start for `retryInMs` (its instances fail to start or crash): every held
   *  request is answered with the cause now, and so is every request arriving meanwhile while no
   *  instance is ready. Afterwards requests ask for capacity again. */
  fail(cause: string, retryInMs: number, kind?: 'quota' | 'budget'): void {
    this.failing = { cause, until: this.now() + retryInMs, ...(kind === 'quota' ? { quota: true as const } : {}), ...(kind === 'budget' ? { budget: true as const } : {}) };
    this.capacityRequested = false;
    const refusal = this.failedNow()!;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.resolve(refusal);
    }
  }

  private failedNow(): Refusal | undefined {
    if (!this.failing) return undefined;
    const left = this.failing.until - this.now();
    if (left <= 0) return (this.failing = undefined);
    return { ok: false, reason: 'failed', cause: this.failing.cause, retryInMs: left, ...(this.failing.quota ? { quota: true as const } : {}), ...(this.failing.budget ? { budget: true as const } : {}) };
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.resolve({ ok: false, reason: 'closed' });
    }
  }

  private pick(avoid?: ReadonlySet<string>): Instance | undefined {
    const limit = this.limits.concurrency;
    let best: Instance | undefined;
    for (const inst of this.instances.values()) {
      if (inst.draining || (limit > 0 && inst.outstanding >= limit)) continue;
      if (avoid?.has(inst.endpoint.id) && this.instances.size > avoid.size) continue;
      if (!best || inst.outstanding < best.outstanding) best = inst;
    }
    return best;
  }

  /** A drained instance leaves the pool; its usage waits for the meter's next take. */
  private forgetInstance(id: string, inst: Instance): void {
    this.instances.delete(id);
    if (this.metered) this.leftUsage.set(id, inst.usage);
  }

  private take(inst: Instance, waitedMs: number): Slot {
    if (this.metered) {
      if (inst.outstanding === 0) inst.usage.busy(this.now());
      inst.usage.requests++;
    }
    inst.outstanding++;
    this.inFlight++;
    return new Lease(this, inst, waitedMs);
  }

  /** Lease.release(), exactly once per taken slot. */
  giveBack(inst: Instance): void {
    if (--inst.outstanding === 0 && this.roundBusy) inst.usage.idle(this.now(), this.roundBusy);
    this.inFlight--;
    if (inst.outstanding === 0) this.checkIdle(inst);
    this.dispatch();
  }

  /** Tells the whenIdle() callers an instance's idleness concerns, and forgets a drained instance. */
  checkIdle(inst: Instance): void {
    if (inst.outstanding > 0) return;
    if (inst.tunnels === 0 && inst.draining && this.instances.get(inst.endpoint.id) === inst) this.forgetInstance(inst.endpoint.id, inst);
    const waiters = inst.idleWaiters;
    if (!waiters) return;
    const still = waiters.filter((w) => {
      if (inst.tunnels > 0 && !w.pastTunnels) return true;
      clearTimeout(w.timer);
      w.tell();
      return false;
    });
    inst.idleWaiters = still.length > 0 ? still : undefined;
  }

  private dispatch(): void {
    while (this.waiters.length > 0) {
      const inst = this.pick();
      if (!inst) return;
      const w = this.waiters.shift()!;
      clearTimeout(w.timer);
      w.resolve({ ok: true, slot: this.take(inst, this.now() - w.since) });
    }
  }
}
