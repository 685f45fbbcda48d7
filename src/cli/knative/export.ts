// knative/export: a service's deploy document and traffic as a Knative `serving.knative.dev/v1`
// Service (`skiff export NAME --format knative`). Pure. The output validates against Knative's CRD
// schema (test/knative/knative.test.ts) and deploys back (`skiff deploy -f`) to the same document:
// settings Knative has no field for go in `skiff.dev/*` template annotations, which knative/import.ts
// reads and a Knative cluster ignores. What cannot be said exactly is reported by name in `warnings`.
import type { DeployDocument } from '../../core/documents.ts';
import type { TrafficTarget } from '../../core/service.ts';
import { parseDuration } from '../../core/quantity.ts';
import { AUTOSCALING, KNATIVE_API_VERSION, KPA_CLASS, SKIFF, VISIBILITY_LABEL } from './import.ts';

type Obj = Record<string, unknown>;

export interface KnativeExport {
  manifest: Obj;
  warnings: string[];
}

/** A Skiff duration as a Go duration string ("300s", "5m", "500ms"; a bare number is seconds). */
function goDuration(v: string | number): string {
  return typeof v === 'number' || /^\d+(?:\.\d+)?$/.test(v) ? `${v}s` : v;
}

/** A quantity as Kubernetes takes it: integers as they are, anything else as a string. */
function quantity(v: string | number): string | number {
  if (typeof v === 'number') return Number.isInteger(v) ? v : String(v);
  return v.replace(/^(\d+(?:\.\d+)?)K$/, '$1k'); // Skiff reads 1K as 1000 bytes, Kubernetes spells it 1k
}

/**
 * `traffic` names revisions; the entries of `latestRevision` are written as `latestRevision: true`, so
 * a redeploy of the file routes them to the revision it makes, as Knative would.
 */
export function toKnative(doc: DeployDocument, traffic?: TrafficTarget[], latestRevision?: string): KnativeExport {
  const warnings: string[] = [];
  /** whole seconds of a duration; rounded up (and reported) when it is not */
  const wholeSeconds = (v: string | number, field: string, to: string): number => {
    const ms = parseDuration(v, field);
    if (ms % 1000 !== 0) warnings.push(`${field}: ${JSON.stringify(v)} is not whole seconds; ${to} is ${Math.ceil(ms / 1000)}`);
    return Math.ceil(ms / 1000);
  };
  const annotations: Record<string, string> = {};
  const s = doc.scaling ?? {};
  const a = (k: string, v: string | number | boolean | undefined) => {
    if (v !== undefined) annotations[k] = String(v);
  };
  if (s.metric === 'custom') {
    a(AUTOSCALING + 'metric', s.customMetric?.name);
    a(SKIFF.metricPath, s.customMetric?.path);
  } else a(AUTOSCALING + 'metric', s.metric);
  if (Object.keys(s).length) a(AUTOSCALING + 'class', KPA_CLASS);
  a(AUTOSCALING + 'target', s.target);
  a(AUTOSCALING + 'target-utilization-percentage', s.utilization);
  a(AUTOSCALING + 'min-scale', s.min);
  a(AUTOSCALING + 'max-scale', s.max);
  a(AUTOSCALING + 'window', s.window === undefined ? undefined : goDuration(s.window));
  a(AUTOSCALING + 'panic-window-percentage', s.panicWindowPercent);
  a(AUTOSCALING + 'panic-threshold-percentage', s.panicThreshold === undefined ? undefined : +(s.panicThreshold * 100).toFixed(6));
  a(AUTOSCALING + 'scale-to-zero-pod-retention-period', s.scaleToZeroGrace === undefined ? undefined : goDuration(s.scaleToZeroGrace));
  a(SKIFF.idle, s.idle === undefined ? undefined : goDuration(s.idle));
  a(SKIFF.freezeIdle, s.freezeIdle);
  a(SKIFF.keepAlive, s.keepAlive);
  a(SKIFF.queueLimit, doc.queueLimit);
  a(SKIFF.drainGrace, doc.drainGrace === undefined ? undefined : goDuration(doc.drainGrace));
  a(SKIFF.pids, doc.resources?.pids);
  a(SKIFF.protocol, doc.protocol);

  const container: Obj = { image: doc.image };
  if (doc.command) container.command = doc.command;
  if (doc.args) container.args = doc.args;
  if (doc.port !== undefined) container.ports = [{ containerPort: doc.port }];
  const env: Obj[] = Object.entries(doc.env ?? {}).map(([name, value]) => ({ name, value }));
  const versions: Record<string, number> = {};
  for (const [name, ref] of Object.entries(doc.secrets?.env ?? {})) {
    env.push({ name, valueFrom: { secretKeyRef: { name: ref.secret, key: ref.key } } });
    if (ref.version !== undefined) versions[`env.${name}`] = ref.version;
  }
  if (env.length) container.env = env;
  if (doc.secrets?.envFrom?.length) {
    container.envFrom = doc.secrets.envFrom.map((ref) => {
      if (ref.version !== undefined) versions[`envFrom.${ref.secret}`] = ref.version;
      return { secretRef: { name: ref.secret } };
    });
  }
  const limits: Obj = {};
  if (doc.resources?.memory !== undefined) limits.memory = quantity(doc.resources.memory);
  if (doc.resources?.cpu !== undefined) limits.cpu = quantity(doc.resources.cpu);
  if (doc.resources?.disk !== undefined) limits['ephemeral-storage'] = quantity(doc.resources.disk);
  if (Object.keys(limits).length) container.resources = { limits };
  const port = doc.port ?? 8080;
  for (const [field, key] of [['readiness', 'readinessProbe'], ['liveness', 'livenessProbe']] as const) {
    const p = doc[field];
    if (!p) continue;
    container[key] = {
      ...(p.path !== undefined ? { httpGet: { path: p.path, port } } : { tcpSocket: { port } }),
      ...(p.period !== undefined ? { periodSeconds: wholeSeconds(p.period, `${field}.period`, `${key}.periodSeconds`) } : {}),
      ...(p.timeout !== undefined ? { timeoutSeconds: wholeSeconds(p.timeout, `${field}.timeout`, `${key}.timeoutSeconds`) } : {}),
      ...(p.failureThreshold !== undefined ? { failureThreshold: p.failureThreshold } : {}),
    };
  }
  const securityContext: Obj = {};
  if (doc.capabilities?.length) securityContext.capabilities = { add: [...doc.capabilities] };
  if (doc.readOnlyRoot !== undefined) securityContext.readOnlyRootFilesystem = doc.readOnlyRoot;
  if (Object.keys(securityContext).length) container.securityContext = securityContext;

  const volumes: Obj[] = [];
  const mounts: Obj[] = [];
  Object.entries(doc.secrets?.mounts ?? {}).forEach(([path, ref], i) => {
    volumes.push({ name: `secret-${i}`, secret: { secretName: ref.secret } });
    mounts.push({ name: `secret-${i}`, mountPath: path, readOnly: true });
    if (ref.version !== undefined) versions[`mounts.${path}`] = ref.version;
  });
  (doc.volumes ?? []).forEach((v, i) => {
    volumes.push({ name: `volume-${i}`, persistentVolumeClaim: { claimName: v.volume } });
    mounts.push({ name: `volume-${i}`, mountPath: v.path, ...(v.readOnly !== undefined ? { readOnly: v.readOnly } : {}) });
  });
  if (doc.volumes?.length) warnings.push('volumes: exported as persistentVolumeClaim volumes (claimName = the Skiff volume); a Knative cluster needs the kubernetes.podspec-persistent-volume-claim feature and the claims');
  if (mounts.length) container.volumeMounts = mounts;
  if (Object.keys(versions).length) annotations[SKIFF.secretVersions] = JSON.stringify(versions);

  const podSpec: Obj = {};
  if (doc.placement && (doc.placement.constraints?.length || doc.placement.spread?.length)) {
    annotations[SKIFF.placement] = JSON.stringify(doc.placement);
    // what Kubernetes can say as it is: node label equalities are a nodeSelector
    const selector = Object.fromEntries((doc.placement.constraints ?? []).map((c) => /^node\.labels\.([^=!\s]+)==(.+)$/.exec(c)).filter((m) => m !== null).map((m) => [m[1]!, m[2]!]));
    if (Object.keys(selector).length) {
      podSpec.nodeSelector = selector;
      warnings.push('placement: node.labels.KEY==VALUE constraints are the pod\'s nodeSelector (Knative needs its kubernetes.podspec-nodeselector feature); the rest stays in the skiff.dev/placement annotation');
    }
  }
  if (s.concurrency !== undefined) podSpec.containerConcurrency = s.concurrency;
  if (doc.timeout !== undefined) podSpec.timeoutSeconds = wholeSeconds(doc.timeout, 'timeout', 'timeoutSeconds');
  podSpec.containers = [container];
  if (volumes.length) podSpec.volumes = volumes;

  const labels: Record<string, string> = { ...(doc.labels ?? {}) };
  if (doc.ingress === 'internal') labels[VISIBILITY_LABEL] = 'cluster-local';
  const skiffOnly = Object.keys(annotations).filter((k) => k.startsWith('skiff.dev/') && k !== SKIFF.metricPath);
  if (skiffOnly.length) warnings.push(`${skiffOnly.join(', ')}: Skiff settings Knative has no field for, kept as annotations (a Knative cluster ignores them)`);

  const manifest: Obj = {
    apiVersion: KNATIVE_API_VERSION,
    kind: 'Service',
    metadata: { name: doc.name, ...(Object.keys(labels).length ? { labels } : {}) },
    spec: {
      template: { ...(Object.keys(annotations).length ? { metadata: { annotations } } : {}), spec: podSpec },
      ...(traffic ? { traffic: trafficOf(traffic, latestRevision) } : {}),
    },
  };
  return { manifest, warnings };
}

function trafficOf(traffic: TrafficTarget[], latestRevision: string | undefined): Obj[] {
  return traffic.map((t) => ({
    ...(t.revision === latestRevision ? { latestRevision: true } : { revisionName: t.revision, latestRevision: false }),
    percent: t.percent,
    ...(t.tag !== undefined ? { tag: t.tag } : {}),
  }));
}
