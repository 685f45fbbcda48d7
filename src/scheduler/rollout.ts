// scheduler/rollout: which revisions actually get a service's traffic right now. A revision that has
// no ready instance yet keeps sending its share to the revision that served before it (when that one
// has ready instances), so a redeploy under load never makes requests wait for a cold start; and a
// revision whose instances keep failing (a crash loop) sends its share there even when that one is at
// zero, so a broken update costs a cold start, not an outage. A tagged entry is an address, not a share:
// it always names its own revision. Pure.
import type { ServiceRecord, TrafficTarget } from '../core/service.ts';

export function effectiveTraffic(service: ServiceRecord, readyCount: (revision: string) => number, failing: (revision: string) => boolean = () => false): TrafficTarget[] {
  const fallback = service.previousServing;
  if (!fallback || failing(fallback)) return service.traffic;
  const fallbackReady = readyCount(fallback) > 0;
  const out = new Map<string, number>();
  const tags: TrafficTarget[] = [];
  for (const t of service.traffic) {
    if (t.tag !== undefined) tags.push({ revision: t.revision, percent: 0, tag: t.tag });
    if (t.percent === 0) continue;
    const moves = t.revision !== fallback && readyCount(t.revision) === 0 && (fallbackReady || failing(t.revision));
    const to = moves ? fallback : t.revision;
    out.set(to, (out.get(to) ?? 0) + t.percent);
  }
  return [...[...out].map(([revision, percent]) => ({ revision, percent })), ...tags];
}
