// scheduler/keep-alive-policies: every service's keep-alive policy as the tick uses it. Each service that has
// seen a request gets one policy (per service, not per revision: the idle times belong to the
// service's callers, and a redeploy keeps what was learned); it is fed with every tick in which any of
// the service's revisions had a request, and asked, per idle revision, whether to keep it warm, let it
// go to zero, or warm it again. A change of the policy's kind is a service event (`keep-alive`). What a
// service learned is saved (write-behind) whenever it changes, and taken back after a daemon restart.
import type { ServiceRecord } from '../core/service.ts';
import type { KeepAlive, KeepAliveDecision, KeepAliveFactory, KeepAlivePolicy } from './ports.ts';
import type { WriteBehind } from './write-behind.ts';

const AUTOSCALER: KeepAliveDecision = { kind: 'autoscaler' };

export class KeepAlivePolicies {
  private readonly byService = new Map<string, { policy: KeepAlive; kind: KeepAlivePolicy['kind'] }>();
  private specs = new Map<string, ServiceRecord['spec']['scaling']>();

  constructor(
    private readonly factory: KeepAliveFactory | undefined,
    private readonly writes: Pick<WriteBehind, 'event' | 'saveKeepAlive'>,
  ) {}

  /** The desired services as last read: their specs apply; deleted services are forgotten. */
  configure(services: ServiceRecord[]): void {
    this.specs = new Map(services.map((s) => [s.name, s.spec.scaling]));
    for (const [name, entry] of this.byService) {
      const spec = this.specs.get(name);
      if (!spec) this.byService.delete(name);
      else {
        entry.policy.configure(spec);
        this.noteKind(name, entry);
      }
    }
  }

  /** Takes back what services learned before a daemon restart (after the first configure). */
  restore(saved: Array<{ service: string; state: string }>): void {
    for (const { service, state } of saved) {
      const entry = this.entry(service);
      if (!entry) continue;
      entry.policy.load(state);
      entry.kind = entry.policy.policy().kind; // as it was: no event
    }
  }

  /** A tick (or a request held by the activator) saw a request for the service. */
  request(service: string, now: number): void {
    const entry = this.entry(service);
    if (!entry) return;
    if (entry.policy.request(now)) this.writes.saveKeepAlive(service, entry.policy.save());
    this.noteKind(service, entry);
  }

  private entry(service: string): { policy: KeepAlive; kind: KeepAlivePolicy['kind'] } | undefined {
    let entry = this.byService.get(service);
    if (entry) return entry;
    const spec = this.specs.get(service);
    if (!this.factory || !spec) return undefined;
    entry = { policy: this.factory(), kind: 'fixed' };
    entry.policy.configure(spec);
    this.byService.set(service, entry);
    return entry;
  }

  decide(service: string, now: number): KeepAliveDecision {
    return this.byService.get(service)?.policy.decide(now) ?? AUTOSCALER;
  }

  /** The service's current policy, undefined before its first request. */
  policy(service: string): KeepAlivePolicy | undefined {
    return this.byService.get(service)?.policy.policy();
  }

  private noteKind(service: string, entry: { policy: KeepAlive; kind: KeepAlivePolicy['kind'] }): void {
    const p = entry.policy.policy();
    if (p.kind === entry.kind) return;
    entry.kind = p.kind;
    this.writes.event(service, null, 'keep-alive', describePolicy(p));
  }
}

function describePolicy(p: KeepAlivePolicy): string {
  const s = (ms: number) => `${+(ms / 1000).toFixed(1)}s`;
  return p.kind === 'fixed' ? `fixed: keep-alive ${s(p.keepAliveMs)} (${p.reason})` : `histogram: pre-warm ${s(p.preWarmMs)}, keep-alive ${s(p.keepAliveMs)} (${p.reason})`;
}
