// scheduler/rollout: which revisions actually get a service's traffic right now. A revision that has
// no ready instance yet keeps sending its share to the revision that served before it (when that one
// has ready instances), so a redeploy under load never makes requests wait for a cold start. Pure.
import type { ServiceRecord, TrafficTarget } from '../core/service.ts';

export function effectiveTraffic(service: ServiceRecord, readyCount: (revision: string) => number): TrafficTarget[] {
  const fallback = service.previousServing;
  if (!fallback || readyCount(fallback) === 0) return service.traffic;
  const out = new Map<string, number>();
  for (const t of service.traffic) {
    const to = t.percent > 0 && readyCount(t.revision) === 0 ? fallback : t.revision;
    out.set(to, (out.get(to) ?? 0) + t.percent);
  }
  return [...out].map(([revision, percent]) => ({ revision, percent }));
}
