// metering/meter: the per-second meter. Every `sampleMs` it reads the scheduler's instances, the
// gateway's per-instance counts and each instance's cgroup (CPU time, working set), turns them into one
// Sample per instance (measure(), pure) and adds it to the open minute (accumulator.ts); every
// `flushMs` it upserts the changed minutes. It runs beside the data plane, never in it: the gateway
// only counts (gateway/instance-usage.ts), and a slow store delays a flush, not a request.
//
// Durability (docs/metering.md): a kill -9 loses nothing of an instance that lives on: each row keeps
// the instance's last sample time and cumulative cgroup CPU counter, and the next daemon takes a
// re-adopted instance up from the last ones written (the time and CPU between that flush and the
// restart are counted then, once). Its rows go under its own run id, so nothing is counted twice.
// Lost for good: the gateway's counts (requests, bytes, busy time) since the last flush, and the last
// unflushed seconds of an instance that ended while no daemon ran.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { MinuteAccumulator, type Sample } from './accumulator.ts';
import type { GatewayReading, MeteredInstance, MeterSources, UsageSink } from './ports.ts';
import type { UsageMark } from '../core/usage.ts';

/** how far back a restarted meter looks for where the last run left an instance */
const MARKS_WITHIN_MS = 31 * 86_400_000;

/** What the meter remembers of an instance between samples. */
export interface Seen {
  at: number;
  cpuNanos: number;
}

/**
 * One sample of one instance ending at `now`. `seen`: its previous sample (undefined at first sight);
 * `since`: when the meter last sampled (or started), for a first sighting of an instance started earlier;
 * `runStart`: when this meter started — an instance started since was seen from its first CPU
 * nanosecond (its cgroup counter counts from 0), one started before was metered up to here by the
 * previous daemon, so its counter so far is not counted again.
 */
export function measure(
  inst: MeteredInstance,
  seen: Seen | undefined,
  gw: Omit<GatewayReading, 'instance'>,
  stats: { cpuNanos: number; workingSetBytes: number } | undefined,
  now: number,
  since: number,
  runStart: number,
): { sample: Sample; seen: Seen } {
  const from = seen ? seen.at : Math.max(inst.startedAt, since);
  const elapsed = Math.max(0, now - from);
  const cpuNow = stats?.cpuNanos ?? seen?.cpuNanos ?? 0;
  const cpuBase = seen ? seen.cpuNanos : inst.startedAt > runStart ? 0 : cpuNow;
  const state = { startingMs: 0, servingMs: 0, idleMs: 0, frozenMs: 0 };
  if (inst.phase === 'starting') state.startingMs = elapsed;
  else if (inst.phase === 'frozen') state.frozenMs = elapsed;
  else {
    state.servingMs = Math.min(elapsed, gw.busyMs);
    state.idleMs = elapsed - state.servingMs;
  }
  return {
    sample: {
      at: now,
      instance: inst.id,
      tenant: inst.tenant,
      service: inst.service,
      revision: inst.revision,
      billing: inst.billing,
      cpus: inst.cpus,
      memoryBytes: inst.memoryBytes,
      ...state,
      busyMs: gw.busyMs,
      cpuNanos: Math.max(0, cpuNow - cpuBase),
      memUsedKibMs: ((stats?.workingSetBytes ?? 0) / 1024) * elapsed,
      requests: gw.requests,
      egressBytes: gw.egressBytes,
      cpuCounterNanos: cpuNow,
    },
    seen: { at: now, cpuNanos: cpuNow },
  };
}

export interface MeterOptions {
  sampleMs: number;
  flushMs: number;
}

const NONE = { requests: 0, egressBytes: 0, busyMs: 0 };

export class Meter {
  readonly run = randomBytes(6).toString('hex');
  private readonly acc = new MinuteAccumulator(this.run);
  private readonly seen = new Map<string, Seen>();
  /** the last known instance of each id, for gateway counts that arrive after it left the scheduler */
  private readonly known = new Map<string, MeteredInstance>();
  private lastSample: number;
  private readonly runStart: number;
  private cancel: Array<() => void> = [];
  private sampling: Promise<void> | undefined;
  private flushing: Promise<void> | undefined;
  /** each instance's CPU use over its last sample and its working set then (the dashboard's instance list) */
  private readonly recent = new Map<string, { cpuPercent: number; memoryBytes: number }>();
  /** where the previous run left each instance; read once, at the first sample */
  private marks: Promise<Map<string, UsageMark>> | undefined;

  constructor(
    private readonly sources: MeterSources,
    private readonly sink: UsageSink,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly o: MeterOptions,
  ) {
    this.runStart = this.lastSample = clock.now();
  }

  start(): void {
    this.cancel.push(this.clock.every(this.o.sampleMs, () => void this.sample()));
    this.cancel.push(this.clock.every(this.o.flushMs, () => void this.flush()));
  }

  /** A last sample and flush: a graceful stop loses nothing. */
  async stop(): Promise<void> {
    for (const c of this.cancel.splice(0)) c();
    await this.sample();
    await this.flush();
  }

  /** Samples every instance now (one at a time: a slow cgroup read delays the next sample, never overlaps it). */
  sample(): Promise<void> {
    return (this.sampling ??= this.sampleOnce()
      .catch((err: unknown) => this.log.warn({ err }, 'metering: a sample failed'))
      .finally(() => (this.sampling = undefined)));
  }

  private async sampleOnce(): Promise<void> {
    this.marks ??= this.sink.marks(this.runStart - MARKS_WITHIN_MS).catch((err: unknown) => {
      this.log.warn({ err }, 'metering: cannot read where the last run stopped; re-adopted instances are metered from now');
      return new Map<string, UsageMark>();
    });
    const marks = await this.marks;
    const instances = this.sources.instances();
    const gw = new Map<string, GatewayReading>();
    for (const r of this.sources.gateway()) {
      const prev = gw.get(r.instance);
      gw.set(r.instance, prev ? { instance: r.instance, requests: prev.requests + r.requests, egressBytes: prev.egressBytes + r.egressBytes, busyMs: prev.busyMs + r.busyMs } : r);
    }
    const stats = await Promise.all(instances.map((i) => this.sources.stats(i.id).catch(() => undefined)));
    const now = this.clock.now();
    const live = new Set<string>();
    instances.forEach((inst, k) => {
      live.add(inst.id);
      this.known.set(inst.id, inst);
      // an instance adopted from the previous run: from where that run's last written sample left it
      const mark = !this.seen.has(inst.id) && inst.startedAt <= this.runStart ? marks.get(inst.id) : undefined;
      const before = this.seen.get(inst.id);
      const m = measure(inst, before ?? (mark && mark.at < now ? { at: mark.at, cpuNanos: mark.cpuNanos } : undefined), gw.get(inst.id) ?? NONE, stats[k], now, this.lastSample, this.runStart);
      const read = stats[k];
      // CPU % needs two readings of this run; the working set, one
      if (read) this.recent.set(inst.id, { cpuPercent: before && now > before.at ? Math.round(((read.cpuNanos - before.cpuNanos) / 1e6 / (now - before.at)) * 1000) / 10 : (this.recent.get(inst.id)?.cpuPercent ?? 0), memoryBytes: read.workingSetBytes });
      this.seen.set(inst.id, m.seen);
      this.acc.add(m.sample);
      gw.delete(inst.id);
    });
    // gateway counts of instances the scheduler no longer lists (removed since the last sample)
    for (const r of gw.values()) {
      const inst = this.known.get(r.instance);
      if (!inst || (r.requests === 0 && r.busyMs === 0 && r.egressBytes === 0)) continue;
      const m = measure(inst, { at: now, cpuNanos: 0 }, r, undefined, now, now, this.runStart);
      this.acc.add(m.sample);
    }
    for (const id of this.seen.keys()) if (!live.has(id)) this.seen.delete(id);
    for (const id of this.recent.keys()) if (!live.has(id)) this.recent.delete(id);
    for (const id of this.known.keys()) if (!live.has(id) && !gw.has(id)) this.known.delete(id);
    this.lastSample = now;
  }

  /** An instance's CPU use over the last sample (% of one core) and its working set then; undefined
   *  before its first reading. No cgroup is read here: this is what the last sample saw. */
  recentUsage(id: string): { cpuPercent: number; memoryBytes: number } | undefined {
    return this.recent.get(id);
  }

  /** Writes the minutes changed since the last flush (absolute values; idempotent). */
  flush(): Promise<void> {
    return (this.flushing ??= (async () => {
      const batch = this.acc.flush();
      if (batch.rows.length === 0) return;
      try {
        await this.sink.upsertMinutes(batch.rows);
        batch.written(this.clock.now());
      } catch (err) {
        batch.failed();
        this.log.warn({ err, rows: batch.rows.length }, 'metering: writing usage failed; kept for the next flush');
      }
    })().finally(() => (this.flushing = undefined)));
  }
}
