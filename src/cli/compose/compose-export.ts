// compose/compose-export: a service's deploy document as a Compose file (`skiff export NAME --format
// compose`). Pure. The output validates against the Compose specification's schema
// (test/compose/compose-export.test.ts). Compose says what one container runs; it has no autoscaling,
// scale to zero, traffic split or request queue, so those are reported by name in `warnings`, as is
// anything said only approximately (secrets, health checks), never dropped silently.
import type { DeployDocument } from '../../core/documents.ts';
import type { TrafficTarget } from '../../core/service.ts';
import { parseDuration, parseMemory } from '../../core/quantity.ts';

type Obj = Record<string, unknown>;

export interface ComposeExport {
  compose: Obj;
  warnings: string[];
}

/** A duration as Compose writes them ("30s", "1m30s", "500ms"). */
function composeDuration(v: string | number, field: string): string {
  const ms = parseDuration(v, field);
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** Memory as Compose writes it: bytes, or a whole number of k/m/g (binary units in Compose). */
function composeMemory(v: string | number, field: string): string {
  const bytes = parseMemory(v, field);
  for (const [unit, size] of [['g', 1024 ** 3], ['m', 1024 ** 2], ['k', 1024]] as const) if (bytes % size === 0) return `${bytes / size}${unit}`;
  return `${bytes}b`;
}

export function toCompose(doc: DeployDocument, traffic?: TrafficTarget[]): ComposeExport {
  const warnings: string[] = [];
  const svc: Obj = { image: doc.image };
  if (doc.command) svc.entrypoint = doc.command;
  if (doc.args) svc.command = doc.args;
  if (doc.env && Object.keys(doc.env).length) svc.environment = { ...doc.env };
  const port = doc.port ?? 8080;
  // an internal service is reached by the other services only; a public one through a published port
  if (doc.ingress === 'internal' || doc.protocol === 'tcp') svc.expose = [String(port)];
  else {
    svc.ports = [{ target: port, protocol: 'tcp' }];
    warnings.push(`port: published as container port ${port} on a host port Compose picks; Skiff's gateway (NAME.<domain>, /s/NAME/) has no Compose equivalent`);
  }

  const limits: Obj = {};
  if (doc.resources?.cpu !== undefined) limits.cpus = String(doc.resources.cpu);
  if (doc.resources?.memory !== undefined) limits.memory = composeMemory(doc.resources.memory, 'resources.memory');
  if (doc.resources?.pids !== undefined) limits.pids = doc.resources.pids;
  if (doc.resources?.disk !== undefined) warnings.push('resources.disk: Compose has no writable-layer size, not exported');
  const s = doc.scaling ?? {};
  const deploy: Obj = {};
  if (s.min !== undefined && s.min > 0) deploy.replicas = s.min;
  if (Object.keys(limits).length) deploy.resources = { limits };
  if (doc.placement?.constraints?.length || doc.placement?.spread?.length) {
    deploy.placement = {
      ...(doc.placement.constraints?.length ? { constraints: [...doc.placement.constraints] } : {}),
      ...(doc.placement.spread?.length ? { preferences: doc.placement.spread.map((spread) => ({ spread })) } : {}),
    };
  }
  if (Object.keys(deploy).length) svc.deploy = deploy;
  const scalingFields = Object.keys(s).filter((k) => k !== 'min' || !s.min).map((k) => `scaling.${k}`);
  warnings.push(
    `scaling${scalingFields.length ? ` (${scalingFields.join(', ')})` : ''}: Compose cannot express autoscaling or scale to zero; ` +
      (s.min ? `deploy.replicas is the minimum, ${s.min}` : 'one container runs all the time'),
  );
  if (doc.capabilities?.length) svc.cap_add = [...doc.capabilities];
  if (doc.readOnlyRoot !== undefined) svc.read_only = doc.readOnlyRoot;
  if (doc.labels && Object.keys(doc.labels).length) svc.labels = { ...doc.labels };
  if (doc.drainGrace !== undefined) svc.stop_grace_period = composeDuration(doc.drainGrace, 'drainGrace');

  if (doc.readiness?.path !== undefined) {
    const p = doc.readiness;
    svc.healthcheck = {
      test: ['CMD-SHELL', `wget -q -O /dev/null http://127.0.0.1:${port}${p.path} || exit 1`],
      ...(p.period !== undefined ? { interval: composeDuration(p.period, 'readiness.period') } : {}),
      ...(p.timeout !== undefined ? { timeout: composeDuration(p.timeout, 'readiness.timeout') } : {}),
      ...(p.failureThreshold !== undefined ? { retries: p.failureThreshold } : {}),
    };
    warnings.push('readiness: exported as a healthcheck running wget inside the container (the image needs wget)');
  } else if (doc.readiness) warnings.push('readiness: a TCP probe has no Compose healthcheck without a tool in the image, not exported');
  if (doc.liveness) warnings.push('liveness: Compose has one healthcheck (the readiness probe), and restarts nothing on it; not exported');

  const volumes: Obj[] = (doc.volumes ?? []).map((v) => ({ type: 'volume', source: v.volume, target: v.path, ...(v.readOnly ? { read_only: true } : {}) }));
  if (volumes.length) svc.volumes = volumes;
  const topSecrets: Obj = {};
  const secretMounts = Object.entries(doc.secrets?.mounts ?? {});
  if (secretMounts.length) {
    svc.secrets = secretMounts.map(([path, ref]) => {
      topSecrets[ref.secret] = { external: true };
      return { source: ref.secret, target: path };
    });
    warnings.push('secrets.mounts: a Compose secret is one file at the target, not a directory with a file per key (Skiff); the secrets are declared external');
  }
  for (const ref of doc.secrets?.envFrom ?? []) warnings.push(`secrets.envFrom (${ref.secret}): Compose cannot set environment variables from a secret, not exported`);
  for (const name of Object.keys(doc.secrets?.env ?? {})) warnings.push(`secrets.env.${name}: Compose cannot set an environment variable from a secret, not exported`);
  if (doc.timeout !== undefined) warnings.push('timeout: Compose has no request timeout, not exported');
  if (doc.queueLimit !== undefined) warnings.push('queueLimit: Compose has no request queue, not exported');
  if (doc.ingress === 'internal') warnings.push('ingress: internal, exported as expose (no published port)');
  if (traffic && traffic.some((t) => t.tag !== undefined || t.percent !== 100)) warnings.push('traffic: Compose runs one version of a service; the split and tags are not exported');

  const compose: Obj = { name: doc.name, services: { [doc.name]: svc } };
  if (volumes.length) compose.volumes = Object.fromEntries((doc.volumes ?? []).map((v) => [v.volume, { external: true }]));
  if (Object.keys(topSecrets).length) compose.secrets = topSecrets;
  return { compose, warnings };
}
