// core/documents: what users write — the deploy document (skiff.yaml, `skiff deploy` flags, the body
// of POST /api/v1/services) and a one-off run's request (POST /api/v1/runs) — with their JSON schemas.
// The API validates bodies against the schemas (and publishes them in its OpenAPI document), the CLI
// builds the documents, serving/ turns them into records with every default filled in.
//
//   name: hello                      ← Knative metadata.name
//   image: team/app:v1               ← containers[0].image
//   port: 8080                       ← containers[0].ports[0].containerPort
//   command / args / env             ← containers[0].command / args / env
//   resources: { memory: 256Mi, cpu: 0.5, disk: 1Gi }  ← containers[0].resources.limits (disk: ephemeral-storage)
//   capabilities: [NET_RAW]          ← containers[0].securityContext.capabilities.add
//   timeout: 300s                    ← spec.template.spec.timeoutSeconds
//   scaling: { min, max, concurrency, target, utilization, metric, window, ..., keepAlive }
//                                    ← containerConcurrency + autoscaling.knative.dev/* annotations
//   readiness / liveness: { path, period, timeout, failureThreshold }  ← readinessProbe / livenessProbe
//   secrets: { envFrom, env, mounts } ← envFrom.secretRef / env.valueFrom.secretKeyRef / secret volumes
//   placement: { constraints, spread } ← (Swarm's TaskTemplate.Placement; Knative has none)
import { SERVICE_NAME_RE } from './names.ts';
import { OPTIONAL_CAPABILITIES, type OptionalCapability } from './capabilities.ts';
import { documentSecretsSchema, type DocumentSecrets } from './secrets.ts';
import { volumeMountsSchema } from './volumes.ts';
import { DEVICE_MAXIMUMS } from './devices.ts';
import { PLACEMENT_MAXIMUMS } from './placement.ts';

// a type list, not anyOf: a patch adds 'null' to it, and with fastify's type coercion an anyOf's string
// branch would turn a null (reset) into ""
/** What a revision's autoscaler follows (deploy documents name it; core/service.ts re-exports it). */
export type ScalingMetric = 'concurrency' | 'rps' | 'cpu' | 'memory' | 'custom';

const quantity = { type: ['string', 'number'] } as const;

/** The largest values a document may name (docs/serving.md): beyond them a number is a typo, and an
 *  unbounded one (max scale 99999999999) would be taken at its word by the scheduler. */
export const DOCUMENT_MAXIMUMS = { scale: 1000, concurrency: 10_000, queueLimit: 100_000, pids: 1_048_576, failureThreshold: 100, envVars: 1000 } as const;
const probe = {
  type: 'object',
  additionalProperties: false,
  properties: { path: { type: 'string', pattern: '^/' }, period: quantity, timeout: quantity, failureThreshold: { type: 'integer', minimum: 1, maximum: DOCUMENT_MAXIMUMS.failureThreshold } },
} as const;

/** Labels: Kubernetes' rules (an optional DNS-subdomain prefix and '/', a name of at most 63 characters;
 *  values at most 63), so a service's labels are valid Knative metadata.labels and back. */
export const LABEL_KEY_RE = /^(?:[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
export const LABEL_VALUE_RE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const labelsSchema = {
  type: 'object',
  maxProperties: 64,
  additionalProperties: { type: 'string', maxLength: 63, pattern: LABEL_VALUE_RE.source },
  propertyNames: { maxLength: 253, pattern: LABEL_KEY_RE.source },
  description: 'key/value metadata (Knative metadata.labels); `skiff compose` records com.docker.compose.project and .service here',
} as const;

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
    env: { type: 'object', maxProperties: DOCUMENT_MAXIMUMS.envVars, additionalProperties: { type: 'string' }, propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' } },
    resources: { type: 'object', additionalProperties: false, properties: { memory: quantity, cpu: quantity, pids: { type: 'integer', minimum: 1, maximum: DOCUMENT_MAXIMUMS.pids }, disk: { ...quantity, description: 'writable layer size, memory-backed (default: the runtime.writableLayerBytes setting)' } } },
    capabilities: { type: 'array', uniqueItems: true, items: { type: 'string', enum: [...OPTIONAL_CAPABILITIES] }, description: 'capabilities added to the default set (NET_RAW: raw sockets, e.g. ping)' },
    readOnlyRoot: { type: 'boolean' },
    ingress: { type: 'string', enum: ['all', 'internal'], description: 'all (default): public through the gateway; internal: only other services of the same tenant reach it, by name (Cloud Run --ingress, Knative cluster-local)' },
    protocol: { type: 'string', enum: ['http', 'tcp'], description: 'http (default); tcp: a plain TCP service (database, cache, broker) reached by NAME:PORT from the other services, never public' },
    labels: labelsSchema,
    volumes: volumeMountsSchema,
    devices: { type: 'array', maxItems: DEVICE_MAXIMUMS.devices, items: { type: 'string', minLength: 1, maxLength: 256 }, description: 'devices passed into every instance: a host device /dev/PATH[:rwm] (in the node\'s runtime.deviceAllowList) or a CDI device vendor/class=name (or =all) of a spec the node\'s admin installed (docs/runtime.md)' },
    gpus: { type: 'integer', minimum: 0, maximum: DEVICE_MAXIMUMS.gpus, description: 'GPUs per instance: the first N CDI devices of kind nvidia.com/gpu on the node, in name order' },
    placement: {
      type: 'object',
      additionalProperties: false,
      description: 'where in a cluster (swarm driver) the instances may run, in Docker Swarm\'s syntax (core/placement.ts); a single machine (runc driver) ignores it',
      properties: {
        constraints: { type: 'array', maxItems: PLACEMENT_MAXIMUMS.constraints, items: { type: 'string', minLength: 1, maxLength: PLACEMENT_MAXIMUMS.length }, description: 'every one must hold on the node (AND): DESCRIPTOR==VALUE or DESCRIPTOR!=VALUE, DESCRIPTOR one of node.id, node.hostname, node.role, node.platform.os, node.platform.arch, node.labels.KEY, engine.labels.KEY (e.g. node.labels.zone==edge)' },
        spread: { type: 'array', maxItems: PLACEMENT_MAXIMUMS.spread, items: { type: 'string', minLength: 1, maxLength: PLACEMENT_MAXIMUMS.length }, description: 'spread preferences, highest first: instances spread evenly over the values of node.labels.KEY or engine.labels.KEY' },
      },
    },
    cpuAlways: { type: 'boolean', description: 'CPU stays allocated while no request is in flight (background work); default false: an idle instance, min instances included, is frozen until its next request (Cloud Run --no-cpu-throttling)' },
    billing: { type: 'string', enum: ['request', 'instance'], description: 'how instance time is billed (docs/metering.md): request (default): only while a request is in flight, each busy spell rounded up to 100 ms; instance: the whole instance lifetime, idle time at the price sheet\'s idle discount' },
    timeout: quantity,
    queueLimit: { type: 'integer', minimum: 0, maximum: DOCUMENT_MAXIMUMS.queueLimit },
    drainGrace: quantity,
    scaling: {
      type: 'object',
      additionalProperties: false,
      properties: {
        min: { type: 'integer', minimum: 0, maximum: DOCUMENT_MAXIMUMS.scale },
        max: { type: 'integer', minimum: 1, maximum: DOCUMENT_MAXIMUMS.scale },
        concurrency: { type: 'integer', minimum: 0, maximum: DOCUMENT_MAXIMUMS.concurrency },
        target: { type: 'number', exclusiveMinimum: 0 },
        utilization: { type: 'number', exclusiveMinimum: 0, maximum: 100 },
        metric: { type: 'string', enum: ['concurrency', 'rps', 'cpu', 'memory', 'custom'] },
        customMetric: { type: 'object', required: ['path', 'name'], additionalProperties: false, properties: { path: { type: 'string', pattern: '^/' }, name: { type: 'string' } } },
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
    secrets: documentSecretsSchema,
  },
} as const;

export interface DeployDocument {
  name: string;
  image: string;
  port?: number;
  command?: string[];
  args?: string[];
  env?: Record<string, string>;
  resources?: { memory?: string | number; cpu?: string | number; pids?: number; disk?: string | number };
  capabilities?: OptionalCapability[];
  readOnlyRoot?: boolean;
  /** who reaches the service: everyone through the gateway (default) or only the tenant's other services */
  ingress?: 'all' | 'internal';
  /** what it speaks: HTTP (default) or plain TCP (then internal only) */
  protocol?: 'http' | 'tcp';
  /** key/value metadata (Knative metadata.labels): e.g. com.docker.compose.project, set by `skiff compose up` */
  labels?: Record<string, string>;
  /** persistent volumes: `--volume data:/var/lib/app[:ro]` */
  volumes?: { volume: string; path: string; readOnly?: boolean }[];
  /** `--device /dev/PATH[:rwm]` or `--device vendor/class=name` (core/devices.ts) */
  devices?: string[];
  /** `--gpu N`: the first N nvidia.com/gpu CDI devices */
  gpus?: number;
  /** `--placement EXPR`, `--spread DESCRIPTOR`: where in a Swarm cluster instances run (core/placement.ts) */
  placement?: { constraints?: string[]; spread?: string[] };
  /** `--cpu-always` (`--no-cpu-throttling`): never frozen between requests */
  cpuAlways?: boolean;
  /** `--billing request|instance` (docs/metering.md); absent: request */
  billing?: 'request' | 'instance';
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
  /** secrets as env vars and files, pinned to a version per revision (core/secrets.ts) */
  secrets?: DocumentSecrets;
}

/** A deploy document's fields, each optional; null resets a field to its default. */
export type DeployPatch = { [K in keyof Omit<DeployDocument, 'name'>]?: PatchOf<DeployDocument[K]> | null };
type PatchOf<T> = T extends unknown[] ? T : T extends object ? { [K in keyof T]?: PatchOf<T[K]> | null } : T;

type Schema = { type?: string | string[]; properties?: Record<string, Schema>; additionalProperties?: boolean | Schema; required?: readonly string[]; [k: string]: unknown };

/** The patch's JSON schema, made from the deploy document's: every field optional and nullable,
 *  nested objects likewise (JSON merge patch, RFC 7396), unknown fields still refused. */
function patchSchemaOf(schema: Schema): Schema {
  if (schema.type !== 'object') return schema;
  const { required: _required, properties, additionalProperties, ...rest } = schema;
  // null joins the type list (and an enum), never an anyOf: with fastify's type coercion, an anyOf's
  // string branch would turn the null into "" (an env var set empty instead of removed)
  const nullable = (s: Schema): Schema => {
    const p = patchSchemaOf(s);
    const types = p.type === undefined ? [] : Array.isArray(p.type) ? (p.type as string[]) : [p.type];
    if (types.length === 0) throw new Error('a patchable field needs a type');
    return { ...p, type: [...types, 'null'], ...(Array.isArray(p.enum) ? { enum: [...(p.enum as unknown[]), null] } : {}) };
  };
  return {
    ...rest,
    ...(properties ? { properties: Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, nullable(v)])) } : {}),
    additionalProperties: typeof additionalProperties === 'object' ? nullable(additionalProperties) : (additionalProperties ?? true),
  };
}

const { name: _name, ...patchable } = (deployDocumentSchema as unknown as Schema).properties!;
/** The body of PATCH /api/v1/services/{name} (`skiff update`, `skiff deploy NAME` of an existing service). */
export const deployPatchSchema = patchSchemaOf({ ...(deployDocumentSchema as unknown as Schema), properties: patchable });

export const runRequestSchema = {
  type: 'object',
  required: ['image'],
  additionalProperties: false,
  properties: {
    image: { type: 'string', minLength: 1, maxLength: 512, description: 'repo[:tag] or repo@sha256:… in Skiff’s registry' },
    command: { type: 'array', items: { type: 'string' }, description: 'replaces the image CMD (the ENTRYPOINT stays), as docker run IMAGE CMD…' },
    env: { type: 'object', additionalProperties: { type: 'string' }, propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' } },
    memory: { ...quantity, description: 'memory limit: bytes or a quantity like 256Mi (default 256Mi)' },
    cpus: { ...quantity, description: 'CPU quota in cores: 0.5 or 500m (default 1)' },
    pids: { type: 'integer', minimum: 1, description: 'maximum processes + threads (default 512)' },
    readOnly: { type: 'boolean', description: 'mount the image root read-only (/tmp stays writable)' },
    disk: { ...quantity, description: 'writable layer size, memory-backed (default: the runtime.writableLayerBytes setting)' },
    capAdd: { type: 'array', uniqueItems: true, items: { type: 'string', enum: [...OPTIONAL_CAPABILITIES] }, description: 'capabilities added to the default set, as docker run --cap-add' },
  },
} as const;

export interface RunRequest {
  image: string;
  command?: string[];
  env?: Record<string, string>;
  memory?: string | number;
  cpus?: string | number;
  pids?: number;
  readOnly?: boolean;
  disk?: string | number;
  capAdd?: OptionalCapability[];
}
