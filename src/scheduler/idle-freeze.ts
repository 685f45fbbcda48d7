// scheduler/idle-freeze: CPU only while a request is in flight (Cloud Run's default "CPU is only
// allocated during request processing"). A ready instance of a service without `cpuAlways` that has had
// no request in flight for `coldStart.idleFreezeMs` is frozen (cgroup freezer) — its min instances
// included — and thawed by the next request through the activator, as a frozen instance of a
// freezeIdle revision is (freezer.ts). Unlike those, an idle-frozen instance keeps its place in the
// revision's scale: the autoscaler counts it as serving, it is never evicted for the frozen-memory
// budget, and a request thaws it before anything else starts. `cpuAlways` services are never frozen:
// their instances keep the CPU for background work (Cloud Run --no-cpu-throttling).
//
// Pure: the scheduler notes when each instance was last busy (a request in flight or an open tunnel,
// or an arrival at the revision since the last tick) on its clock, and freezes what this returns.

export interface IdleFreezeCandidate {
  id: string;
  /** only ready instances are frozen */
  phase: string;
  /** clock ms it was last seen busy (or became ready) */
  idleSince: number;
  /** requests in flight and open tunnels now */
  active: number;
}

export interface IdleFreezeInput {
  /** the revision's spec.cpuAlways */
  cpuAlways: boolean;
  /** the node's coldStart.idleFreezeMs; 0: never freeze idle instances */
  delayMs: number;
  now: number;
  /** a request arrived at the revision (or is queued for it) since the last tick: nothing is idle */
  revisionBusy: boolean;
  instances: readonly IdleFreezeCandidate[];
}

/** The instances to freeze now, by id. */
export function idleInstancesToFreeze(i: IdleFreezeInput): string[] {
  if (i.cpuAlways || i.delayMs <= 0 || i.revisionBusy) return [];
  return i.instances.filter((c) => c.phase === 'ready' && c.active === 0 && i.now - c.idleSince >= i.delayMs).map((c) => c.id);
}

/** When an instance was last busy, as of this tick: now when it is busy, else what it was. */
export function lastBusy(previous: number, active: number, revisionBusy: boolean, now: number): number {
  return active > 0 || revisionBusy ? now : previous;
}
