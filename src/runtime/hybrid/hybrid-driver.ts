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
}

export class HybridInstanceDriver implements InstanceDriver, NodeInventory {
  readonly internal?: InternalNetwork;
  private readonly placed = new Map<string, Placed>();
  private learnt: Promise<void> | undefined;

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

  /** Both sides' instances, once per driver: which side each id is on. */
  private learn(): Promise<void> {
    this.learnt ??= (async () => {
      const [local, cluster] = await Promise.all([this.local.list(), this.cluster.list()]);
      for (const i of local) if (!this.placed.has(i.id)) this.placed.set(i.id, { side: 'local', revision: i.revision || undefined });
      for (const i of cluster) if (!this.placed.has(i.id)) this.placed.set(i.id, { side: 'cluster', revision: i.revision || undefined });
    })().catch((err: unknown) => {
      this.learnt = undefined;
      throw err;
    });
    return this.learnt;
  }

  /** The side holding `id`; for an id neither knows, local (whose answer is then "not found"). */
  private async sideOf(id: string): Promise<InstanceDriver> {
    await this.learn();
    return this.of(this.placed.get(id)?.side ?? 'local');
  }

  async prepare(image: PinnedImage): Promise<{ total: number; unpacked: number }> {
    const [l, c] = await Promise.all([this.local.prepare(image), this.cluster.prepare(image)]);
    return { total: l.total, unpacked: Math.max(l.unpacked, c.unpacked) };
  }

  async create(id: string, spec: InstanceSpec): Promise<void> {
    await this.learn();
    if (this.placed.has(id)) throw new SkiffError('CONFLICT', `instance ${id} already exists`);
    const local = [...this.placed.values()].filter((p) => p.side === 'local');
    const side = sideFor(spec, { local: local.length, localOfRevision: local.filter((p) => p.revision !== undefined && p.revision === spec.revision).length }, this.policy);
    // reserved before the create's first await, so concurrent creates count it
    this.placed.set(id, { side, revision: spec.revision });
    try {
      await this.of(side).create(id, spec);
    } catch (err) {
      this.placed.delete(id);
      throw err;
    }
  }

  async start(id: string): Promise<InstanceAddress> {
    return (await this.sideOf(id)).start(id);
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
