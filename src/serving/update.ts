// serving/update: the document an update deploys — the current one with a patch applied — like
// `gcloud run deploy` / `kn service update`: what the patch does not state carries over from the
// service's latest revision; what it sets to null goes back to its default (an env var: removed).
// The current document is what the user stated then (kept with each revision), so a setting that
// followed a default (scaling.target following scaling.concurrency) keeps following it. The image
// carries over pinned to the digest the latest revision runs, so an update never picks up a tag that
// moved meanwhile. Scale bounds come from the service, where `skiff scale` changes them.
import { deviceRequestText } from '../core/devices.ts';
import { SkiffError } from '../core/errors.ts';
import type { DeployDocument, DeployPatch } from '../core/documents.ts';
import { mergePatch } from '../core/merge-patch.ts';
import { pinnedReference } from '../core/names.ts';
import type { ProbeSpec, RevisionRecord, ScaleBounds, ServiceSpec } from '../core/service.ts';


const ms = (n: number) => `${n}ms`;

function probeDocument(p: ProbeSpec): NonNullable<DeployDocument['readiness']> {
  return { ...(p.path !== undefined ? { path: p.path } : {}), period: ms(p.periodMs), timeout: ms(p.timeoutMs), failureThreshold: p.failureThreshold };
}

/** A document that normalises to `spec` (for revisions deployed before documents were kept): every
 *  setting is stated, so none follows a default any more. */
export function documentFromSpec(spec: ServiceSpec): DeployDocument {
  const s = spec.scaling;
  return {
    name: spec.name,
    image: spec.image,
    port: spec.port,
    ...(spec.command ? { command: spec.command } : {}),
    ...(spec.args ? { args: spec.args } : {}),
    env: spec.env,
    resources: { memory: spec.memoryBytes, cpu: spec.cpus, pids: spec.pids, ...(spec.diskBytes !== undefined ? { disk: spec.diskBytes } : {}) },
    ...(spec.capabilities?.length ? { capabilities: spec.capabilities } : {}),
    readOnlyRoot: spec.readOnlyRoot,
    ...(spec.ingress && spec.ingress !== 'all' ? { ingress: spec.ingress } : {}),
    ...(spec.protocol && spec.protocol !== 'http' ? { protocol: spec.protocol } : {}),
    ...(spec.labels ? { labels: { ...spec.labels } } : {}),
    ...(spec.volumes?.length ? { volumes: spec.volumes.map((v) => ({ ...v })) } : {}),
    ...(spec.devices?.length ? { devices: spec.devices.map(deviceRequestText) } : {}),
    ...(spec.gpus ? { gpus: spec.gpus } : {}),
    ...(spec.placement ? { placement: { ...(spec.placement.constraints ? { constraints: [...spec.placement.constraints] } : {}), ...(spec.placement.spread ? { spread: [...spec.placement.spread] } : {}) } } : {}),
    ...(spec.cpuAlways ? { cpuAlways: true } : {}),
    ...(spec.billing === 'instance' ? { billing: 'instance' as const } : {}),
    timeout: ms(spec.timeoutMs),
    queueLimit: spec.queueLimit,
    drainGrace: ms(spec.drainGraceMs),
    scaling: {
      concurrency: s.concurrency,
      target: s.target,
      utilization: s.targetUtilization * 100,
      metric: s.metric,
      ...(s.customMetric ? { customMetric: s.customMetric } : {}),
      window: ms(s.stableWindowMs),
      panicWindowPercent: Math.min(100, Math.max(1, Math.round((s.panicWindowMs * 100) / s.stableWindowMs))),
      panicThreshold: s.panicThreshold,
      idle: ms(s.idleWindowMs),
      scaleToZeroGrace: ms(s.scaleToZeroGraceMs),
      freezeIdle: s.freezeIdle,
      keepAlive: s.keepAlive ?? 'adaptive',
    },
    readiness: probeDocument(spec.readiness),
    ...(spec.liveness ? { liveness: probeDocument(spec.liveness) } : {}),
  };
}

/** The document the latest revision was deployed from, its image pinned, the service's bounds in it. */
export function currentDocument(latest: RevisionRecord, scale: ScaleBounds): DeployDocument {
  const doc = latest.document ?? documentFromSpec(latest.spec);
  return { ...doc, image: pinnedReference(latest.image), scaling: { ...doc.scaling, min: scale.min, max: scale.max } };
}

/** The current document with `patch` applied; the name stays the service's. */
export function updatedDocument(latest: RevisionRecord, scale: ScaleBounds, patch: DeployPatch): DeployDocument {
  if ('name' in (patch as object)) throw new SkiffError('BAD_REQUEST', 'name: an update cannot rename a service');
  const merged = mergePatch(currentDocument(latest, scale), patch);
  return { ...merged, name: latest.service };
}
