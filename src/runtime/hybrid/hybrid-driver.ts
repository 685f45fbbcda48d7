// runtime/hybrid/hybrid-driver: the instance-driver port over two drivers — runc on this machine and the
// swarm — so cold starts keep runc's speed while capacity spreads over the cluster (`runtime.driver:
// hybrid`, docs/cluster.md). Each instance lives on one side, chosen at create by placement.ts; every
// later call goes to that side. Which side holds an instance is remembered in memory and, after a
// daemon restart, learnt again from both drivers' lists (their instances carry their own records:
// runc's instance dirs, swarm's service labels), so re-adoption needs nothing of its own.
import { SkiffError } from '../../core/errors.ts';
import type {
  ExitReason, InstanceAddress, InstanceDriver, InstanceInfo, InstanceSpec, InstanceStats, ListeningSocket, LogLine, PastInstance,
} from '../../core/instance.ts';
import type { InternalNetwork } from '../../core/internal-network.ts';
import type { NodeInventory, NodeView } from '../../core/nodes.ts';
import type { PinnedImage } from '../../core/service.ts';
import { sideFor, type HybridPolicy, type Side } from './placement.ts';

interface Placed {
  side: Side;
  revision: string | undefined;
  /** started (or found running after a restart): no longer a waiting spare */
  started: boolean;
}

export class HybridInstanceDriver implements InstanceDriver, NodeInventory {
  readonly internal?: InternalNetwork;
  private readonly placed = new Map<string, Placed>();
  /** the sides whose instances are known (listed once); a side that did not answer is asked again */
  private readonly learnt = new Set<Side>();
  private learning: Promise<void> | undefined;

  constructor(
    private readonly local: InstanceDriver & Partial<NodeInventory>,
    private readonly cluster: InstanceDriver & Partial<NodeInventory>,
    private readonly policy: HybridPolicy,
  ) {
    // service names resolve on this machine's network: local instances reach each other by name
    if (local.internal) this.internal = local.internal;
  }

  private of(side: Side): InstanceDriver {
    return side === 'local' ? this.local : this.cluster;
  }

  /** Each side's instances, once per side: which side each id is on. A side that does not answer (the
   *  swarm's manager away) is asked again at the next call; the other side works meanwhile. */
  private learn(): Promise<void> {
    if (this.learnt.size === 2) return Promise.resolve();
    this.learning ??= (async () => {
      await Promise.all((['local', 'cluster'] as const).filter((side) => !this.learnt.has(side)).map(async (side) => {
        const list = await this.of(side).list().catch(() => undefined);
        if (!list) return;
        for (const i of list) if (!this.placed.has(i.id)) this.placed.set(i.id, { side, revision: i.revision || undefined, started: i.status !== 'created' });
        this.learnt.add(side);
      }));
    })().finally(() => (this.learning = undefined));
    return this.learning;
  }

  /** The side holding `id`; for an id neither knows, local (whose answer is then "not found"), unless
   *  the swarm's instances are not known yet and it has this one. */
  private async sideOf(id: string): Promise<InstanceDriver> {
    await this.learn();
    const known = this.placed.get(id)?.side;
    if (known) return this.of(known);
    if (!this.learnt.has('cluster') && (await this.cluster.inspect(id).catch(() => undefined))) return this.cluster;
    return this.local;
  }

  async prepare(image: PinnedImage): Promise<{ total: number; unpacked: number }> {
    const [l, c] = await Promise.all([this.local.prepare(image), this.cluster.prepare(image)]);
    return { total: l.total, unpacked: Math.max(l.unpacked, c.unpacked) };
  }

  async create(id: string, spec: InstanceSpec): Promise<void> {
    await this.learn();
    if (this.placed.has(id)) throw new SkiffError('CONFLICT', `instance ${id} already exists`);
    const local = [...this.placed.values()].filter((p) => p.side === 'local');
    const ofRevision = local.filter((p) => p.revision !== undefined && p.revision === spec.revision);
    const side = sideFor(spec, { local: local.length, startedOfRevision: ofRevision.filter((p) => p.started).length, waitingOfRevision: ofRevision.filter((p) => !p.started).length }, this.policy);
    // reserved before the create's first await, so concurrent creates count it
    this.placed.set(id, { side, revision: spec.revision, started: false });
    try {
      await this.of(side).create(id, spec);
    } catch (err) {
      this.placed.delete(id);
      throw err;
    }
  }

  async start(id: string): Promise<InstanceAddress> {
    const driver = await this.sideOf(id);
    const placed = this.placed.get(id);
    if (placed) placed.started = true;
    try {
      return await driver.start(id);
    } catch (err) {
      // a failed start deletes the instance (the port's rule): it no longer takes a local slot
      if (!(await driver.inspect(id).catch(() => undefined))) this.placed.delete(id);
      throw err;
    }
  }

  async pause(id: string): Promise<void> {
    return (await this.sideOf(id)).pause(id);
  }

  async resume(id: string): Promise<void> {
    return (await this.sideOf(id)).resume(id);
  }

  async stop(id: string, graceMs: number): Promise<void> {
    return (await this.sideOf(id)).stop(id, graceMs);
  }

  async delete(id: string): Promise<void> {
    await (await this.sideOf(id)).delete(id);
    this.placed.delete(id);
  }

  async inspect(id: string): Promise<InstanceInfo | undefined> {
    return (await this.sideOf(id)).inspect(id);
  }

  async list(): Promise<InstanceInfo[]> {
    const [local, cluster] = await Promise.all([this.local.list(), this.cluster.list()]);
    return [...local, ...cluster];
  }

  async watch(id: string): Promise<ExitReason | undefined> {
    return (await this.sideOf(id)).watch(id);
  }

  /** A deleted instance's kept output is on the side that ran it: the one that has any. */
  async *logs(id: string, opts?: { tail?: number }): AsyncIterable<LogLine> {
    await this.learn();
    const known = this.placed.get(id)?.side;
    const order: Side[] = known ? [known] : ['local', 'cluster'];
    for (const side of order) {
      let any = false;
      for await (const l of this.of(side).logs(id, opts)) {
        any = true;
        yield l;
      }
      if (any) return;
    }
  }

  async *followLogs(id: string, signal: AbortSignal, opts?: { tail?: number }): AsyncIterable<LogLine> {
    yield* (await this.sideOf(id)).followLogs(id, signal, opts);
  }

  async stats(id: string): Promise<InstanceStats | undefined> {
    return (await this.sideOf(id)).stats(id);
  }

  async listening(id: string): Promise<ListeningSocket[] | undefined> {
    return (await this.sideOf(id)).listening(id);
  }

  async pastInstances(service: string): Promise<PastInstance[]> {
    const [l, c] = await Promise.all([this.local.pastInstances(service), this.cluster.pastInstances(service)]);
    return [...l, ...c].sort((a, b) => a.endedAt - b.endedAt || a.id.localeCompare(b.id));
  }

  async forgetLogs(service: string): Promise<void> {
    await Promise.all([this.local.forgetLogs(service), this.cluster.forgetLogs(service)]);
  }

  /** The swarm's nodes, and this machine's runc side as a node of its own. */
  async nodes(): Promise<NodeView[]> {
    const [l, c] = await Promise.all([this.local.nodes?.() ?? [], this.cluster.nodes?.() ?? []]);
    return [...l.map((n) => ({ ...n, name: `${n.name} (runc)` })), ...c];
  }
}
