// serving/view: what describe and list show of a service (core/views.ts ServiceView), built from its
// records and the scheduler's live state. Pure: the caller fetches; this only shapes.
import type { InstanceView, RevisionConfig, RevisionStatus, ServiceView } from '../core/views.ts';
import type { RevisionRecord, ServiceEvent, ServiceRecord, ServiceSpec } from '../core/service.ts';
import { pinnedReference, serviceHost, taggedName } from '../core/names.ts';
import type { KeepAliveView } from './ports.ts';

export interface GatewayAddress {
  /** services answer at NAME.<domain> */
  domain: string;
  /** the host clients use for the /s/NAME/ form */
  publicHost: string;
  port: number;
}

/** How many events a view shows. */
export const VIEW_EVENTS = 20;

export interface ViewInputs {
  service: ServiceRecord;
  /** newest first */
  revisions: RevisionRecord[];
  /** oldest first */
  events: ServiceEvent[];
  instances(revision: string): InstanceView[];
  status(revision: string): { started: boolean; failures: number; lastFailure?: string; nextStartAt?: number };
  keepAlive: KeepAliveView | undefined;
  gateway: GatewayAddress;
}

/** The revision with the largest share of traffic; among equals the newest (revisions are newest first). */
export function servingRevision(service: ServiceRecord, revisions: RevisionRecord[]): RevisionRecord | undefined {
  const share = new Map<string, number>();
  for (const t of service.traffic) share.set(t.revision, (share.get(t.revision) ?? 0) + t.percent);
  let best: RevisionRecord | undefined;
  for (const r of revisions) if ((share.get(r.name) ?? 0) > 0 && (!best || share.get(r.name)! > share.get(best.name)!)) best = r;
  return best ?? revisions[0];
}

export function serviceView(i: ViewInputs): ServiceView {
  const s = i.service;
  const scaling = s.spec.scaling;
  const iso = (ms: number) => new Date(ms).toISOString();
  const serving = servingRevision(s, i.revisions);
  return {
    name: s.name,
    project: s.tenant,
    url: `http://${serviceHost(s.name, i.gateway.domain)}:${i.gateway.port}/`,
    pathUrl: `http://${i.gateway.publicHost}:${i.gateway.port}/s/${s.name}/`,
    image: serving?.spec.image ?? s.spec.image,
    ...(s.spec.labels ? { labels: s.spec.labels } : {}),
    latestRevision: s.latestRevision,
    servingRevision: serving?.name ?? s.latestRevision,
    traffic: s.traffic.map((t) => (t.tag !== undefined ? { ...t, url: `http://${serviceHost(taggedName(t.tag, s.name), i.gateway.domain)}:${i.gateway.port}/` } : t)),
    scaling: { min: s.scale.min, max: s.scale.max, concurrency: scaling.concurrency, metric: scaling.metric },
    keepAlive: i.keepAlive ?? {
      kind: 'fixed',
      keepAliveMs: scaling.idleWindowMs + scaling.scaleToZeroGraceMs,
      reason: scaling.keepAlive === 'fixed' ? 'scaling.keepAlive is fixed' : 'no request since the daemon started',
    },
    revisions: i.revisions.map((r) => ({
      name: r.name,
      image: r.spec.image,
      digest: pinnedReference(r.image),
      createdAt: iso(r.createdAt),
      config: configOf(r.spec),
      status: statusOf(i.status(r.name)),
      instances: i.instances(r.name),
    })),
    events: i.events.map((e) => ({ at: iso(e.at), revision: e.revision, kind: e.kind, message: e.message })),
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
  };
}

function configOf(spec: ServiceSpec): RevisionConfig {
  const { name: _name, image: _image, ...config } = spec;
  return config;
}

function statusOf(s: { started: boolean; failures: number; lastFailure?: string; nextStartAt?: number }): RevisionStatus {
  return { started: s.started, failures: s.failures, ...(s.lastFailure ? { lastFailure: s.lastFailure } : {}), ...(s.nextStartAt !== undefined ? { nextStartAt: new Date(s.nextStartAt).toISOString() } : {}) };
}
