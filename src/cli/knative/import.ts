// knative/import: a Knative `serving.knative.dev/v1` Service, as `kubectl apply` takes it, turned into
// Skiff's deploy document and traffic list (`skiff deploy -f service.yaml`). Pure: no I/O.
//
// Every field is either honoured (mapped, docs/serving.md "Knative Services as they are"), reported by
// its JSON path in `warnings` (`spec.template.spec.containers[0].lifecycle: not supported, ignored`),
// or refused with FIELD_UNSUPPORTED when ignoring it would change what the app does (a missing env var,
// a sidecar, a capability it needs). Nothing is dropped silently. Malformed values are BAD_REQUEST
// naming the path. Settings Knative has no field for travel in `skiff.dev/*` template annotations,
// which knative/export.ts writes, so an export deploys back to the same document.
import { SkiffError } from '../../core/errors.ts';
import { deployDocumentSchema, DOCUMENT_MAXIMUMS, type DeployDocument } from '../../core/documents.ts';
import type { DocumentSecrets } from '../../core/secrets.ts';
import { OPTIONAL_CAPABILITIES, type OptionalCapability } from '../../core/capabilities.ts';
import { parseCpu, parseMemory } from '../../core/quantity.ts';

export const KNATIVE_API_VERSION = 'serving.knative.dev/v1';
export const KPA_CLASS = 'kpa.autoscaling.knative.dev';
export const AUTOSCALING = 'autoscaling.knative.dev/';
export const VISIBILITY_LABEL = 'networking.knative.dev/visibility';
/** Skiff settings with no Knative field, as template annotations (a Knative cluster ignores them). */
export const SKIFF = {
  idle: 'skiff.dev/idle',
  freezeIdle: 'skiff.dev/freeze-idle',
  keepAlive: 'skiff.dev/keep-alive',
  metricPath: 'skiff.dev/metric-path',
  queueLimit: 'skiff.dev/queue-limit',
  drainGrace: 'skiff.dev/drain-grace',
  pids: 'skiff.dev/pids',
  protocol: 'skiff.dev/protocol',
  /** JSON: `{"env.VAR": 3, "envFrom.NAME": 2, "mounts./path": 1}`, the secret versions a document pins */
  secretVersions: 'skiff.dev/secret-versions',
  /** JSON: `{"constraints": [...], "spread": [...]}`, the placement (Swarm syntax); the == label
   *  constraints are the pod's nodeSelector too */
  placement: 'skiff.dev/placement',
} as const;

/** A traffic entry as the file states it: a revision by name, or the revision this deploy makes. */
export interface ImportedTraffic {
  /** absent: the revision this deploy makes (latestRevision, or the template's own name) */
  revision?: string;
  percent: number;
  tag?: string;
}

export interface KnativeImport {
  document: DeployDocument;
  /** the whole traffic list, as Knative reads it (no spec.traffic: all to the latest revision) */
  traffic: ImportedTraffic[];
  /** spec.template.metadata.name: Skiff names revisions itself, so it is reported, not honoured */
  revisionName?: string;
  /** one line per field not honoured, each starting with its JSON path */
  warnings: string[];
}

type Obj = Record<string, unknown>;

/** Whether a parsed file is a Knative Service (rather than a Skiff deploy document). */
export function isKnativeService(parsed: unknown): boolean {
  if (!isObj(parsed)) return false;
  return typeof parsed.apiVersion === 'string' && parsed.apiVersion.startsWith('serving.knative.dev/') && parsed.kind === 'Service';
}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Whether the deploy document has a field (others add fields as they land: ingress, labels). */
const documentHas = (field: string) => field in deployDocumentSchema.properties;

class Reader {
  readonly warnings: string[] = [];
  warn(path: string, why = 'not supported, ignored'): void {
    this.warnings.push(`${path}: ${why}`);
  }
  refuse(path: string, why: string): never {
    throw new SkiffError('FIELD_UNSUPPORTED', `${path}: ${why}`);
  }
  bad(path: string, why: string): never {
    throw new SkiffError('BAD_REQUEST', `${path}: ${why}`);
  }
  obj(v: unknown, path: string): Obj {
    if (!isObj(v)) this.bad(path, 'expected a mapping');
    return v;
  }
  optObj(v: unknown, path: string): Obj | undefined {
    return v === undefined || v === null ? undefined : this.obj(v, path);
  }
  arr(v: unknown, path: string): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.bad(path, 'expected a list');
    return v;
  }
  str(v: unknown, path: string): string {
    if (typeof v !== 'string') this.bad(path, `expected a string, got ${JSON.stringify(v)}`);
    return v;
  }
  strings(v: unknown, path: string): string[] {
    return this.arr(v, path).map((s, i) => this.str(s, `${path}[${i}]`));
  }
  int(v: unknown, path: string, min = 0): number {
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) this.bad(path, `expected an integer of at least ${min}, got ${JSON.stringify(v)}`);
    return n;
  }
  num(v: unknown, path: string): number {
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n)) this.bad(path, `expected a number, got ${JSON.stringify(v)}`);
    return n;
  }
  /** Warns about every key of `o` not in `handled`. */
  rest(o: Obj, path: string, handled: readonly string[]): void {
    for (const k of Object.keys(o)) if (!handled.includes(k)) this.warn(`${path}.${k}`);
  }
}

const GO_DURATION_RE = /^(?:\d+(?:\.\d+)?(?:h|m|s|ms|us|µs|ns))+$/;
const GO_UNITS_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 1e-3, µs: 1e-3, ns: 1e-6 };

/** A Knative (Go) duration as Skiff writes durations: kept when Skiff reads it as is ("60s", "5m",
 *  "500ms"), else converted ("1m30s" → "90s"). */
export function goDuration(r: Reader, v: unknown, path: string): string {
  const s = r.str(v, path).trim();
  if (/^\d+(?:\.\d+)?(?:ms|s|m|h)$/.test(s)) return s;
  if (!GO_DURATION_RE.test(s)) r.bad(path, `expected a duration like 60s, 1m30s or 500ms, got ${JSON.stringify(s)}`);
  let ms = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) ms += Number(m[1]) * GO_UNITS_MS[m[2]!]!;
  ms = Math.round(ms);
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** Integer seconds as a Skiff duration. */
const seconds = (n: number) => `${n}s`;

/** Turns a parsed Knative Service into a deploy document, a traffic list and what was not honoured. */
export function fromKnative(parsed: unknown): KnativeImport {
  const r = new Reader();
  const root = r.obj(parsed, '(root)');
  if (root.apiVersion !== KNATIVE_API_VERSION) {
    if (typeof root.apiVersion === 'string' && root.apiVersion.startsWith('serving.knative.dev/')) r.refuse('apiVersion', `${root.apiVersion}: only ${KNATIVE_API_VERSION} is read`);
    r.bad('apiVersion', `expected ${KNATIVE_API_VERSION}`);
  }
  if (root.kind !== 'Service') r.bad('kind', `expected Service, got ${JSON.stringify(root.kind)}`);
  for (const k of Object.keys(root)) if (!['apiVersion', 'kind', 'metadata', 'spec'].includes(k)) r.warn(k, k === 'status' ? 'written by a cluster, ignored' : 'not supported, ignored');

  // metadata: name, labels (visibility → ingress); the rest is a cluster's bookkeeping
  const meta = r.obj(root.metadata, 'metadata');
  const name = r.str(meta.name, 'metadata.name');
  const doc: DeployDocument = { name, image: '' };
  r.rest(meta, 'metadata', ['name', 'labels']);
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.optObj(meta.labels, 'metadata.labels') ?? {})) {
    const value = r.str(v, `metadata.labels.${k}`);
    if (k === VISIBILITY_LABEL || k === 'serving.knative.dev/visibility') {
      if (value !== 'cluster-local') r.bad(`metadata.labels.${k}`, `expected cluster-local, got ${JSON.stringify(value)}`);
      if (documentHas('ingress')) (doc as DeployDocument & { ingress?: string }).ingress = 'internal';
      else r.warn(`metadata.labels.${k}`, 'cluster-local is not honoured: this Skiff has no internal ingress, the service is public');
      continue;
    }
    labels[k] = value;
  }
  if (Object.keys(labels).length) {
    if (documentHas('labels')) (doc as DeployDocument & { labels?: Record<string, string> }).labels = labels;
    else for (const k of Object.keys(labels)) r.warn(`metadata.labels.${k}`);
  }

  const spec = r.obj(root.spec, 'spec');
  r.rest(spec, 'spec', ['template', 'traffic']);
  const template = r.obj(spec.template, 'spec.template');
  r.rest(template, 'spec.template', ['metadata', 'spec']);
  const tmeta = r.optObj(template.metadata, 'spec.template.metadata') ?? {};
  r.rest(tmeta, 'spec.template.metadata', ['name', 'annotations', 'labels']);
  for (const k of Object.keys(r.optObj(tmeta.labels, 'spec.template.metadata.labels') ?? {})) r.warn(`spec.template.metadata.labels.${k}`, 'revision labels are not supported, ignored (metadata.labels are the service\'s)');
  let revisionName: string | undefined;
  if (tmeta.name !== undefined) {
    revisionName = r.str(tmeta.name, 'spec.template.metadata.name');
    r.warn('spec.template.metadata.name', `not honoured: Skiff names revisions NAME-NNNNN itself; traffic entries naming ${revisionName} go to the revision this deploy makes`);
  }

  const pod = r.obj(template.spec, 'spec.template.spec');
  const P = 'spec.template.spec';
  r.rest(pod, P, ['containers', 'containerConcurrency', 'timeoutSeconds', 'volumes', 'initContainers', 'hostNetwork', 'hostPID', 'hostIPC', 'shareProcessNamespace', 'nodeSelector']);
  for (const k of ['hostNetwork', 'hostPID', 'hostIPC', 'shareProcessNamespace']) if (pod[k] === true) r.refuse(`${P}.${k}`, 'Skiff instances have their own namespaces; refused');
  if (r.arr(pod.initContainers, `${P}.initContainers`).length) r.refuse(`${P}.initContainers`, 'not supported: a service runs one container');
  const containers = r.arr(pod.containers, `${P}.containers`);
  if (containers.length === 0) r.bad(`${P}.containers`, 'one container is required');
  if (containers.length > 1) r.refuse(`${P}.containers[1]`, 'sidecars are not supported: a service runs one container');
  if (pod.containerConcurrency !== undefined) (doc.scaling ??= {}).concurrency = r.int(pod.containerConcurrency, `${P}.containerConcurrency`);
  if (pod.timeoutSeconds !== undefined) doc.timeout = seconds(r.int(pod.timeoutSeconds, `${P}.timeoutSeconds`, 1));

  const C = `${P}.containers[0]`;
  const c = r.obj(containers[0], C);
  container(r, c, C, doc, volumesByName(r, pod.volumes, `${P}.volumes`));

  const annotations = r.optObj(tmeta.annotations, 'spec.template.metadata.annotations') ?? {};
  autoscaling(r, annotations, doc);
  // a nodeSelector without Skiff's placement annotation (a file written for Knative): label constraints
  const selector = r.optObj(pod.nodeSelector, `${P}.nodeSelector`) ?? {};
  if (annotations[SKIFF.placement] === undefined && Object.keys(selector).length) {
    doc.placement = { constraints: Object.entries(selector).map(([k, v]) => `node.labels.${k}==${r.str(v, `${P}.nodeSelector.${k}`)}`) };
  }
  const traffic = trafficOf(r, spec.traffic, revisionName);
  return { document: doc, traffic, ...(revisionName !== undefined ? { revisionName } : {}), warnings: r.warnings };
}

interface PodVolume {
  path: string;
  used: boolean;
  kind: string;
  source: Obj;
}

function volumesByName(r: Reader, v: unknown, path: string): Map<string, PodVolume> {
  const out = new Map<string, PodVolume>();
  r.arr(v, path).forEach((raw, i) => {
    const p = `${path}[${i}]`;
    const vol = r.obj(raw, p);
    const name = r.str(vol.name, `${p}.name`);
    const kinds = Object.keys(vol).filter((k) => k !== 'name');
    if (kinds.length !== 1) r.bad(p, 'expected exactly one volume source (secret, persistentVolumeClaim, …)');
    out.set(name, { path: p, used: false, kind: kinds[0]!, source: r.obj(vol[kinds[0]!], `${p}.${kinds[0]}`) });
  });
  return out;
}

function container(r: Reader, c: Obj, C: string, doc: DeployDocument, volumes: Map<string, PodVolume>): void {
  r.rest(c, C, ['name', 'image', 'command', 'args', 'ports', 'env', 'envFrom', 'resources', 'readinessProbe', 'livenessProbe', 'securityContext', 'volumeMounts', 'workingDir']);
  if (c.name !== undefined) r.warn(`${C}.name`, 'not used by Skiff (one container per service), ignored');
  doc.image = r.str(c.image, `${C}.image`);
  if (c.command !== undefined) doc.command = r.strings(c.command, `${C}.command`);
  if (c.args !== undefined) doc.args = r.strings(c.args, `${C}.args`);
  if (c.workingDir !== undefined) r.refuse(`${C}.workingDir`, 'not supported: the image\'s WORKDIR is used (set it in the image)');

  const ports = r.arr(c.ports, `${C}.ports`);
  if (ports.length > 1) r.bad(`${C}.ports`, 'Knative allows one port');
  if (ports.length === 1) {
    const p = r.obj(ports[0], `${C}.ports[0]`);
    r.rest(p, `${C}.ports[0]`, ['containerPort', 'name', 'protocol']);
    if (p.containerPort !== undefined) doc.port = r.int(p.containerPort, `${C}.ports[0].containerPort`, 1);
    if (p.name !== undefined && p.name !== 'http1') r.refuse(`${C}.ports[0].name`, `${JSON.stringify(p.name)}: only http1 is served (the gateway speaks HTTP/1.1 to instances, not h2c)`);
    if (p.protocol !== undefined && p.protocol !== 'TCP') r.refuse(`${C}.ports[0].protocol`, `${JSON.stringify(p.protocol)}: only TCP`);
  }

  const secrets: DocumentSecrets = {};
  // env: values, and secrets by key; anything else would leave the app without a variable it expects
  r.arr(c.env, `${C}.env`).forEach((raw, i) => {
    const p = `${C}.env[${i}]`;
    const e = r.obj(raw, p);
    const name = r.str(e.name, `${p}.name`);
    r.rest(e, p, ['name', 'value', 'valueFrom']);
    if (e.value !== undefined && e.valueFrom !== undefined) r.bad(p, 'value and valueFrom exclude each other');
    if (e.valueFrom === undefined) {
      const value = e.value === undefined ? '' : r.str(e.value, `${p}.value`);
      if (doc.env?.[name] !== undefined || secrets.env?.[name]) r.warn(`${p}.name`, `${name} is set twice; the last one wins`);
      (doc.env ??= {})[name] = value;
      if (secrets.env) delete secrets.env[name];
      return;
    }
    const from = r.obj(e.valueFrom, `${p}.valueFrom`);
    const kinds = Object.keys(from);
    if (kinds.length !== 1 || kinds[0] !== 'secretKeyRef') r.refuse(`${p}.valueFrom.${kinds.find((k) => k !== 'secretKeyRef') ?? ''}`, `not supported: only secretKeyRef (a Skiff secret, skiff secret set) can give ${name} its value`);
    const ref = r.obj(from.secretKeyRef, `${p}.valueFrom.secretKeyRef`);
    r.rest(ref, `${p}.valueFrom.secretKeyRef`, ['name', 'key', 'optional']);
    if (ref.optional === true) r.warn(`${p}.valueFrom.secretKeyRef.optional`, 'not honoured: the secret and key must exist');
    if (doc.env?.[name] !== undefined) {
      r.warn(`${p}.name`, `${name} is set twice; the last one wins`);
      delete doc.env[name];
    }
    (secrets.env ??= {})[name] = { secret: r.str(ref.name, `${p}.valueFrom.secretKeyRef.name`), key: r.str(ref.key, `${p}.valueFrom.secretKeyRef.key`) };
  });
  r.arr(c.envFrom, `${C}.envFrom`).forEach((raw, i) => {
    const p = `${C}.envFrom[${i}]`;
    const e = r.obj(raw, p);
    if (e.prefix !== undefined) r.refuse(`${p}.prefix`, 'not supported: the variables would have other names than the app expects');
    if (e.configMapRef !== undefined) r.refuse(`${p}.configMapRef`, 'not supported: Skiff has no config maps (use a secret, or env values)');
    r.rest(e, p, ['secretRef', 'prefix', 'configMapRef']);
    const ref = r.obj(e.secretRef, `${p}.secretRef`);
    r.rest(ref, `${p}.secretRef`, ['name', 'optional']);
    if (ref.optional === true) r.warn(`${p}.secretRef.optional`, 'not honoured: the secret must exist');
    (secrets.envFrom ??= []).push({ secret: r.str(ref.name, `${p}.secretRef.name`) });
  });

  r.arr(c.volumeMounts, `${C}.volumeMounts`).forEach((raw, i) => {
    const p = `${C}.volumeMounts[${i}]`;
    const m = r.obj(raw, p);
    r.rest(m, p, ['name', 'mountPath', 'readOnly', 'subPath']);
    const name = r.str(m.name, `${p}.name`);
    const mountPath = r.str(m.mountPath, `${p}.mountPath`);
    if (m.subPath !== undefined) r.refuse(`${p}.subPath`, 'not supported: a volume is mounted whole');
    const vol = volumes.get(name);
    if (!vol) r.bad(`${p}.name`, `no volume named ${JSON.stringify(name)} in spec.template.spec.volumes`);
    vol.used = true;
    const vp = `${vol.path}.${vol.kind}`;
    if (vol.kind === 'secret') {
      r.rest(vol.source, vp, ['secretName', 'items', 'defaultMode', 'optional']);
      if (vol.source.items !== undefined) r.refuse(`${vp}.items`, 'not supported: every key of the secret is a file named after it');
      if (vol.source.defaultMode !== undefined) r.warn(`${vp}.defaultMode`, 'not honoured: secret files are read-only (0444)');
      if (vol.source.optional === true) r.warn(`${vp}.optional`, 'not honoured: the secret must exist');
      (secrets.mounts ??= {})[mountPath] = { secret: r.str(vol.source.secretName, `${vp}.secretName`) };
    } else if (vol.kind === 'persistentVolumeClaim') {
      r.rest(vol.source, vp, ['claimName', 'readOnly']);
      const readOnly = m.readOnly === true || vol.source.readOnly === true ? true : m.readOnly === false ? false : undefined;
      (doc.volumes ??= []).push({ volume: r.str(vol.source.claimName, `${vp}.claimName`), path: mountPath, ...(readOnly !== undefined ? { readOnly } : {}) });
    } else if (vol.kind === 'emptyDir') {
      r.warn(p, `emptyDir is not supported, ignored: ${mountPath} is part of the instance's writable layer`);
    } else {
      r.refuse(vp, `${vol.kind} volumes are not supported (only secret, and persistentVolumeClaim as a Skiff volume)`);
    }
  });
  for (const v of volumes.values()) if (!v.used) r.warn(v.path, 'not mounted by the container, ignored');

  resources(r, r.optObj(c.resources, `${C}.resources`), `${C}.resources`, doc);
  for (const kind of ['readinessProbe', 'livenessProbe'] as const) {
    if (c[kind] === undefined) continue;
    const probe = probeOf(r, r.obj(c[kind], `${C}.${kind}`), `${C}.${kind}`, doc.port ?? 8080);
    if (kind === 'readinessProbe') doc.readiness = probe;
    else doc.liveness = probe;
  }
  securityContext(r, r.optObj(c.securityContext, `${C}.securityContext`), `${C}.securityContext`, doc);
  if (secrets.envFrom || secrets.env || secrets.mounts) doc.secrets = secrets;
}

function resources(r: Reader, res: Obj | undefined, path: string, doc: DeployDocument): void {
  if (!res) return;
  r.rest(res, path, ['limits', 'requests']);
  if (res.requests !== undefined) r.warn(`${path}.requests`, 'not supported, ignored: Skiff reserves nothing, the limits apply');
  const limits = r.optObj(res.limits, `${path}.limits`) ?? {};
  const quantity = (v: unknown, p: string) => (typeof v === 'number' ? v : r.str(v, p));
  for (const [k, v] of Object.entries(limits)) {
    const p = `${path}.limits.${k}`;
    if (k === 'memory') {
      parseMemory(quantity(v, p), p);
      (doc.resources ??= {}).memory = quantity(v, p);
    } else if (k === 'cpu') {
      parseCpu(quantity(v, p), p);
      (doc.resources ??= {}).cpu = quantity(v, p);
    } else if (k === 'ephemeral-storage') {
      parseMemory(quantity(v, p), p);
      (doc.resources ??= {}).disk = quantity(v, p);
    } else r.refuse(p, `${k} is not a resource Skiff provides (memory, cpu, ephemeral-storage)`);
  }
}

function probeOf(r: Reader, pr: Obj, path: string, port: number): NonNullable<DeployDocument['readiness']> {
  r.rest(pr, path, ['httpGet', 'tcpSocket', 'exec', 'grpc', 'periodSeconds', 'timeoutSeconds', 'failureThreshold', 'successThreshold', 'initialDelaySeconds']);
  const out: NonNullable<DeployDocument['readiness']> = {};
  const checkPort = (v: unknown, p: string) => {
    if (v !== undefined && v !== port && v !== 'http1') r.warn(p, `not honoured: probes go to the service's port ${port}`);
  };
  if (pr.httpGet !== undefined) {
    const h = r.obj(pr.httpGet, `${path}.httpGet`);
    r.rest(h, `${path}.httpGet`, ['path', 'port', 'scheme', 'host', 'httpHeaders']);
    if (h.scheme !== undefined && h.scheme !== 'HTTP') r.refuse(`${path}.httpGet.scheme`, `${JSON.stringify(h.scheme)}: probes speak plain HTTP`);
    if (h.host !== undefined) r.warn(`${path}.httpGet.host`, 'not honoured: probes go to the instance');
    if (h.httpHeaders !== undefined) r.warn(`${path}.httpGet.httpHeaders`);
    checkPort(h.port, `${path}.httpGet.port`);
    out.path = h.path === undefined ? '/' : r.str(h.path, `${path}.httpGet.path`);
    if (!out.path.startsWith('/')) r.bad(`${path}.httpGet.path`, 'expected an absolute path');
  } else if (pr.tcpSocket !== undefined) {
    const t = r.obj(pr.tcpSocket, `${path}.tcpSocket`);
    r.rest(t, `${path}.tcpSocket`, ['port', 'host']);
    if (t.host !== undefined) r.warn(`${path}.tcpSocket.host`, 'not honoured: probes go to the instance');
    checkPort(t.port, `${path}.tcpSocket.port`);
  }
  for (const k of ['exec', 'grpc'] as const) if (pr[k] !== undefined) r.warn(`${path}.${k}`, `not supported: a TCP connect to port ${port} is the probe instead`);
  if (pr.periodSeconds !== undefined) {
    const n = r.int(pr.periodSeconds, `${path}.periodSeconds`);
    if (n > 0) out.period = seconds(n); // 0: Knative's aggressive probing, which Skiff does anyway while an instance starts
  }
  if (pr.timeoutSeconds !== undefined) out.timeout = seconds(r.int(pr.timeoutSeconds, `${path}.timeoutSeconds`, 1));
  if (pr.failureThreshold !== undefined) out.failureThreshold = r.int(pr.failureThreshold, `${path}.failureThreshold`, 1);
  if (pr.successThreshold !== undefined && Number(pr.successThreshold) !== 1) r.warn(`${path}.successThreshold`, 'not supported: one success is enough');
  if (pr.initialDelaySeconds !== undefined && Number(pr.initialDelaySeconds) !== 0) r.warn(`${path}.initialDelaySeconds`, 'not supported: probing starts at once and backs off');
  return out;
}

function securityContext(r: Reader, sc: Obj | undefined, path: string, doc: DeployDocument): void {
  if (!sc) return;
  r.rest(sc, path, ['capabilities', 'readOnlyRootFilesystem', 'privileged']);
  if (sc.privileged === true) r.refuse(`${path}.privileged`, 'Skiff never runs privileged instances');
  if (sc.readOnlyRootFilesystem !== undefined) doc.readOnlyRoot = sc.readOnlyRootFilesystem === true;
  const caps = r.optObj(sc.capabilities, `${path}.capabilities`);
  if (!caps) return;
  r.rest(caps, `${path}.capabilities`, ['add', 'drop']);
  if (caps.drop !== undefined) r.warn(`${path}.capabilities.drop`, 'not supported, ignored: instances run with Skiff\'s small default set (docs/runtime.md)');
  const added = r.strings(caps.add, `${path}.capabilities.add`).map((c, i) => {
    const name = c.toUpperCase().replace(/^CAP_/, '');
    if (!(OPTIONAL_CAPABILITIES as readonly string[]).includes(name)) r.refuse(`${path}.capabilities.add[${i}]`, `${c}: only ${OPTIONAL_CAPABILITIES.join(', ')} may be added`);
    return name as OptionalCapability;
  });
  if (added.length) doc.capabilities = [...new Set(added)];
}

const METRICS = ['concurrency', 'rps', 'cpu', 'memory'] as const;

function autoscaling(r: Reader, annotations: Obj, doc: DeployDocument): void {
  const A = 'spec.template.metadata.annotations';
  const at = (k: string) => `${A}["${k}"]`;
  const s: NonNullable<DeployDocument['scaling']> = { ...doc.scaling };
  const get = (short: string, legacy?: string): [string, unknown] | undefined => {
    for (const k of [AUTOSCALING + short, ...(legacy ? [AUTOSCALING + legacy] : [])]) if (annotations[k] !== undefined) return [k, annotations[k]];
    return undefined;
  };
  const handled = new Set<string>();
  const take = (short: string, legacy?: string) => {
    const kv = get(short, legacy);
    if (kv) handled.add(kv[0]);
    if (legacy && annotations[AUTOSCALING + short] !== undefined && annotations[AUTOSCALING + legacy] !== undefined) r.warn(at(AUTOSCALING + legacy), `ignored: ${AUTOSCALING + short} is given too`);
    if (legacy) handled.add(AUTOSCALING + legacy);
    return kv;
  };
  const cls = take('class');
  if (cls && cls[1] !== KPA_CLASS) r.refuse(at(cls[0]), `${JSON.stringify(cls[1])}: Skiff's autoscaler is the KPA class (${KPA_CLASS}), which scales to zero; use it or leave the annotation out`);
  const metric = take('metric');
  if (metric) {
    const m = r.str(metric[1], at(metric[0]));
    if ((METRICS as readonly string[]).includes(m)) s.metric = m as (typeof METRICS)[number];
    else if (annotations[SKIFF.metricPath] !== undefined) {
      s.metric = 'custom';
      s.customMetric = { path: r.str(annotations[SKIFF.metricPath], at(SKIFF.metricPath)), name: m };
    } else r.refuse(at(metric[0]), `${JSON.stringify(m)}: Skiff follows concurrency, rps, cpu, memory, or a custom metric scraped from the app (add ${SKIFF.metricPath}: /metrics)`);
  }
  if (annotations[SKIFF.metricPath] !== undefined) {
    handled.add(SKIFF.metricPath);
    if (s.metric !== 'custom') r.warn(at(SKIFF.metricPath), 'ignored: the metric is not a custom one');
  }
  const target = take('target');
  if (target) s.target = r.num(target[1], at(target[0]));
  const util = take('target-utilization-percentage');
  if (util) s.utilization = r.num(util[1], at(util[0]));
  const min = take('min-scale', 'minScale');
  if (min) s.min = r.int(min[1], at(min[0]));
  const max = take('max-scale', 'maxScale');
  if (max) {
    const n = r.int(max[1], at(max[0]));
    if (n === 0) r.warn(at(max[0]), `0 (unlimited) is not honoured: Skiff needs a bound, ${DOCUMENT_MAXIMUMS.scale} (its largest) is used`);
    s.max = n === 0 ? DOCUMENT_MAXIMUMS.scale : n;
  }
  const initial = take('initial-scale', 'initialScale');
  if (initial && r.int(initial[1], at(initial[0])) !== 1) r.warn(at(initial[0]), 'not honoured: a deploy starts one instance to check the new revision (skiff deploy --no-wait: none), then the autoscaler decides');
  const retention = take('scale-to-zero-pod-retention-period');
  if (retention) s.scaleToZeroGrace = goDuration(r, retention[1], at(retention[0]));
  const delay = take('scale-down-delay');
  if (delay) {
    if (retention) r.warn(at(delay[0]), `not supported, ignored (${retention[0]} sets the scale-to-zero grace)`);
    else {
      s.scaleToZeroGrace = goDuration(r, delay[1], at(delay[0]));
      r.warn(at(delay[0]), 'partly honoured: it delays the scale to zero (scaling.scaleToZeroGrace); other scale-downs are not delayed');
    }
  }
  const window = take('window');
  if (window) s.window = goDuration(r, window[1], at(window[0]));
  const panicWindow = take('panic-window-percentage');
  if (panicWindow) s.panicWindowPercent = r.num(panicWindow[1], at(panicWindow[0]));
  const panicThreshold = take('panic-threshold-percentage');
  if (panicThreshold) s.panicThreshold = r.num(panicThreshold[1], at(panicThreshold[0])) / 100;

  // Skiff's own settings
  const skiff = (key: string, apply: (v: unknown, path: string) => void) => {
    if (annotations[key] === undefined) return;
    handled.add(key);
    apply(annotations[key], at(key));
  };
  skiff(SKIFF.idle, (v, p) => (s.idle = goDuration(r, v, p)));
  skiff(SKIFF.freezeIdle, (v, p) => (s.freezeIdle = bool(r, v, p)));
  skiff(SKIFF.keepAlive, (v, p) => {
    const k = r.str(v, p);
    if (k !== 'adaptive' && k !== 'fixed') r.bad(p, 'expected adaptive or fixed');
    s.keepAlive = k;
  });
  skiff(SKIFF.queueLimit, (v, p) => (doc.queueLimit = r.int(v, p)));
  skiff(SKIFF.drainGrace, (v, p) => (doc.drainGrace = goDuration(r, v, p)));
  skiff(SKIFF.pids, (v, p) => ((doc.resources ??= {}).pids = r.int(v, p, 1)));
  skiff(SKIFF.protocol, (v, p) => {
    const proto = r.str(v, p);
    if (proto !== 'http' && proto !== 'tcp') r.bad(p, 'expected http or tcp');
    if (documentHas('protocol')) (doc as DeployDocument & { protocol?: string }).protocol = proto;
    else if (proto === 'tcp') r.refuse(p, 'this Skiff serves HTTP only');
  });
  skiff(SKIFF.secretVersions, (v, p) => secretVersions(r, v, p, doc));
  skiff(SKIFF.placement, (v, p) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(r.str(v, p));
    } catch {
      r.bad(p, 'expected JSON {"constraints": [...], "spread": [...]}');
    }
    const o = r.obj(parsed, p);
    const list = (k: string) => (o[k] === undefined ? undefined : r.arr(o[k], `${p}.${k}`).map((e, i) => r.str(e, `${p}.${k}[${i}]`)));
    const constraints = list('constraints');
    const spread = list('spread');
    doc.placement = { ...(constraints ? { constraints } : {}), ...(spread ? { spread } : {}) };
  });
  for (const k of Object.keys(annotations)) if (!handled.has(k)) r.warn(at(k));
  if (Object.keys(s).length) doc.scaling = s;
}

function bool(r: Reader, v: unknown, p: string): boolean {
  if (v === 'true' || v === true) return true;
  if (v === 'false' || v === false) return false;
  r.bad(p, 'expected "true" or "false"');
}

/** `{"env.VAR": 3, "envFrom.NAME": 2, "mounts./path": 1}` pins those references to versions. */
function secretVersions(r: Reader, v: unknown, p: string, doc: DeployDocument): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.str(v, p));
  } catch {
    r.bad(p, 'expected a JSON object like {"env.VAR": 3}');
  }
  for (const [ref, version] of Object.entries(r.obj(parsed, p))) {
    const n = r.int(version, `${p}.${ref}`, 1);
    const dot = ref.indexOf('.');
    const [kind, key] = [ref.slice(0, dot), ref.slice(dot + 1)];
    const s = doc.secrets;
    const target = kind === 'env' ? s?.env?.[key] : kind === 'mounts' ? s?.mounts?.[key] : kind === 'envFrom' ? s?.envFrom?.find((e) => e.secret === key) : undefined;
    if (!target) r.bad(`${p}.${ref}`, 'names no secret reference of the container (env.VAR, envFrom.SECRET or mounts./path)');
    target.version = n;
  }
}

function trafficOf(r: Reader, v: unknown, templateName: string | undefined): ImportedTraffic[] {
  if (v === undefined || v === null) return [{ percent: 100 }];
  const out = r.arr(v, 'spec.traffic').map((raw, i): ImportedTraffic => {
    const p = `spec.traffic[${i}]`;
    const t = r.obj(raw, p);
    r.rest(t, p, ['revisionName', 'latestRevision', 'percent', 'tag', 'url', 'configurationName']);
    if (t.configurationName !== undefined) r.bad(`${p}.configurationName`, 'not allowed in a Service (use latestRevision)');
    const name = t.revisionName === undefined ? undefined : r.str(t.revisionName, `${p}.revisionName`);
    if (name !== undefined && t.latestRevision === true) r.bad(p, 'revisionName and latestRevision: true exclude each other');
    if (name === undefined && t.latestRevision === false) r.bad(p, 'latestRevision: false needs a revisionName');
    const tag = t.tag === undefined ? undefined : r.str(t.tag, `${p}.tag`);
    const percent = t.percent === undefined ? 0 : r.int(t.percent, `${p}.percent`);
    if (percent > 100) r.bad(`${p}.percent`, 'at most 100');
    const latest = name === undefined || name === templateName;
    if (latest && (tag !== undefined || percent < 100)) {
      r.warn(name === undefined ? `${p}.latestRevision` : `${p}.revisionName`, 'set on the revision this deploy makes; it does not follow later revisions (a later `skiff deploy` takes all traffic, tags stay put)');
    }
    return { ...(latest ? {} : { revision: name }), percent, ...(tag !== undefined ? { tag } : {}) };
  });
  const tags = out.flatMap((t) => (t.tag !== undefined ? [t.tag] : []));
  const twice = tags.find((t, i) => tags.indexOf(t) !== i);
  if (twice !== undefined) r.bad('spec.traffic', `tag ${twice} names two entries`);
  const sum = out.reduce((a, t) => a + t.percent, 0);
  if (sum !== 100) r.bad('spec.traffic', `percents add up to ${sum}, not 100`);
  return out;
}
