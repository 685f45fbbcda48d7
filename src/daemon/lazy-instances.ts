// daemon/lazy-instances: defers building the runc instance driver (bridge, iptables chains, layer
// cache) until the first instance is prepared or started, or until there are instances to re-adopt.
// A daemon that only serves the registry never touches host networking.
import { existsSync, readdirSync } from 'node:fs';
import type { RevisionRecord } from '../core/service.ts';
import type { ServingInstances } from './serving-wiring.ts';
import type { RunInstances } from './runs.ts';

type Instances = ServingInstances & RunInstances;

export class LazyInstances implements Instances {
  private real: Promise<Instances> | undefined;

  constructor(
    private readonly build: () => Promise<Instances>,
    /** directory whose entries mean instances may exist from an earlier daemon */
    private readonly instancesDir: string,
  ) {}

  private get(): Promise<Instances> {
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

  async create(revision: RevisionRecord, id: string) {
    return (await this.get()).create(revision, id);
  }

  async start(id: string) {
    return (await this.get()).start(id);
  }

  async pause(id: string) {
    return (await this.get()).pause(id);
  }

  async resume(id: string) {
    return (await this.get()).resume(id);
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

  async launch(id: string, pinned: string, spec: Parameters<RunInstances['launch']>[2]) {
    return (await this.get()).launch(id, pinned, spec);
  }

  async *follow(id: string, signal: AbortSignal) {
    yield* (await this.get()).follow(id, signal);
  }

  async exit(id: string) {
    return (await this.get()).exit(id);
  }
}
