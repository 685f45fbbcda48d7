// api/service-spec: the deploy document users write (skiff.yaml, `skiff deploy` flags, POST body),
// its JSON schema (validated by fastify/ajv and published in the OpenAPI document), and its
// normalisation into a core ServiceSpec with every default filled in.
//
//   name: hello                      ← Knative metadata.name
//   image: team/app:v1               ← containers[0].image
//   port: 8080                       ← containers[0].ports[0].containerPort
//   command / args / env             ← containers[0].command / args / env
//   resources: { memory: 256Mi, cpu: 0.5 }            ← containers[0].resources.limits
//   timeout: 300s                    ← spec.template.spec.timeoutSeconds
//   scaling: { min, max, concurrency, target, utilization, metric, window, ..., keepAlive }
//                                    ← containerConcurrency + autoscaling.knative.dev/* annotations
//   readiness / liveness: { path, period, timeout, failureThreshold }  ← readinessProbe / livenessProbe
import { SkiffError } from '../core/errors.ts';
import type { ProbeSpec, ServiceSpec, ScalingMetric } from '../core/service.ts';
import { parseCpu, parseDuration, parseMemory } from '../core/quantity.ts';

export const SERVICE_NAME_RE = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

const quantity = { anyOf: [{ type: 'string' }, { type: 'number' }] } as const;
const probe = {
  type: 'object',
  additionalProperties: false,
  properties: { path: { type: 'string', pattern: '^/' }, period: quantity, timeout: quantity, failureThreshold: { type: 'integer', minimum: 1 } },
} as const;

/** Limits of an instance (or a `skiff run` container) that asks for none. */
export const DEFAULT_LIMITS = { memoryBytes: 256 * 1024 ** 2, cpus: 1, pids: 512 } as const;

export const deployDocumentSchema = {
  type: 'object',
  required: ['name', 'image'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: SERVICE_NAME_RE.source },
    image: { type: 'string', minLength: 1, maxLength: 512 },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    command: { type: 'array', items: { type: 'string' } },
    args: { type: 'array', items: { type: 'string' } },
    env: { type: 'object', additionalProperties: { type: 'string' }, propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' } },
    resources: { type: 'object', additionalProperties: false, properties: { memory: quantity, cpu: quantity, pids: { type: 'integer', minimum: 1 } } },
    readOnlyRoot: { type: 'boolean' },
    timeout: quantity,
    queueLimit: { type: 'integer', minimum: 0 },
    drainGrace: quantity,
    scaling: {
      type: 'object',
      additionalProperties: false,
      properties: {
        min: { type: 'integer', minimum: 0 },
        max: { type: 'integer', minimum: 1 },
        concurrency: { type: 'integer', minimum: 0 },
        target: { type: 'number', exclusiveMinimum: 0 },
        utilization: { type: 'number', exclusiveMinimum: 0, maximum: 100 },
        metric: { type: 'string', enum: ['concurrency', 'rps', 'cpu', 'memory', 'custom'] },
        customMetric: { type: 'object', required: ['path', 'name'], properties: { path: { type: 'string', pattern: '^/' }, name: { type: 'string' } } },
        window: quantity,
        panicWindowPercent: { type: 'number', minimum: 1, maximum: 100 },
        panicThreshold: { type: 'number', minimum: 1.1 },
        idle: quantity,
        scaleToZeroGrace: quantity,
        freezeIdle: { type: 'boolean' },
        keepAlive: { type: 'string', enum: ['adaptive', 'fixed'], description: 'adaptive (default): keep-alive and pre-warm learned from the service\'s idle times; fixed: idle + scaleToZeroGrace' },
      },
    },
    readiness: probe,
    liveness: probe,
  },
} as const;

export interface DeployDocument {
  name: string;
  image: string;
  port?: number;
  command?: string[];
  args?: string[];
  env?: Record<string, string>;
  resources?: { memory?: string | number; cpu?: string | number; pids?: number };
  readOnlyRoot?: boolean;
  timeout?: string | number;
  queueLimit?: number;
  drainGrace?: string | number;
  scaling?: {
    min?: number;
    max?: number;
    concurrency?: number;
    target?: number;
    utilization?: number;
    metric?: ScalingMetric;
    customMetric?: { path: string; name: string };
    window?: string | number;
    panicWindowPercent?: number;
    panicThreshold?: number;
    idle?: string | number;
    scaleToZeroGrace?: string | number;
    freezeIdle?: boolean;
    keepAlive?: 'adaptive' | 'fixed';
  };
  readiness?: { path?: string; period?: string | number; timeout?: string | number; failureThreshold?: number };
  liveness?: { path?: string; period?: string | number; timeout?: string | number; failureThreshold?: number };
}

// Knative's defaults where Knative has one (stable window 60 s, panic 10 % of it at 200 %, target 100
// or containerConcurrency, utilisation 70 %, scale-to-zero grace 30 s, timeout 300 s).
function normaliseProbe(p: DeployDocument['readiness'], field: string, fallback: ProbeSpec): ProbeSpec {
  return {
    ...(p?.path !== undefined ? { path: p.path } : fallback.path !== undefined ? { path: fallback.path } : {}),
    periodMs: p?.period !== undefined ? parseDuration(p.period, `${field}.period`) : fallback.periodMs,
    timeoutMs: p?.timeout !== undefined ? parseDuration(p.timeout, `${field}.timeout`) : fallback.timeoutMs,
    failureThreshold: p?.failureThreshold ?? fallback.failureThreshold,
  };
}

export function normaliseDeployDocument(doc: DeployDocument): ServiceSpec {
  if (!SERVICE_NAME_RE.test(doc.name)) throw new SkiffError('BAD_REQUEST', `name: must be a DNS label (lowercase letters, digits, '-'), got ${JSON.stringify(doc.name)}`);
  const s = doc.scaling ?? {};
  const concurrency = s.concurrency ?? 0;
  const min = s.min ?? 0;
  const max = s.max ?? 10;
  if (min > max) throw new SkiffError('BAD_REQUEST', `scaling: min (${min}) is greater than max (${max})`);
  const metric = s.metric ?? 'concurrency';
  if (metric === 'custom' && !s.customMetric) throw new SkiffError('BAD_REQUEST', 'scaling.customMetric { path, name } is required when metric is custom');
  const stableWindowMs = s.window !== undefined ? parseDuration(s.window, 'scaling.window') : 60_000;
  const timeoutMs = doc.timeout !== undefined ? parseDuration(doc.timeout, 'timeout') : 300_000;
  return {
    name: doc.name,
    image: doc.image,
    port: doc.port ?? 8080,
    ...(doc.command ? { command: doc.command } : {}),
    ...(doc.args ? { args: doc.args } : {}),
    env: doc.env ?? {},
    memoryBytes: doc.resources?.memory !== undefined ? parseMemory(doc.resources.memory, 'resources.memory') : DEFAULT_LIMITS.memoryBytes,
    cpus: doc.resources?.cpu !== undefined ? parseCpu(doc.resources.cpu, 'resources.cpu') : DEFAULT_LIMITS.cpus,
    pids: doc.resources?.pids ?? DEFAULT_LIMITS.pids,
    readOnlyRoot: doc.readOnlyRoot ?? false,
    timeoutMs,
    queueLimit: doc.queueLimit ?? 1000,
    drainGraceMs: doc.drainGrace !== undefined ? parseDuration(doc.drainGrace, 'drainGrace') : 10_000,
    scaling: {
      minScale: min,
      maxScale: max,
      containerConcurrency: concurrency,
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
}
