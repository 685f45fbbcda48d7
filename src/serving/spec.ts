// serving/spec: a deploy document (core/documents.ts) normalised into the records a deploy stores — the
// ServiceSpec a revision freezes, with every default filled in, and the service's ScaleBounds (the
// rules of a traffic split: traffic.ts). Knative's defaults where Knative has one (stable window 60 s,
// panic 10 % of it at 200 %, target 100 or the concurrency, utilisation 70 %, scale-to-zero grace
// 30 s, timeout 300 s).
import { SkiffError } from '../core/errors.ts';
import type { DeployDocument } from '../core/documents.ts';
import { SERVICE_NAME_RE } from '../core/names.ts';
import type { ProbeSpec, ScaleBounds, ServiceSpec } from '../core/service.ts';
import { parseCpu, parseDuration, parseMemory } from '../core/quantity.ts';
import { assertMountTarget, assertVolumeName } from '../core/volumes.ts';
import { parseDeviceRequests } from '../core/devices.ts';
import { normalisePlacement } from '../core/placement.ts';

/** Limits of an instance (or a `skiff run` container) that asks for none. */
export const DEFAULT_LIMITS = { memoryBytes: 256 * 1024 ** 2, cpus: 1, pids: 512 } as const;

/** A service that names no bounds scales between these. */
export const DEFAULT_SCALE: ScaleBounds = { min: 0, max: 10 };

function normaliseProbe(p: DeployDocument['readiness'], field: string, fallback: ProbeSpec): ProbeSpec {
  return {
    ...(p?.path !== undefined ? { path: p.path } : fallback.path !== undefined ? { path: fallback.path } : {}),
    periodMs: p?.period !== undefined ? parseDuration(p.period, `${field}.period`) : fallback.periodMs,
    timeoutMs: p?.timeout !== undefined ? parseDuration(p.timeout, `${field}.timeout`) : fallback.timeoutMs,
    failureThreshold: p?.failureThreshold ?? fallback.failureThreshold,
  };
}

export function assertScale(scale: ScaleBounds, field = 'scaling'): ScaleBounds {
  if (scale.min > scale.max) throw new SkiffError('BAD_REQUEST', `${field}: min (${scale.min}) is greater than max (${scale.max})`);
  return scale;
}

/** A TCP service is never public: the gateway speaks HTTP, so `ingress: all` with it is a mistake
 *  named, not a silent internal service. */
function connectivity(doc: DeployDocument): { ingress: 'all' | 'internal'; protocol: 'http' | 'tcp' } {
  const protocol = doc.protocol ?? 'http';
  if (protocol === 'tcp' && doc.ingress === 'all') throw new SkiffError('BAD_REQUEST', 'ingress: a TCP service (protocol: tcp) is reached only by the tenant\'s other services; leave ingress out or set it to internal');
  return { ingress: protocol === 'tcp' ? 'internal' : (doc.ingress ?? 'all'), protocol };
}

export function normaliseDeployDocument(doc: DeployDocument): { spec: ServiceSpec; scale: ScaleBounds } {
  if (!SERVICE_NAME_RE.test(doc.name)) throw new SkiffError('BAD_REQUEST', `name: must be a DNS label (lowercase letters, digits, '-'), got ${JSON.stringify(doc.name)}`);
  const s = doc.scaling ?? {};
  const concurrency = s.concurrency ?? 0;
  const scale = assertScale({ min: s.min ?? DEFAULT_SCALE.min, max: s.max ?? DEFAULT_SCALE.max });
  const metric = s.metric ?? 'concurrency';
  if (metric === 'custom' && !s.customMetric) throw new SkiffError('BAD_REQUEST', 'scaling.customMetric { path, name } is required when metric is custom');
  const stableWindowMs = s.window !== undefined ? parseDuration(s.window, 'scaling.window') : 60_000;
  const timeoutMs = doc.timeout !== undefined ? parseDuration(doc.timeout, 'timeout') : 300_000;
  const placement = normalisePlacement(doc.placement);
  const spec: ServiceSpec = {
    name: doc.name,
    image: doc.image,
    port: doc.port ?? 8080,
    ...(doc.command ? { command: doc.command } : {}),
    ...(doc.args ? { args: doc.args } : {}),
    env: doc.env ?? {},
    memoryBytes: doc.resources?.memory !== undefined ? parseMemory(doc.resources.memory, 'resources.memory') : DEFAULT_LIMITS.memoryBytes,
    cpus: doc.resources?.cpu !== undefined ? parseCpu(doc.resources.cpu, 'resources.cpu') : DEFAULT_LIMITS.cpus,
    pids: doc.resources?.pids ?? DEFAULT_LIMITS.pids,
    ...(doc.resources?.disk !== undefined ? { diskBytes: parseMemory(doc.resources.disk, 'resources.disk') } : {}),
    ...(doc.capabilities?.length ? { capabilities: doc.capabilities } : {}),
    readOnlyRoot: doc.readOnlyRoot ?? false,
    ...connectivity(doc),
    ...(doc.labels && Object.keys(doc.labels).length ? { labels: { ...doc.labels } } : {}),
    ...(doc.volumes?.length ? { volumes: doc.volumes.map((v, i) => ({ volume: assertVolumeName(v.volume, `volumes[${i}].volume`), path: assertMountTarget(v.path, `volumes[${i}].path`), readOnly: v.readOnly ?? false })) } : {}),
    ...(doc.devices?.length ? { devices: parseDeviceRequests(doc.devices, 'devices') } : {}),
    ...(doc.gpus ? { gpus: doc.gpus } : {}),
    ...(placement ? { placement } : {}),
    ...(doc.cpuAlways ? { cpuAlways: true } : {}),
    ...(doc.billing === 'instance' ? { billing: 'instance' as const } : {}),
    timeoutMs,
    queueLimit: doc.queueLimit ?? 1000,
    drainGraceMs: doc.drainGrace !== undefined ? parseDuration(doc.drainGrace, 'drainGrace') : 10_000,
    scaling: {
      concurrency,
      target: s.target ?? (metric === 'concurrency' ? (concurrency > 0 ? concurrency : 100) : metric === 'rps' ? 200 : metric === 'custom' ? 10 : 70),
      targetUtilization: (s.utilization ?? 70) / 100,
      metric,
      ...(s.customMetric ? { customMetric: s.customMetric } : {}),
      stableWindowMs,
      panicWindowMs: Math.max(1000, Math.round((stableWindowMs * (s.panicWindowPercent ?? 10)) / 100)),
      panicThreshold: s.panicThreshold ?? 2,
      idleWindowMs: s.idle !== undefined ? parseDuration(s.idle, 'scaling.idle') : stableWindowMs,
      scaleToZeroGraceMs: s.scaleToZeroGrace !== undefined ? parseDuration(s.scaleToZeroGrace, 'scaling.scaleToZeroGrace') : 30_000,
      freezeIdle: s.freezeIdle ?? false,
      keepAlive: s.keepAlive ?? 'adaptive',
    },
    readiness: normaliseProbe(doc.readiness, 'readiness', { periodMs: 1000, timeoutMs: 1000, failureThreshold: 3 }),
    ...(doc.liveness ? { liveness: normaliseProbe(doc.liveness, 'liveness', { periodMs: 10_000, timeoutMs: 1000, failureThreshold: 3 }) } : {}),
  };
  return { spec, scale };
}
