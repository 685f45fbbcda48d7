// daemon/lazy-instances: defers building the runc instance driver (bridge, iptables chains, layer
// cache) until the first instance is prepared or started, or until there are instances to re-adopt.
// A daemon that only serves the registry never touches host networking.
import { existsSync, readdirSync } from 'node:fs';
import type { RevisionRecord } from '../core/service.ts';
import type { ServingInstances } from './serving-wiring.ts';

export class LazyInstances implements ServingInstances {
  private real: Promise<ServingInstances> | undefined;

  constructor(
    private readonly build: () => Promise<ServingInstances>,
    /** directory whose entries mean instances may exist from an earlier daemon */
    private readonly instancesDir: string,
  ) {}

  private get(): Promise<ServingInstances> {
    if (!this.real) {
      this.real = this.build();
      this.real.catch(() => (this.real = undefined));
    }
    return this.real;
  }

  private get started(): boolean {
    return this.real !== undefined || (existsSync(this.instancesDir) && readdirSync(this.instancesDir).length > 0);
  }

  async prepare(pinned: string) {
    return (await this.get()).prepare(pinned);
  }

  async start(revision: RevisionRecord, id: string) {
    return (await this.get()).start(revision, id);
  }

  async stop(id: string, graceMs: number) {
    if (this.started) await (await this.get()).stop(id, graceMs);
  }

  async list() {
    return this.started ? (await this.get()).list() : [];
  }

  async exited(id: string) {
    return (await this.get()).exited(id);
  }

  async stats(id: string) {
    return this.started ? (await this.get()).stats(id) : undefined;
  }

  async logs(id: string, tail?: number) {
    return this.started ? (await this.get()).logs(id, tail) : [];
  }
}
