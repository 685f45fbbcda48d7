// runtime/hybrid/placement: where the hybrid driver creates an instance — on this machine (runc: a
// cold start in ~0.1-0.3 s) or on the swarm (2-3 s). Pure. The rule: the first `localPerRevision`
// instances of each revision run here, so a revision scaling from zero is answered by a local first
// responder while the rest of a burst starts on the swarm; up to `localMax` local instances in all.
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
  /** live local instances (created, running or frozen) of the spec's revision */
  localOfRevision: number;
  /** live local instances in all */
  local: number;
}

export function sideFor(spec: InstanceSpec, now: Occupancy, policy: HybridPolicy): Side {
  if (spec.devices?.length || spec.gpus || spec.mounts?.length) return 'local';
  if (spec.secrets && (Object.keys(spec.secrets.env).length || spec.secrets.mounts.length)) return 'local';
  if (spec.placement?.constraints?.length || spec.placement?.spread?.length) return 'cluster';
  if (now.local >= policy.localMax) return 'cluster';
  // a one-off run or job task (no revision) runs here while there is room: someone waits for it
  if (spec.revision === undefined) return 'local';
  return now.localOfRevision < policy.localPerRevision ? 'local' : 'cluster';
}
