// scheduler/quota-gate: the project quota at each instance start. Every instance that runs a process
// (starting, ready, draining, frozen — idle-frozen or not) holds its revision's memory and CPU limits
// against its project's quota from just before its start until it is deleted; pre-created instances
// (`runc create` done, nothing run) hold nothing until one is taken. The reservation is synchronous
// (QuotaPort.reserve checks and counts in one step) and made before any await, so concurrent
// scale-outs of several services of one project cannot together pass the quota.
// A refused start leaves the revision as it is: requests queue for its ready (or starting) instances
// as usual; a revision with none has its held and new requests answered QUOTA_EXCEEDED (429) at once,
// through the gateway's revision-failed path, rather than waiting out their timeout.
import { DEFAULT_PROJECT } from '../core/projects.ts';
import { instanceUsage } from '../core/quota.ts';
import type { Clock } from '../core/clock.ts';
import type { QuotaPort, RoutingPort } from './ports.ts';
import type { RevisionState } from './revision-state.ts';
import type { WriteBehind } from './write-behind.ts';

/** how long a revision with no instance answers 429 before a request asks for one again */
export const QUOTA_RETRY_MS = 1000;
/** a revision held back by its quota says so in its events at most this often */
const QUOTA_EVENT_EVERY_MS = 30_000;

export class QuotaGate {
  /** the revisions refused last time, with the message and when it was written as an event */
  private readonly refused = new WeakMap<RevisionState, { message: string; at: number }>();

  constructor(
    private readonly port: QuotaPort | undefined,
    private readonly h: { routing: RoutingPort; writes: WriteBehind; clock: Clock },
  ) {}

  /** Reserves instance `id` of the revision; false (the refusal told) when it would pass the quota. */
  admit(state: RevisionState, id: string): boolean {
    if (!this.port) return true;
    const r = this.port.reserve(id, projectOf(state), instanceUsage(state.record.spec));
    if (r.ok) {
      this.refused.delete(state);
      return true;
    }
    const now = this.h.clock.now();
    const last = this.refused.get(state);
    if (!last || last.message !== r.message || now - last.at >= QUOTA_EVENT_EVERY_MS) {
      this.refused.set(state, { message: r.message, at: now });
      this.h.writes.event(state.record.service, state.name, 'quota', `no new instance: ${r.message}`);
    }
    // Nothing to queue for: the held requests learn the cause now. (Ready, idle-frozen or starting
    // instances serve the queue as usual.)
    if (state.count('starting', 'ready') + state.idleFrozen().length === 0) {
      this.h.routing.revisionFailed(state.name, r.message, QUOTA_RETRY_MS, r.budget ? 'budget' : 'quota');
    }
    return false;
  }

  /** An instance that runs already (re-adopted at a daemon start) is counted, whatever the quota. */
  hold(state: RevisionState, id: string): void {
    this.port?.hold(id, projectOf(state), instanceUsage(state.record.spec));
  }

  /** The project's budget is spent with action stop (core/quota.ts capInstances 0): none of the
   *  revision's instances may run. */
  stopped(state: RevisionState): boolean {
    return this.port?.stopped?.(projectOf(state)) ?? false;
  }

  /** The instance is deleted: its share of the quota is free. */
  release(id: string): void {
    this.port?.release(id);
  }
}

function projectOf(state: RevisionState): string {
  return state.tenant ?? DEFAULT_PROJECT;
}
