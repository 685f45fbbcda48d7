// runtime/lazy-driver: an InstanceDriver that builds the real one on first need. A driver's set-up can
// touch the host (the runc driver makes a bridge, iptables chains and a layer cache), and a daemon that
// only serves the registry should never do that. Built by the first prepare/create, or by any call once
// `leftovers()` says an earlier daemon left instances behind (they must be re-adopted); until then the
// queries answer "nothing here" (empty list, no logs, undefined) without building anything.
import { SkiffError } from '../core/errors.ts';
import type { ExitReason, InstanceAddress, InstanceInfo, InstanceSpec, InstanceStats, ListeningSocket, LogLine, PastInstance } from '../core/instance.ts';
import type { PinnedImage } from '../core/service.ts';
import type { InstanceDriver } from '../core/instance.ts';
import type { InternalNetwork } from '../core/internal-network.ts';

export class LazyDriver implements InstanceDriver {
  private real: Promise<InstanceDriver> | undefined;

  constructor(
    private readonly build: () => Promise<InstanceDriver>,
    /** whether instances may exist from an earlier driver (e.g. its instances dir has entries) */
    private readonly leftovers: () => Promise<boolean>,
    /** the real driver's service names: usable before it is built (they need only the network) */
    readonly internal?: InternalNetwork,
  ) {}

  /** Whether the real driver is built (or being built). */
  get built(): boolean {
    return this.real !== undefined;
  }

  private get(): Promise<InstanceDriver> {
    if (!this.real) {
      this.real = this.build();
      this.real.catch(() => (this.real = undefined)); // a failed build is retried by the next call
    }
    return this.real;
  }

  /** The real driver when there may be instances; undefined when there cannot be any. */
  private async existing(): Promise<InstanceDriver | undefined> {
    if (this.real || (await this.leftovers())) return this.get();
    return undefined;
  }

  private async mustExist(id: string): Promise<InstanceDriver> {
    const d = await this.existing();
    if (!d) throw new SkiffError('NOT_FOUND', `no instance ${id}`);
    return d;
  }

  async prepare(image: PinnedImage): Promise<{ total: number; unpacked: number }> {
    return (await this.get()).prepare(image);
  }

  async create(id: string, spec: InstanceSpec): Promise<void> {
    return (await this.get()).create(id, spec);
  }

  async start(id: string): Promise<InstanceAddress> {
    return (await this.mustExist(id)).start(id);
  }

  async pause(id: string): Promise<void> {
    return (await this.mustExist(id)).pause(id);
  }

  async resume(id: string): Promise<void> {
    return (await this.mustExist(id)).resume(id);
  }

  async stop(id: string, graceMs: number): Promise<void> {
    await (await this.existing())?.stop(id, graceMs);
  }

  async delete(id: string): Promise<void> {
    await (await this.existing())?.delete(id);
  }

  async inspect(id: string): Promise<InstanceInfo | undefined> {
    return (await this.existing())?.inspect(id);
  }

  async list(): Promise<InstanceInfo[]> {
    return (await (await this.existing())?.list()) ?? [];
  }

  async watch(id: string): Promise<ExitReason | undefined> {
    return (await this.existing())?.watch(id);
  }

  async pastInstances(service: string): Promise<PastInstance[]> {
    return (await (await this.existing())?.pastInstances(service)) ?? [];
  }

  async forgetLogs(service: string): Promise<void> {
    await (await this.existing())?.forgetLogs(service);
  }

  async *logs(id: string, opts?: { tail?: number }): AsyncGenerator<LogLine> {
    const d = await this.existing();
    if (d) yield* d.logs(id, opts);
  }

  async *followLogs(id: string, signal: AbortSignal, opts?: { tail?: number }): AsyncGenerator<LogLine> {
    const d = await this.existing();
    if (d) yield* d.followLogs(id, signal, opts);
  }

  async listening(id: string): Promise<ListeningSocket[] | undefined> {
    return (await this.existing())?.listening(id);
  }

  async stats(id: string): Promise<InstanceStats | undefined> {
    return (await this.existing())?.stats(id);
  }
}
