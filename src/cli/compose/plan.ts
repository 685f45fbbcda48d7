// cli/compose/plan: a Compose model → what `skiff compose up` does, in order: the volumes and secrets to
// create, the images to build, and one deploy document per service in dependency order — plus a
// warning for everything the file uses that Skiff does not honour, named by its path
// (`services.web.privileged: not supported`). What Skiff cannot honour without changing what the app
// does (a bind mount, host networking, an anonymous volume…) is refused: COMPOSE_UNSUPPORTED naming
// the path. Pure: files (env_file) come through `readFile`, variables through `env`; the caller loads,
// interpolates and validates the file (cli/compose/load.ts) and does the effects (cli/compose.ts).
// The rules, field by field, are in docs/compose.md.
import path from 'node:path';
import { SkiffError } from '../../core/errors.ts';
import type { DeployDocument } from '../../core/documents.ts';
import { LABEL_KEY_RE, LABEL_VALUE_RE } from '../../core/documents.ts';
import { SERVICE_NAME_RE } from '../../core/names.ts';
import { SECRET_KEY_RE, secretMountPathProblem } from '../../core/secrets.ts';
import { assertMountTarget } from '../../core/volumes.ts';
import { normalisePlacement, parseConstraint, parseSpread } from '../../core/placement.ts';
import { parseDotenv, type Variables } from './interpolate.ts';
import { composeBytes, composeDuration, dnsName, parsePort, shellWords, skiffBytes, skiffDuration, type PortSpec } from './words.ts';

export const PROJECT_LABEL = 'com.docker.compose.project';
export const SERVICE_LABEL = 'com.docker.compose.service';

/** Ports whose protocol is not HTTP: a service listening on one of them is a TCP service. */
export const TCP_PORTS: ReadonlySet<number> = new Set([6379, 5432, 3306, 27017, 11211, 4222, 5672, 1883, 9092]);

type Obj = Record<string, unknown>;

export interface PlanInput {
  /** the Compose model: parsed, interpolated and valid against the Compose schema */
  model: Obj;
  project: string;
  /** the Compose file's directory: relative paths resolve from it */
  dir: string;
  /** the environment (shell over .env): `environment: [KEY]` and secrets' `environment:` read it */
  env: Variables;
  /** an env_file's text, undefined when it does not exist */
  readFile(file: string): string | undefined;
  /** active profiles (--profile, COMPOSE_PROFILES): services with other profiles are left out */
  profiles?: string[];
}

export interface PlannedVolume {
  /** the Skiff volume */
  name: string;
  /** its key under the file's `volumes:` */
  compose: string;
  external: boolean;
  shared: boolean;
  size?: string;
}

/** One Skiff secret the project owns: a directory of files mounted into one service. */
export interface PlannedSecret {
  name: string;
  service: string;
  /** key (file name) → where its value comes from */
  data: Record<string, { file: string } | { env: string } | { content: string }>;
}

export interface PlannedBuild {
  service: string;
  context: string;
  dockerfile?: string;
  dockerfileInline?: string;
  target?: string;
  args: Record<string, string>;
  /** the Skiff image it is pushed as (repo:tag) */
  image: string;
}

export interface PlannedService {
  name: string;
  document: DeployDocument;
  /** services deployed before it */
  after: string[];
  /** of those, the ones that must be ready first (`condition: service_healthy`) */
  waitFor: string[];
  /** the image as the file names it (a local builder may have it when Skiff's registry does not) */
  sourceImage?: string;
}

export interface ComposePlan {
  project: string;
  volumes: PlannedVolume[];
  secrets: PlannedSecret[];
  builds: PlannedBuild[];
  /** in deploy order */
  services: PlannedService[];
  warnings: string[];
}

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const refuse = (where: string, why: string) => new SkiffError('COMPOSE_UNSUPPORTED', `${where}: ${why}`);
const invalid = (where: string, why: string) => new SkiffError('COMPOSE_INVALID', `${where}: ${why}`);

/** deploy.placement → `placement`: constraints as they are, preferences' spread descriptors in order
 *  (Swarm's, as docker stack deploy passes them on); one Swarm would refuse is COMPOSE_INVALID naming
 *  its path. */
function placement(p: Obj, at: string, doc: Partial<DeployDocument>, warn: (where: string, what: string) => void): void {
  for (const k of Object.keys(p)) if (k !== 'constraints' && k !== 'preferences') warn(`${at}.${k}`, 'not supported');
  const checked = <T>(f: () => T): T => {
    try {
      return f();
    } catch (err) {
      if (err instanceof SkiffError && err.code === 'BAD_REQUEST') throw new SkiffError('COMPOSE_INVALID', err.message);
      throw err;
    }
  };
  const constraints = (Array.isArray(p.constraints) ? p.constraints : []).map((c, i) => checked(() => parseConstraint(c, `${at}.constraints[${i}]`)));
  const spread = (Array.isArray(p.preferences) ? p.preferences : []).flatMap((pref, i) => {
    if (!isObj(pref)) return [];
    for (const k of Object.keys(pref)) if (k !== 'spread') warn(`${at}.preferences[${i}].${k}`, 'not supported: Swarm spreads only');
    return pref.spread !== undefined ? [checked(() => parseSpread(pref.spread, `${at}.preferences[${i}].spread`))] : [];
  });
  // the limits (16 of each) and repeats
  const normalised = checked(() => normalisePlacement({ constraints, spread }, at));
  if (normalised) doc.placement = normalised;
}

/** docker compose's project name rule: lowercase letters, digits, `_` and `-`, starting with a letter
 *  or digit. */
export function normaliseProjectName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[^a-z0-9]+/, '');
}

/** Service keys Skiff maps (the rest are reported, or refused below). */
const MAPPED = new Set([
  'image', 'build', 'command', 'entrypoint', 'environment', 'env_file', 'ports', 'expose', 'volumes', 'depends_on', 'healthcheck', 'deploy', 'restart',
  'secrets', 'configs', 'networks', 'labels', 'read_only', 'cap_add', 'mem_limit', 'cpus', 'pids_limit', 'stop_grace_period', 'scale', 'profiles', 'links', 'tmpfs',
]);

/** Service keys whose absence would change what the app does in a way that is not safe to run:
 *  refused, with why. */
const REFUSED: Record<string, (v: unknown) => string | undefined> = {
  network_mode: (v) => (v === 'host' || /^(service|container):/.test(String(v)) ? `${String(v)}: Skiff instances have their own network namespace; services reach each other by name` : undefined),
  pid: (v) => (v === 'host' ? 'host: instances never share the host\'s process namespace' : undefined),
  ipc: (v) => (v === 'host' || /^(service|container):/.test(String(v)) ? `${String(v)}: instances do not share IPC namespaces` : undefined),
  uts: (v) => (v === 'host' ? 'host: instances have their own hostname' : undefined),
  userns_mode: (v) => (v === 'host' ? 'host: not available' : undefined),
  volumes_from: () => 'instances do not share volumes with containers: name a volume and mount it in both services',
  extends: () => 'not supported yet: write the service out in full',
  use_api_socket: () => 'instances never get a container engine\'s socket',
  provider: () => 'services provided by an external provider are not supported',
};

export function planCompose(input: PlanInput): ComposePlan {
  const warnings: string[] = [];
  const warn = (where: string, what: string) => warnings.push(`${where}: ${what}`);
  const model = input.model;
  const project = input.project;
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(project)) throw invalid('name', `project name ${JSON.stringify(project)} must be lowercase letters, digits, '_' and '-', starting with a letter or digit`);
  if (!LABEL_VALUE_RE.test(project) || project.length > 63) throw refuse('name', `project name ${JSON.stringify(project)}: Skiff records it as a label value (at most 63 characters, ending with a letter or digit)`);
  const prefix = dnsName(project);

  for (const key of Object.keys(model)) {
    if (key.startsWith('x-') || ['name', 'services', 'volumes', 'secrets', 'configs', 'networks'].includes(key)) continue;
    if (key === 'version') warn('version', 'obsolete, ignored (as docker compose does)');
    else if (key === 'include') throw refuse('include', 'included Compose files are not supported yet: merge them into one file');
    else warn(key, 'not supported');
  }

  // ---- services in the file, minus those of inactive profiles
  const allServices = isObj(model.services) ? model.services : {};
  const active = new Set(input.profiles ?? []);
  const services = Object.entries(allServices).filter(([, s]) => {
    const profiles = isObj(s) && Array.isArray(s.profiles) ? (s.profiles as string[]) : [];
    return profiles.length === 0 || profiles.some((p) => active.has(p) || active.has('*'));
  }) as Array<[string, Obj]>;
  if (services.length === 0) throw invalid('services', 'no service to run (a service with profiles runs only with --profile)');

  // ---- top-level volumes
  const volumeDefs = isObj(model.volumes) ? model.volumes : {};
  const volumes = new Map<string, PlannedVolume>();
  const volumeOf = (key: string, where: string): PlannedVolume => {
    const known = volumes.get(key);
    if (known) return known;
    if (!(key in volumeDefs)) throw invalid(where, `volume ${JSON.stringify(key)} is not declared under the top-level volumes:`);
    const def = isObj(volumeDefs[key]) ? (volumeDefs[key] as Obj) : {};
    const at = `volumes.${key}`;
    const external = def.external === true || isObj(def.external);
    const name = external ? String(def.name ?? key) : dnsName(def.name !== undefined ? String(def.name) : `${prefix}-${key}`);
    if (!SERVICE_NAME_RE.test(name)) throw refuse(at, `${JSON.stringify(name)} is not a Skiff volume name (a DNS label: lowercase letters, digits, '-')`);
    for (const k of Object.keys(def)) {
      if (['name', 'external', 'x-skiff'].includes(k) || (k === 'driver_opts' && isObj(def.driver_opts) && Object.keys(def.driver_opts).every((o) => o === 'size'))) continue;
      if (k === 'driver' && def.driver === 'local') continue;
      warn(`${at}.${k}`, 'not supported (a Skiff volume is an ext4 filesystem of a fixed size on the daemon\'s machine)');
    }
    const xs = isObj(def['x-skiff']) ? (def['x-skiff'] as Obj) : {};
    const size = xs.size ?? (isObj(def.driver_opts) ? def.driver_opts.size : undefined);
    const v: PlannedVolume = { name, compose: key, external, shared: false, ...(size !== undefined ? { size: String(size) } : {}) };
    volumes.set(key, v);
    return v;
  };

  // ---- top-level secrets and configs: where each one's value comes from
  const fileSources = (kind: 'secrets' | 'configs') => (isObj(model[kind]) ? (model[kind] as Obj) : {});
  const sourceOf = (kind: 'secrets' | 'configs', key: string, where: string): { file: string } | { env: string } | { content: string } => {
    const defs = fileSources(kind);
    if (!(key in defs)) throw invalid(where, `${kind === 'secrets' ? 'secret' : 'config'} ${JSON.stringify(key)} is not declared under the top-level ${kind}:`);
    const def = isObj(defs[key]) ? (defs[key] as Obj) : {};
    const at = `${kind}.${key}`;
    if (def.external === true || isObj(def.external)) throw refuse(at, `external ${kind}: Skiff mounts a project's files from a secret it writes itself, and a secret's values never come back out of Skiff to be copied; give it a file: or environment:`);
    for (const k of Object.keys(def)) if (!['file', 'environment', 'content', 'name'].includes(k) && !k.startsWith('x-')) warn(`${at}.${k}`, 'not supported');
    if (typeof def.file === 'string') return { file: path.resolve(input.dir, def.file) };
    if (typeof def.environment === 'string') return { env: def.environment };
    if (typeof def.content === 'string') return { content: def.content };
    throw invalid(at, 'needs file:, environment: or content:');
  };

  // ---- networks: names only; Skiff does not isolate one network from another
  const usedNetworks = new Set<string>();

  const planned: PlannedService[] = [];
  const secrets: PlannedSecret[] = [];
  const builds: PlannedBuild[] = [];
  const names = new Set(services.map(([n]) => n));

  for (const [name, svc] of services) {
    const at = `services.${name}`;
    if (!SERVICE_NAME_RE.test(name)) throw refuse(at, `Skiff service names are DNS labels (lowercase letters, digits, '-', starting with a letter), and the other services reach this one by its name, so it cannot be renamed: rename it in the file`);
    for (const [key, why] of Object.entries(REFUSED)) {
      if (svc[key] === undefined) continue;
      const reason = why(svc[key]);
      if (reason) throw refuse(`${at}.${key}`, reason);
    }
    for (const key of Object.keys(svc)) {
      if (MAPPED.has(key) || key.startsWith('x-') || key in REFUSED) continue;
      if (key === 'container_name') warn(`${at}.${key}`, `not supported: the Skiff service is named ${name}`);
      else if (key === 'privileged' && svc.privileged === false) continue;
      else warn(`${at}.${key}`, 'not supported');
    }
    const xs = isObj(svc['x-skiff']) ? (svc['x-skiff'] as Obj) : {};
    const labels = isObj(svc.labels) ? Object.fromEntries(Object.entries(svc.labels).map(([k, v]) => [k, String(v ?? '')])) : Array.isArray(svc.labels) ? Object.fromEntries((svc.labels as string[]).map((l) => [l.split('=')[0]!, l.includes('=') ? l.slice(l.indexOf('=') + 1) : ''])) : {};

    // image and build
    const doc: Partial<DeployDocument> & { name: string } = { name };
    let sourceImage: string | undefined;
    if (svc.build !== undefined) {
      const b = typeof svc.build === 'string' ? { context: svc.build } : (svc.build as Obj);
      const image = svc.image !== undefined ? skiffImage(String(svc.image), `${at}.image`) : `${prefix}-${name}:latest`;
      for (const k of Object.keys(b)) if (!['context', 'dockerfile', 'dockerfile_inline', 'args', 'target'].includes(k) && !k.startsWith('x-')) warn(`${at}.build.${k}`, 'not supported');
      const ctx = String(b.context ?? '.');
      builds.push({
        service: name,
        context: /^[a-z]+:\/\//.test(ctx) || ctx.startsWith('git@') ? ctx : path.resolve(input.dir, ctx),
        ...(b.dockerfile !== undefined ? { dockerfile: String(b.dockerfile) } : {}),
        ...(b.dockerfile_inline !== undefined ? { dockerfileInline: String(b.dockerfile_inline) } : {}),
        ...(b.target !== undefined ? { target: String(b.target) } : {}),
        args: keyValues(b.args, input.env),
        image,
      });
      doc.image = image;
    } else if (svc.image !== undefined) {
      sourceImage = String(svc.image);
      doc.image = skiffImage(sourceImage, `${at}.image`);
    } else throw invalid(at, 'needs image: or build:');

    // command and entrypoint: entrypoint → command (replaces ENTRYPOINT, drops CMD, as docker does), command → args
    const words = (v: unknown, where: string) => (typeof v === 'string' ? shellWords(v, where) : (v as unknown[]).map(String));
    if (svc.entrypoint !== undefined && svc.entrypoint !== null) doc.command = words(svc.entrypoint, `${at}.entrypoint`);
    if (svc.command !== undefined && svc.command !== null) doc.args = words(svc.command, `${at}.command`);

    // environment: env_file(s) in order, then environment:
    const env: Record<string, string> = {};
    const envFiles = svc.env_file === undefined ? [] : Array.isArray(svc.env_file) ? svc.env_file : [svc.env_file];
    for (const [i, ef] of envFiles.entries()) {
      const spec = typeof ef === 'string' ? { path: ef, required: true } : (ef as { path: string; required?: boolean; format?: string });
      const where = `${at}.env_file${Array.isArray(svc.env_file) ? `[${i}]` : ''}`;
      const file = path.resolve(input.dir, spec.path);
      const text = input.readFile(file);
      if (text === undefined) {
        if (spec.required === false) continue;
        throw invalid(where, `env file ${file} not found`);
      }
      if (spec.format !== undefined && spec.format !== 'raw') warn(`${where}.format`, 'not supported: read as a .env file');
      Object.assign(env, spec.format === 'raw' ? rawEnv(text) : parseDotenv(text, file, input.env));
    }
    Object.assign(env, keyValues(svc.environment, input.env));
    for (const k of Object.keys(env)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
        warn(`${at}.environment.${k}`, 'not passed: Skiff env var names are letters, digits and _');
        delete env[k];
      }
    }
    if (Object.keys(env).length) doc.env = env;

    // ports and expose → the one port, who reaches it, and the protocol
    const ports = ((svc.ports as unknown[] | undefined) ?? []).map((p, i) => ({ spec: parsePort(p, `${at}.ports[${i}]`), where: `${at}.ports[${i}]` }));
    const expose = ((svc.expose as unknown[] | undefined) ?? []).map((p, i) => ({ spec: parsePort(p, `${at}.expose[${i}]`), where: `${at}.expose[${i}]` }));
    for (const p of [...ports, ...expose]) if (p.spec.protocol !== 'tcp') throw refuse(p.where, `${p.spec.protocol}: Skiff services speak HTTP or TCP`);
    const chosen: number | undefined = xs.port !== undefined ? Number(xs.port) : (ports[0]?.spec.target ?? expose[0]?.spec.target);
    for (const p of [...ports, ...expose]) {
      if (p.spec.target !== chosen) warn(p.where, `port ${p.spec.target} is not reachable: a Skiff service has one port (${chosen})`);
    }
    const declared = xs.protocol ?? labels['skiff.protocol'];
    if (declared !== undefined && declared !== 'http' && declared !== 'tcp') throw invalid(`${at}.x-skiff.protocol`, `expected http or tcp, got ${JSON.stringify(declared)}`);
    const protocol: 'http' | 'tcp' = declared !== undefined ? (declared as 'http' | 'tcp') : chosen !== undefined && TCP_PORTS.has(chosen) ? 'tcp' : 'http';
    if (chosen !== undefined) doc.port = chosen;
    else warn(at, 'no ports: or expose: — Skiff probes and routes to port 8080 (its default): state expose: [PORT] if the app listens elsewhere');
    doc.protocol = protocol;
    if (protocol === 'tcp') {
      doc.ingress = 'internal';
      if (ports.length) warn(`${at}.ports`, `not published: a TCP service is reached only by the project's other services, as ${name}:${chosen}`);
    } else {
      doc.ingress = ports.length ? 'all' : 'internal';
      for (const p of ports) if (p.spec.published !== undefined && p.spec.target === chosen) warn(p.where, `host port ${p.spec.published} is not opened: the service answers at its URL on Skiff's gateway${p.spec.hostIp ? ` (host_ip ${p.spec.hostIp} ignored)` : ''}`);
    }

    // volumes (named only), tmpfs
    const mounts: NonNullable<DeployDocument['volumes']> = [];
    for (const [i, v] of ((svc.volumes as unknown[] | undefined) ?? []).entries()) {
      const where = `${at}.volumes[${i}]`;
      const m = volumeMount(v, where);
      if (m.type === 'tmpfs') {
        warn(where, `tmpfs ${m.target}: not mounted separately: the instance's writable layer is memory-backed already`);
        continue;
      }
      if (m.type !== 'volume') throw refuse(where, `${m.type} mount ${m.source ?? ''}:${m.target}: Skiff instances cannot see the host's files (a bind mount would be an empty directory): use a named volume, and \`skiff volume import\` to fill it`);
      if (!m.source) throw refuse(where, `anonymous volume ${m.target}: its data would be lost at every redeploy and scale to zero: give it a name (NAME:${m.target}) and declare NAME under the top-level volumes:`);
      if (m.subpath) throw refuse(where, `volume subpath ${m.subpath}: not supported`);
      for (const o of m.ignored) warn(`${where}`, `option ${o}: not supported`);
      const vol = volumeOf(m.source, where);
      mounts.push({ volume: vol.name, path: assertMountTarget(m.target, where), ...(m.readOnly ? { readOnly: true } : {}) });
    }
    for (const t of svc.tmpfs === undefined ? [] : Array.isArray(svc.tmpfs) ? svc.tmpfs : [svc.tmpfs]) warn(`${at}.tmpfs`, `${String(t)}: not mounted separately: the instance's writable layer is memory-backed already`);
    if (mounts.length) doc.volumes = mounts;

    // secrets and configs: files, grouped by directory into one Skiff secret per directory
    const dirs = new Map<string, PlannedSecret['data']>();
    for (const kind of ['secrets', 'configs'] as const) {
      for (const [i, s] of ((svc[kind] as unknown[] | undefined) ?? []).entries()) {
        const where = `${at}.${kind}[${i}]`;
        const grant = typeof s === 'string' ? { source: s } : (s as { source: string; target?: string; uid?: string; gid?: string; mode?: number | string });
        for (const k of ['uid', 'gid', 'mode'] as const) if (grant[k] !== undefined) warn(`${where}.${k}`, 'not supported: files are read-only (0400) and owned by the instance\'s user');
        const target = grant.target ?? (kind === 'secrets' ? grant.source : `/${grant.source}`);
        const file = target.startsWith('/') ? target : `/run/secrets/${target}`;
        const dir = path.posix.dirname(file);
        const key = path.posix.basename(file);
        if (dir === '/') throw refuse(where, `${file}: Skiff mounts files by directory, and / cannot be one: give it a target in a directory of its own (e.g. /etc/${grant.source}/${key})`);
        const problem = secretMountPathProblem(dir);
        if (problem) throw refuse(where, `${file}: the directory must be ${problem}`);
        if (!SECRET_KEY_RE.test(key)) throw refuse(where, `${file}: a file name here is letters, digits, _, ., - (not starting with a digit, . or -)`);
        if (dir !== '/run/secrets') warn(where, `${file}: Skiff mounts the directory ${dir}: only the project's files are in it (the image's other files there are hidden)`);
        const data = dirs.get(dir) ?? {};
        data[key] = sourceOf(kind, grant.source, where);
        dirs.set(dir, data);
      }
    }
    if (dirs.size) {
      const byPath: NonNullable<NonNullable<DeployDocument['secrets']>['mounts']> = {};
      for (const [dir, data] of dirs) {
        const secret = dnsName(prefix, name, dir === '/run/secrets' ? 'secrets' : `files${dir}`);
        secrets.push({ name: secret, service: name, data });
        byPath[dir] = { secret };
      }
      const sorted = Object.keys(byPath).sort();
      for (let i = 1; i < sorted.length; i++) {
        if (sorted[i]!.startsWith(sorted[i - 1]! + '/')) throw refuse(`${at}.configs`, `${sorted[i]} is inside ${sorted[i - 1]}: Skiff mounts each directory of files once, and not one inside another`);
      }
      doc.secrets = { mounts: byPath };
    }

    // healthcheck → readiness
    if (isObj(svc.healthcheck)) readiness(svc.healthcheck, `${at}.healthcheck`, doc, protocol, warn);

    // deploy: replicas, resources, placement; restart
    const deploy = isObj(svc.deploy) ? svc.deploy : {};
    for (const k of Object.keys(deploy)) if (!['replicas', 'resources', 'mode', 'restart_policy', 'labels', 'placement'].includes(k)) warn(`${at}.deploy.${k}`, 'not supported');
    if (isObj(deploy.placement)) placement(deploy.placement, `${at}.deploy.placement`, doc, warn);
    if (deploy.mode !== undefined && deploy.mode !== 'replicated') warn(`${at}.deploy.mode`, `${String(deploy.mode)}: not supported: the service runs as replicated`);
    if (deploy.labels !== undefined) warn(`${at}.deploy.labels`, 'not supported');
    if (deploy.restart_policy !== undefined) warn(`${at}.deploy.restart_policy`, 'not supported: Skiff replaces an instance that exits, with back-off');
    const replicas = deploy.replicas !== undefined ? Number(deploy.replicas) : svc.scale !== undefined ? Number(svc.scale) : undefined;
    const resources = isObj(deploy.resources) ? deploy.resources : {};
    const limits = isObj(resources.limits) ? resources.limits : {};
    if (resources.reservations !== undefined) warn(`${at}.deploy.resources.reservations`, 'not supported: Skiff reserves nothing; limits are enforced');
    for (const k of Object.keys(limits)) if (!['cpus', 'memory', 'pids'].includes(k)) warn(`${at}.deploy.resources.limits.${k}`, 'not supported');
    const memory = limits.memory ?? svc.mem_limit;
    const cpus = limits.cpus ?? svc.cpus;
    const pids = limits.pids ?? svc.pids_limit;
    const res: NonNullable<DeployDocument['resources']> = {};
    // 0 is Compose's "no limit": Skiff's default then
    const memoryBytes = memory !== undefined ? composeBytes(memory as string | number, `${at}.deploy.resources.limits.memory`) : 0;
    if (memoryBytes > 0) res.memory = skiffBytes(memoryBytes);
    if (cpus !== undefined && Number(cpus) > 0) res.cpu = Number(cpus);
    if (pids !== undefined && Number(pids) > 0) res.pids = Number(pids);
    if (Object.keys(res).length) doc.resources = res;
    if (svc.restart !== undefined && svc.restart !== 'always' && svc.restart !== 'unless-stopped') {
      warn(`${at}.restart`, `${String(svc.restart)}: not honoured: Skiff replaces an instance that exits (as restart: always), with back-off`);
    }
    if (svc.read_only === true) doc.readOnlyRoot = true;
    if (svc.stop_grace_period !== undefined) doc.drainGrace = skiffDuration(composeDuration(svc.stop_grace_period as string, `${at}.stop_grace_period`));
    if (Array.isArray(svc.cap_add)) {
      const caps = (svc.cap_add as string[]).map((c) => c.toUpperCase().replace(/^CAP_/, ''));
      for (const c of caps) if (c !== 'NET_RAW') warn(`${at}.cap_add`, `${c}: not supported (only NET_RAW may be added)`);
      if (caps.includes('NET_RAW')) doc.capabilities = ['NET_RAW'];
    }

    // scaling: replicas N → at least N instances; one instance of a TCP service (nothing starts it on
    // a connection) or of one with a read-write volume, unless replicas says more
    const rwVolume = mounts.some((m) => !m.readOnly);
    const min = protocol === 'tcp' ? Math.max(1, replicas ?? 1) : (replicas ?? 0);
    const max = protocol === 'tcp' || rwVolume ? Math.max(1, replicas ?? 1) : Math.max(10, replicas ?? 0);
    doc.scaling = { min, max };
    if (max > 1) for (const m of mounts) if (!m.readOnly) for (const v of volumes.values()) if (v.name === m.volume) v.shared = true;
    if (xs.min !== undefined) doc.scaling.min = Number(xs.min);
    if (xs.max !== undefined) doc.scaling.max = Number(xs.max);

    // networks, links
    const nets = Array.isArray(svc.networks) ? (svc.networks as string[]) : isObj(svc.networks) ? Object.keys(svc.networks) : ['default'];
    for (const n of nets) usedNetworks.add(n);
    if (isObj(svc.networks)) {
      for (const [n, opts] of Object.entries(svc.networks)) {
        if (isObj(opts)) for (const k of Object.keys(opts)) warn(`${at}.networks.${n}.${k}`, k === 'aliases' ? 'not supported: services are reached by their own name only' : 'not supported');
      }
    }
    for (const [i, l] of ((svc.links as string[] | undefined) ?? []).entries()) {
      const [target, alias] = l.split(':');
      if (alias && alias !== target) warn(`${at}.links[${i}]`, `alias ${alias}: not supported: reach ${target} by its name`);
    }

    // depends_on
    const deps = Array.isArray(svc.depends_on) ? Object.fromEntries((svc.depends_on as string[]).map((d) => [d, { condition: 'service_started' }])) : isObj(svc.depends_on) ? svc.depends_on : {};
    const after: string[] = [];
    const waitFor: string[] = [];
    for (const [dep, raw] of Object.entries(deps)) {
      const d = isObj(raw) ? raw : {};
      const where = `${at}.depends_on.${dep}`;
      if (!names.has(dep)) {
        if (d.required === false) continue;
        throw invalid(where, dep in allServices ? `${dep} is not active (its profiles are not enabled)` : `no service named ${dep}`);
      }
      const condition = d.condition ?? 'service_started';
      if (condition === 'service_completed_successfully') throw refuse(`${where}.condition`, 'service_completed_successfully: Skiff services run until stopped; run a one-off task as a job (skiff job create / run --wait) before compose up');
      if (d.restart === true) warn(`${where}.restart`, 'not supported');
      after.push(dep);
      if (condition === 'service_healthy') waitFor.push(dep);
    }

    // labels: the project's two, and the file's own when Skiff can keep them
    const kept: Record<string, string> = {};
    for (const [k, v] of Object.entries(labels)) {
      if (k === 'skiff.protocol') continue;
      if (k.startsWith('com.docker.compose.')) warn(`${at}.labels.${k}`, 'reserved for Compose: not kept');
      else if (LABEL_KEY_RE.test(k) && LABEL_VALUE_RE.test(v) && v.length <= 63) kept[k] = v;
      else warn(`${at}.labels.${k}`, 'not kept: Skiff labels follow Kubernetes\' rules (a value of at most 63 letters, digits, -, _, .)');
    }
    doc.labels = { ...kept, [PROJECT_LABEL]: project, [SERVICE_LABEL]: name };
    planned.push({ name, document: doc as DeployDocument, after, waitFor, ...(sourceImage !== undefined ? { sourceImage } : {}) });
  }

  if (usedNetworks.size > 1) warn('networks', `${[...usedNetworks].sort().join(', ')}: not isolated from one another: every service of the project (and of the tenant) reaches every other by name`);
  const networkDefs = isObj(model.networks) ? model.networks : {};
  for (const [n, def] of Object.entries(networkDefs)) {
    if (isObj(def)) for (const k of Object.keys(def)) if (!k.startsWith('x-')) warn(`networks.${n}.${k}`, 'not supported');
  }

  return { project, volumes: [...volumes.values()], secrets, builds, services: deployOrder(planned), warnings };
}

/** Services ordered so each comes after what it depends on (file order otherwise); a cycle is
 *  COMPOSE_INVALID naming it. */
function deployOrder(services: PlannedService[]): PlannedService[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const out: PlannedService[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (s: PlannedService, trail: string[]) => {
    if (state.get(s.name) === 'done') return;
    if (state.get(s.name) === 'visiting') throw invalid(`services.${s.name}.depends_on`, `a dependency cycle: ${[...trail.slice(trail.indexOf(s.name)), s.name].join(' → ')}`);
    state.set(s.name, 'visiting');
    for (const d of s.after) visit(byName.get(d)!, [...trail, s.name]);
    state.set(s.name, 'done');
    out.push(s);
  };
  for (const s of services) visit(s, []);
  return out;
}

/** `environment:` / build `args:` as a map or a list; `KEY` without a value takes the environment's
 *  (and is left out when unset, as compose does). */
function keyValues(v: unknown, env: Variables): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(v)) {
    for (const item of v as string[]) {
      const eq = item.indexOf('=');
      if (eq >= 0) out[item.slice(0, eq)] = item.slice(eq + 1);
      else if (env[item] !== undefined) out[item] = env[item]!;
    }
  } else if (isObj(v)) {
    for (const [k, val] of Object.entries(v)) {
      if (val === null || val === undefined) {
        if (env[k] !== undefined) out[k] = env[k]!;
      } else out[k] = String(val);
    }
  }
  return out;
}

function rawEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** An image reference as the file names it → Skiff's repository:tag (or @digest): the registry host
 *  (Skiff's own, docker.io, any other) and library/ are dropped. */
export function skiffImage(ref: string, where: string): string {
  let r = ref.trim();
  const first = r.split('/')[0]!;
  const hasHost = r.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  // Skiff's own host, docker.io, or another registry's: the same name in Skiff's registry (compose up
  // checks it is there, or pushes it from a local builder's store, before deploying anything)
  if (hasHost) r = r.slice(first.length + 1);
  if (r.startsWith('library/')) r = r.slice('library/'.length);
  const at = r.indexOf('@');
  const name = at >= 0 ? r.slice(0, at) : r.lastIndexOf(':') > r.lastIndexOf('/') ? r.slice(0, r.lastIndexOf(':')) : r;
  if (name !== name.toLowerCase() || !/^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/.test(name)) throw invalid(where, `${JSON.stringify(ref)} is not an image reference`);
  return at >= 0 || r.lastIndexOf(':') > r.lastIndexOf('/') ? r : `${r}:latest`;
}

interface Mount {
  type: string;
  source?: string;
  target: string;
  readOnly: boolean;
  subpath?: string;
  ignored: string[];
}

/** A service `volumes:` entry, short (`SRC:DST[:MODE]`) or long syntax. */
function volumeMount(v: unknown, where: string): Mount {
  if (typeof v === 'string') {
    const parts = v.split(':');
    if (parts.length === 1) return { type: 'volume', target: parts[0]!, readOnly: false, ignored: [] };
    const [source, target, mode = ''] = parts as [string, string, string?];
    const opts = mode.split(',').filter(Boolean);
    const bind = /^[./~]/.test(source) || source.includes('/');
    return { type: bind ? 'bind' : 'volume', source, target, readOnly: opts.includes('ro'), ignored: opts.filter((o) => !['ro', 'rw'].includes(o)) };
  }
  const o = v as { type?: string; source?: string; target?: string; read_only?: boolean; volume?: { subpath?: string; nocopy?: boolean }; bind?: unknown; tmpfs?: unknown; consistency?: string };
  if (!o.target) throw invalid(where, 'needs target:');
  const ignored = [...(o.volume?.nocopy ? ['volume.nocopy'] : []), ...(o.consistency ? ['consistency'] : [])];
  return { type: o.type ?? 'volume', ...(o.source ? { source: o.source } : {}), target: o.target, readOnly: o.read_only === true, ...(o.volume?.subpath ? { subpath: o.volume.subpath } : {}), ignored };
}

/**
 * A healthcheck → the readiness probe. A `CMD`/`CMD-SHELL` test that runs curl or wget against
 * http://localhost[:PORT]/path becomes an HTTP probe of that path; any other test becomes Skiff's TCP
 * probe of the service's port, reported. interval → period, timeout → timeout, retries → failureThreshold.
 */
function readiness(h: Obj, where: string, doc: Partial<DeployDocument>, protocol: 'http' | 'tcp', warn: (w: string, m: string) => void): void {
  const test = h.test;
  const argv = typeof test === 'string' ? ['CMD-SHELL', test] : Array.isArray(test) ? (test as string[]) : [];
  if (h.disable === true || argv[0] === 'NONE') {
    warn(`${where}`, `disabled: Skiff still probes TCP port ${doc.port ?? 8080} before sending traffic`);
    return;
  }
  const probe: NonNullable<DeployDocument['readiness']> = {};
  if (h.interval !== undefined) probe.period = skiffDuration(composeDuration(h.interval as string, `${where}.interval`));
  if (h.timeout !== undefined) probe.timeout = skiffDuration(composeDuration(h.timeout as string, `${where}.timeout`));
  if (h.retries !== undefined) probe.failureThreshold = Math.min(100, Math.max(1, Number(h.retries)));
  for (const k of ['start_period', 'start_interval']) if (h[k] !== undefined) warn(`${where}.${k}`, 'not supported: Skiff probes from the start, up to its readiness deadline (60 s)');
  const command = argv[0] === 'CMD' ? argv.slice(1).join(' ') : argv[0] === 'CMD-SHELL' ? argv.slice(1).join(' ') : argv.join(' ');
  const http = /\b(curl|wget)\b/.test(command) ? /\bhttp:\/\/(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::(\d+))?(\/[^\s'"|;&)]*)?/.exec(command) : null;
  if (http && protocol === 'http') {
    probe.path = http[2] ?? '/';
    const port = http[1] !== undefined ? Number(http[1]) : 80;
    if (doc.port !== undefined && port !== doc.port) warn(`${where}.test`, `probes port ${port}, Skiff probes GET ${probe.path} on the service's port ${doc.port}`);
  } else {
    warn(`${where}.test`, `${JSON.stringify(command.slice(0, 80))} is not run: Skiff probes TCP port ${doc.port ?? 8080} instead (an HTTP check is one that runs curl or wget on http://localhost[:PORT]/path)`);
  }
  doc.readiness = probe;
}
