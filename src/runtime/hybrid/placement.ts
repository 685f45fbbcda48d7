// runtime/hybrid/placement: where the hybrid driver creates an instance — on this machine (runc: a
// cold start in ~0.1-0.3 s) or on the swarm (0.5-3 s). Pure. The rule: the first `localPerRevision`
// instances of each revision run here, so a revision scaling from zero is answered by a local first
// responder while the rest of a burst starts on the swarm; up to `localMax` local instances in all.
// A revision's pre-created spare (the cold-start pool's, created before it is needed) is local too
// while none is waiting here: it is made while the revision's last instance still drains, and on the
// swarm the next cold start would lose runc's speed (bench/cluster.ts measured 3 in 10 fast before).
// What only this machine can give (devices, volumes, secrets kept off disk) stays here; what names
// cluster nodes (a placement) goes to the swarm.
import type { InstanceSpec } from '../../core/instance.ts';

export type Side = 'local' | 'cluster';

export interface HybridPolicy {
  /** local instances per revision: the first responders */
  localPerRevision: number;
  /** local instances in all (this machine's share) */
  localMax: number;
}

export interface Occupancy {
  /** local instances of the spec's revision that were started (running, frozen or ended, until deleted) */
  startedOfRevision: number;
  /** local instances of the spec's revision created and not started yet (spares) */
  waitingOfRevision: number;
  /** local instances in all */
  local: number;
}

export function sideFor(spec: InstanceSpec, now: Occupancy, policy: HybridPolicy): Side {
  if (spec.devices?.length || spec.gpus || spec.mounts?.length) return 'local';
  if (spec.secrets && (Object.keys(spec.secrets.env).length || spec.secrets.mounts.length)) return 'local';
  if (spec.placement?.constraints?.length || spec.placement?.spread?.length) return 'cluster';
  if (now.local >= policy.localMax) return 'cluster';
  // a one-off run or job task (no revision) runs here while there is room: someone waits for it
  if (spec.revision === undefined) return 'local';
  if (now.startedOfRevision + now.waitingOfRevision < policy.localPerRevision) return 'local';
  // one spare here beyond the first responders: the next start from zero is runc's
  return now.waitingOfRevision === 0 && now.startedOfRevision <= policy.localPerRevision ? 'local' : 'cluster';
}
