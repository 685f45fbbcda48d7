// api/services-schemas: JSON schemas of what /api/v1/services answers — the service view (ServiceView
// in core/views.ts), a deploy's result, a pre-warm's. They serialise the responses (fastify drops a
// field a schema does not list, so a view change shows up here) and document them in /api/openapi.json.
import { DOCUMENT_MAXIMUMS } from '../core/documents.ts';
import { TRAFFIC_TAG_RE } from '../core/names.ts';

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;

export const trafficSchema = {
  type: 'array',
  minItems: 1,
  items: {
    type: 'object',
    required: ['revision', 'percent'],
    additionalProperties: false,
    properties: {
      revision: { type: 'string', description: '@latest names the latest revision' },
      percent: { type: 'integer', minimum: 0, maximum: 100 },
      tag: { type: 'string', pattern: TRAFFIC_TAG_RE.source, maxLength: 61, description: 'the revision also answers at TAG--NAME.<domain> and /s/TAG--NAME/' },
    },
  },
} as const;

const instanceSchema = {
  type: 'object',
  required: ['id', 'phase'],
  properties: {
    id: str,
    phase: { type: 'string', enum: ['pre-created', 'starting', 'ready', 'draining', 'frozen'] },
    address: { type: 'string', description: 'ip:port on the instance network (swarm driver: the node address and the published port)' },
    node: { type: 'string', description: 'the cluster node it runs on (swarm driver: the node hostname); absent on a single machine' },
    startedAt: { type: 'string', description: 'ISO time it was started (taken from the pool, thawed); for one re-adopted after a daemon restart, the restart' },
    cpuPercent: { type: 'number', description: "its recent CPU use, in % of one core (the metering's last reading; absent with metering off or before its first)" },
    memoryBytes: { type: 'integer', description: 'its working set now (the metering\'s last reading of its cgroup)' },
  },
} as const;

const num = { type: 'number' } as const;
const bool = { type: 'boolean' } as const;
const probeConfig = { type: 'object', required: ['periodMs', 'timeoutMs', 'failureThreshold'], properties: { path: str, periodMs: int, timeoutMs: int, failureThreshold: int } } as const;

/** RevisionConfig (core/views.ts): a revision's effective configuration, every default filled in. */
const revisionConfigSchema = {
  type: 'object',
  description: 'what the revision runs with, every default filled in (sizes in bytes, times in ms)',
  required: ['port', 'env', 'memoryBytes', 'cpus', 'pids', 'readOnlyRoot', 'timeoutMs', 'queueLimit', 'drainGraceMs', 'scaling', 'readiness'],
  properties: {
    port: int,
    command: { type: 'array', items: str },
    args: { type: 'array', items: str },
    env: { type: 'object', additionalProperties: str },
    memoryBytes: int,
    cpus: num,
    pids: int,
    diskBytes: int,
    capabilities: { type: 'array', items: str },
    readOnlyRoot: bool,
    ingress: { type: 'string', enum: ['all', 'internal'] },
    protocol: { type: 'string', enum: ['http', 'tcp'] },
    labels: { type: 'object', additionalProperties: str },
    volumes: { type: 'array', items: { type: 'object', required: ['volume', 'path', 'readOnly'], properties: { volume: str, path: str, readOnly: bool } } },
    devices: { type: 'array', description: 'host devices (kind host: path, access) and CDI devices (kind cdi: name) passed in', items: { type: 'object', required: ['kind'], properties: { kind: { type: 'string', enum: ['host', 'cdi'] }, path: str, access: str, name: str } } },
    gpus: int,
    placement: { type: 'object', description: 'Swarm placement (swarm driver; a single machine ignores it): constraints every node must meet, spread preferences highest first', properties: { constraints: { type: 'array', items: str }, spread: { type: 'array', items: str } } },
    cpuAlways: bool,
    billing: { type: 'string', enum: ['request', 'instance'] },
    timeoutMs: int,
    queueLimit: int,
    drainGraceMs: int,
    scaling: {
      type: 'object',
      properties: {
        concurrency: int, target: num, targetUtilization: num, metric: str,
        customMetric: { type: 'object', properties: { path: str, name: str } },
        stableWindowMs: int, panicWindowMs: int, panicThreshold: num, idleWindowMs: int, scaleToZeroGraceMs: int, freezeIdle: bool, keepAlive: str,
      },
    },
    readiness: probeConfig,
    liveness: probeConfig,
    secrets: {
      type: 'object',
      description: 'the secrets the revision uses, each pinned to a version (names and keys only, never values)',
      properties: {
        envFrom: { type: 'array', items: { type: 'object', properties: { secret: str, version: int } } },
        env: { type: 'object', additionalProperties: { type: 'object', properties: { secret: str, version: int, key: str } } },
        mounts: { type: 'array', items: { type: 'object', properties: { secret: str, version: int, path: str } } },
      },
    },
  },
} as const;

export const serviceViewSchema = {
  type: 'object',
  required: ['name', 'project', 'url', 'pathUrl', 'image', 'latestRevision', 'servingRevision', 'traffic', 'scaling', 'keepAlive', 'revisions', 'events', 'createdAt', 'updatedAt'],
  properties: {
    name: str,
    project: { type: 'string', description: 'the project the service belongs to' },
    url: { type: 'string', description: 'http://NAME.<domain>:<gateway port>/' },
    pathUrl: { type: 'string', description: 'http://<gateway host>:<port>/s/NAME/' },
    image: { type: 'string', description: 'image reference as deployed, of the revision serving most traffic' },
    labels: { type: 'object', additionalProperties: str, description: 'the latest revision\'s labels (deploy document `labels`)' },
    latestRevision: str,
    servingRevision: { type: 'string', description: 'the revision taking the largest share of traffic (after a rollback, not the latest)' },
    traffic: { type: 'array', items: { ...trafficSchema.items, properties: { ...trafficSchema.items.properties, url: { type: 'string', description: 'a tagged revision\'s own address' } } } },
    scaling: { type: 'object', required: ['min', 'max', 'concurrency', 'metric'], properties: { min: int, max: int, concurrency: int, metric: str } },
    keepAlive: {
      type: 'object',
      description: 'keep-alive policy in force: fixed (idle + scaleToZeroGrace), or histogram (pre-warm and keep-alive learned from idle times)',
      required: ['kind', 'keepAliveMs', 'reason'],
      properties: { kind: { type: 'string', enum: ['fixed', 'histogram'] }, keepAliveMs: int, preWarmMs: int, reason: str },
    },
    revisions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'image', 'digest', 'createdAt', 'config', 'status', 'instances'],
        properties: {
          name: str,
          image: str,
          digest: { type: 'string', description: 'repo@sha256:… the revision is pinned to' },
          createdAt: str,
          config: revisionConfigSchema,
          status: {
            type: 'object',
            description: 'a crash loop: consecutive failed starts or crashes, the last cause, when the next start is due (starts back off 1 s, 2 s, 4 s … 5 min)',
            required: ['started', 'failures'],
            properties: { started: { type: 'boolean', description: 'an instance has been ready since the daemon started (it may be at zero again)' }, failures: int, lastFailure: str, nextStartAt: str },
          },
          instances: { type: 'array', items: instanceSchema },
        },
      },
    },
    events: {
      type: 'array',
      description: 'recent events, oldest first: deploys, traffic changes, autoscaler decisions (kind scale), readiness, liveness, exits',
      items: { type: 'object', required: ['at', 'revision', 'kind', 'message'], properties: { at: str, revision: { type: ['string', 'null'] }, kind: str, message: str } },
    },
    createdAt: str,
    updatedAt: str,
  },
} as const;

export const deployResultSchema = {
  type: 'object',
  required: ['service', 'revision', 'imageDigest', 'layers'],
  properties: { service: serviceViewSchema, revision: str, imageDigest: str, layers: { type: 'object', required: ['total', 'unpacked'], properties: { total: int, unpacked: int } } },
} as const;

export const prewarmBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    instances: { type: 'integer', minimum: 1, maximum: DOCUMENT_MAXIMUMS.scale, default: 1, description: 'instances per revision taking traffic (at most the service\'s max scale: more is an error)' },
    for: { anyOf: [{ type: 'string' }, { type: 'number' }], description: 'how long to keep them, e.g. 10m (default; at most 24h)' },
  },
} as const;

export const prewarmResultSchema = {
  type: 'object',
  required: ['service', 'until', 'revisions'],
  properties: {
    service: str,
    until: { type: 'string', description: 'ISO time until which the instances are kept' },
    revisions: {
      type: 'array',
      items: { type: 'object', required: ['revision', 'instances', 'ready'], properties: { revision: str, instances: { ...int, description: 'kept warm (the request bounded by maxScale)' }, ready: { ...int, description: 'ready when the call returned' } } },
    },
  },
} as const;

const series = (items: object, description: string) => ({ type: 'array', items, description }) as const;

/** ServiceStatsView (core/views.ts): GET /services/{name}/stats, columns of one entry per step. */
export const serviceStatsSchema = {
  type: 'object',
  required: ['service', 'stepSeconds', 't', 'requests', 'errors', 'p50Ms', 'p99Ms', 'instances', 'coldStarts', 'coldStartStages'],
  properties: {
    service: str,
    stepSeconds: { ...num, description: 'seconds per step' },
    t: series(num, "each step's end, unix seconds (whole with the default 10 s step), oldest first; the last is the latest step that has ended"),
    requests: series(int, 'requests that ended in the step'),
    errors: series(int, "of them, answered 5xx (the app's or the gateway's)"),
    p50Ms: series({ type: ['number', 'null'] }, "the median latency of the step's requests (ms, estimated from the gateway's latency buckets); null without requests"),
    p99Ms: series({ type: ['number', 'null'] }, 'the 99th percentile, likewise'),
    instances: { type: 'object', additionalProperties: series(int, ''), description: "instances at each step's end by phase: ready, starting, frozen, draining, pre-created" },
    coldStarts: series(int, 'cold starts that ended in the step'),
    coldStartStages: {
      type: 'object',
      required: ['boundsMs', 'counts'],
      description: 'the cold-start breakdown over the whole window',
      properties: {
        boundsMs: series(num, 'bucket upper bounds in ms; the last bucket is everything above the last bound'),
        counts: { type: 'object', additionalProperties: series(int, ''), description: 'queued, created, started, ready, firstByte → count per bucket (boundsMs.length + 1)' },
      },
    },
  },
} as const;

/** ServicesStatsView (core/views.ts): GET /stats/services, the Services list's sparklines. */
export const servicesStatsSchema = {
  type: 'object',
  required: ['stepSeconds', 't', 'services'],
  properties: {
    stepSeconds: { ...num, description: 'seconds per coarse step (a whole number of the recorded 10 s steps; 60 for 1h)' },
    t: series(num, "each coarse step's end, unix seconds, oldest first; shared by every service"),
    services: {
      type: 'array',
      description: 'every service the token sees (as GET /services lists them)',
      items: {
        type: 'object',
        required: ['name', 'project', 'requests', 'p50Ms', 'p99Ms', 'coldStarts'],
        properties: {
          name: str,
          project: str,
          requests: series(int, 'requests that ended in the step (divide by stepSeconds for a rate)'),
          p50Ms: series({ type: ['number', 'null'] }, "the median latency of the step's requests (ms, from their latency buckets merged over the step); null without requests"),
          p99Ms: series({ type: ['number', 'null'] }, 'the 99th percentile, likewise'),
          coldStarts: { ...int, description: 'cold starts that ended in the window' },
        },
      },
    },
  },
} as const;
