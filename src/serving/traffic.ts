// serving/traffic: the rules of a service's traffic list and what a deploy does to it. Knative's model:
// entries name a revision and a percent; an entry may carry a tag, which gives that revision its own
// address (TAG--NAME.<domain>, /s/TAG--NAME/) whatever its percent, so a revision can be tried before
// it takes any share. Pure.
import { SkiffError } from '../core/errors.ts';
import { assertTrafficTag as assertTag } from '../core/names.ts';


import type { TrafficTarget } from '../core/service.ts';

/** How a deploy routes its new revision: by default all traffic; `noTraffic` leaves the split as it
 *  is; `tag` names the new revision (moving the tag off whichever revision had it). */
export interface DeployRouting {
  noTraffic?: boolean;
  tag?: string;
}

/**
 * A split's percents add up to 100; a revision has at most one untagged entry; tags are DNS labels,
 * each used once, short enough that TAG--NAME is a DNS label too.
 */
export function assertTraffic(service: string, traffic: TrafficTarget[]): void {
  const sum = traffic.reduce((a, t) => a + t.percent, 0);
  if (sum !== 100) throw new SkiffError('BAD_REQUEST', `traffic: percents add up to ${sum}, not 100`);
  const untagged = traffic.filter((t) => t.tag === undefined).map((t) => t.revision);
  if (new Set(untagged).size !== untagged.length) throw new SkiffError('BAD_REQUEST', 'traffic: a revision appears twice without a tag');
  const tags = new Set<string>();
  for (const t of traffic) {
    if (t.tag === undefined) continue;
    assertTag(service, t.tag);
    if (tags.has(t.tag)) throw new SkiffError('BAD_REQUEST', `traffic: tag ${t.tag} names two revisions`);
    tags.add(t.tag);
  }
}

/** The split after a deploy of `revision`; `old` is undefined for a new service. */
export function trafficAfterDeploy(service: string, old: TrafficTarget[] | undefined, revision: string, routing: DeployRouting = {}): TrafficTarget[] {
  if (routing.tag !== undefined) assertTag(service, routing.tag);
  if (routing.noTraffic && !old) throw new SkiffError('BAD_REQUEST', `noTraffic: ${service} is new, and a service's first revision takes all its traffic`);
  // a tag being moved to the new revision leaves its old one (a share it had stays there, untagged)
  const untagMoved = (old ?? []).flatMap((t) => (t.tag === undefined || t.tag !== routing.tag ? [t] : t.percent > 0 ? [{ revision: t.revision, percent: t.percent }] : []));
  const next = routing.noTraffic ? mergeUntagged(untagMoved) : keepingTags(untagMoved, [{ revision, percent: 100 }]);
  if (routing.tag !== undefined) next.push({ revision, percent: 0, tag: routing.tag });
  return next;
}

/** `split` (untagged shares) with the tags of `old` kept on their revisions at 0 %: a rollback or a
 *  new split moves traffic, not the addresses people are trying revisions at. */
export function keepingTags(old: TrafficTarget[], split: TrafficTarget[]): TrafficTarget[] {
  return [...split, ...old.filter((t) => t.tag !== undefined).map((t) => ({ revision: t.revision, percent: 0, tag: t.tag! }))];
}

/** Untagged entries of one revision become one (their percents added). */
function mergeUntagged(traffic: TrafficTarget[]): TrafficTarget[] {
  const out: TrafficTarget[] = [];
  for (const t of traffic) {
    const same = t.tag === undefined ? out.find((o) => o.tag === undefined && o.revision === t.revision) : undefined;
    if (same) same.percent += t.percent;
    else out.push({ ...t });
  }
  return out;
}
