// cli/compose: `skiff compose up | ps | logs | down` — a Docker Compose file deployed as it is
// (docs/compose.md). The mapping is cli/compose/plan.ts (pure); this file does the effects through the
// API client: volumes, secrets, local builds pushed to Skiff's registry, deploys in dependency order,
// waits. A service belongs to a project by its labels com.docker.compose.project/.service.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { clientFrom } from './context.ts';
import { print, withOutput, type OutputFlags } from './output.ts';
import { collect } from './flags.ts';
import { SkiffError } from '../core/errors.ts';
import type { ServiceView } from '../core/views.ts';
import type { SkiffClient } from '../api/client.ts';
import { loadCompose, type LoadedCompose } from './compose/load.ts';
import { PROJECT_LABEL, SERVICE_LABEL, planCompose, type ComposePlan, type PlannedService } from './compose/plan.ts';
import { dnsName } from './compose/words.ts';
import { buildArchive, findBuilder, localImageArchive } from './compose/builder.ts';
import { planPush } from './push/planner.ts';
import { pushImage } from './push/uploader.ts';

/** Set by compose up: what the service was deployed from (docker compose's own label name). */
const HASH_LABEL = 'com.docker.compose.config-hash';

const out = (text: string) => process.stdout.write(text + '\n');
const warnLine = (text: string) => process.stderr.write(`skiff: warning: ${text}\n`);

interface FileFlags {
  file?: string;
  projectName?: string;
  profile: string[];
}

function fileFlags(c: Command): Command {
  return c
    .option('-f, --file <file>', 'the Compose file (default: compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml here or in a parent directory)')
    .option('-p, --project-name <name>', 'the project name (default: the file\'s top-level name:, else its directory\'s name)')
    .option('--profile <name>', 'enable services of this profile (repeatable; also COMPOSE_PROFILES)', collect, []);
}

async function load(f: FileFlags): Promise<LoadedCompose> {
  const loaded = await loadCompose({ file: f.file, project: f.projectName });
  for (const v of loaded.unset) warnLine(`the ${JSON.stringify(v)} variable is not set: defaulting to a blank string`);
  return loaded;
}

function plan(loaded: LoadedCompose, f: FileFlags): ComposePlan {
  return planCompose({
    model: loaded.model,
    project: loaded.project,
    dir: loaded.dir,
    env: loaded.env,
    profiles: [...loaded.profiles, ...f.profile],
    readFile: (file) => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return undefined;
      }
    },
  });
}

/** The project's name: -p, else the Compose file's (a file is then needed). */
async function projectOf(f: FileFlags): Promise<{ project: string; loaded?: LoadedCompose }> {
  if (f.projectName !== undefined && f.file === undefined) {
    try {
      const loaded = await loadCompose({ project: f.projectName });
      return { project: f.projectName, loaded };
    } catch {
      return { project: f.projectName };
    }
  }
  const loaded = await load(f);
  return { project: loaded.project, loaded };
}

const projectOfService = (s: ServiceView) => s.labels?.[PROJECT_LABEL];
const latestConfig = (s: ServiceView) => s.revisions.find((r) => r.name === s.latestRevision)?.config ?? s.revisions[0]?.config;

async function projectServices(client: SkiffClient, project: string): Promise<ServiceView[]> {
  return (await client.listServices()).services.filter((s) => projectOfService(s) === project);
}

/** The digest of `ref` (repo:tag or repo@digest) in Skiff's registry; undefined when it has no such image. */
async function registryDigest(client: SkiffClient, ref: string): Promise<string | undefined> {
  const at = ref.indexOf('@');
  const colon = ref.lastIndexOf(':');
  const [repo, reference] = at >= 0 ? [ref.slice(0, at), ref.slice(at + 1)] : [ref.slice(0, colon), ref.slice(colon + 1)];
  const res = await fetch(new URL(`/v2/${repo}/manifests/${reference}`, client.options.baseUrl), {
    method: 'HEAD',
    headers: { authorization: client.authHeader, accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json' },
  }).catch((err: Error) => {
    throw new SkiffError('UNAVAILABLE', `cannot reach Skiff's registry at ${client.options.baseUrl}: ${err.message}`);
  });
  if (res.status === 401) throw new SkiffError('UNAUTHORIZED', 'the registry refused the token');
  return res.ok ? (res.headers.get('docker-content-digest') ?? (at >= 0 ? reference : 'unknown')) : undefined;
}

/** What a service is deployed from — its document, image digest and file contents — as a label value:
 *  an HMAC keyed with the API token, so the label says whether anything changed without letting anyone
 *  who reads labels test guesses of a secret's value. */
function configHash(token: string, s: PlannedService, digest: string, files: Record<string, Record<string, string>>): string {
  return createHmac('sha256', token).update(JSON.stringify({ document: s.document, digest, files })).digest('hex').slice(0, 48);
}

/** A planned secret's values: its files read, its variables looked up. */
function secretData(sec: ComposePlan['secrets'][number], loaded: LoadedCompose): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [key, src] of Object.entries(sec.data)) {
    if ('file' in src) {
      try {
        data[key] = readFileSync(src.file, 'utf8');
      } catch (err) {
        throw new SkiffError('COMPOSE_INVALID', `services.${sec.service}: the file of ${key}, ${src.file}, cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    } else if ('env' in src) {
      const v = loaded.env[src.env];
      if (v === undefined) throw new SkiffError('COMPOSE_INVALID', `services.${sec.service}: ${key} comes from the environment variable ${src.env}, which is not set`);
      data[key] = v;
    } else data[key] = src.content;
  }
  return data;
}

async function pushArchive(client: SkiffClient, archive: string, image: string): Promise<string> {
  const colon = image.lastIndexOf(':');
  const [repo, tag] = [image.slice(0, colon), image.slice(colon + 1)];
  const p = await planPush(archive, undefined);
  try {
    const r = await pushImage(client, repo, tag, p, {});
    return r.digest;
  } finally {
    await p.dispose?.();
  }
}

/** Waits until an instance of the service's latest revision has been ready; the cause when it cannot start. */
async function waitReady(client: SkiffClient, name: string, revision: string, timeoutMs = 150_000): Promise<void> {
  const start = Date.now();
  for (;;) {
    const svc = await client.service(name);
    const rev = svc.revisions.find((r) => r.name === revision);
    if (rev?.status.started || rev?.instances.some((i) => i.phase === 'ready')) return;
    const st = rev?.status;
    if (st && (st.failures >= 2 || (st.failures >= 1 && / (not ready after|is not reachable:) /.test(st.lastFailure ?? '')))) {
      throw new SkiffError('REVISION_FAILED', `${revision} cannot start: ${st.lastFailure} (skiff compose logs; skiff describe ${name})`);
    }
    if (Date.now() - start > timeoutMs) throw new SkiffError('UNAVAILABLE', `${revision} not ready after ${timeoutMs / 1000}s; see \`skiff describe ${name}\``);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stateOf(s: ServiceView): string {
  const rev = s.revisions.find((r) => r.name === s.servingRevision) ?? s.revisions[0];
  const ready = s.revisions.reduce((a, r) => a + r.instances.filter((i) => i.phase === 'ready').length, 0);
  if (rev && rev.status.failures > 0) return `crash loop (${rev.status.failures})`;
  if (ready > 0) return `running (${ready})`;
  const starting = s.revisions.reduce((a, r) => a + r.instances.length, 0);
  return starting > 0 ? 'starting' : 'scaled to zero';
}

function addressOf(s: ServiceView): string {
  const c = latestConfig(s);
  if (c?.protocol === 'tcp') return `tcp ${s.name}:${c.port} (internal)`;
  if (c?.ingress === 'internal') return `http://${s.name}/ (internal)`;
  return s.url;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

async function up(program: Command, f: FileFlags & { build: boolean; wait: boolean; removeOrphans?: boolean; forceRecreate?: boolean }): Promise<void> {
  const loaded = await load(f);
  const p = plan(loaded, f);
  for (const w of p.warnings) warnLine(w);
  const client = clientFrom(program);

  // 1. refuse names that belong to someone else, before any change
  const existing = new Map((await client.listServices()).services.map((s) => [s.name, s]));
  for (const s of p.services) {
    const other = existing.get(s.name);
    if (other && projectOfService(other) !== p.project) {
      const owner = projectOfService(other);
      throw new SkiffError('CONFLICT', `services.${s.name}: a service named ${s.name} already exists and belongs to ${owner ? `Compose project ${owner}` : 'no Compose project'}: remove it (${owner ? `skiff compose down -p ${owner}` : `skiff rm ${s.name}`}) or rename the service in the file`);
    }
  }

  // 2. images: builds, then every image the services name must be in Skiff's registry
  const digests = new Map<string, string>();
  const toBuild = f.build ? p.builds : [];
  if (toBuild.length) {
    const builder = await findBuilder();
    if (!builder) {
      throw new SkiffError('COMPOSE_UNSUPPORTED', `${toBuild.map((b) => `services.${b.service}.build`).join(', ')}: no local image builder: install docker (with its daemon running), podman or buildah, or build and push the image yourself (skiff push) and name it with image:`);
    }
    for (const b of toBuild) {
      out(`building  ${b.service} (${builder}) …`);
      const built = await buildArchive(builder, b);
      try {
        const digest = await pushArchive(client, built.archive, b.image);
        digests.set(b.service, digest);
        out(`pushed    ${b.image} ${digest}`);
      } finally {
        built.dispose();
      }
    }
  }
  for (const s of p.services) {
    if (digests.has(s.name)) continue;
    const digest = await registryDigest(client, s.document.image);
    if (digest) {
      digests.set(s.name, digest);
      continue;
    }
    if (!f.build && p.builds.some((b) => b.service === s.name)) throw new SkiffError('MANIFEST_UNKNOWN', `services.${s.name}.build: --no-build, and its image ${s.document.image} is not in Skiff's registry yet`);
    const local = s.sourceImage !== undefined ? await localImageArchive(s.sourceImage) : undefined;
    if (!local) {
      throw new SkiffError('MANIFEST_UNKNOWN', `services.${s.name}.image: ${s.sourceImage ?? s.document.image} is not in Skiff's registry (as ${s.document.image}) nor in a local builder's images: push it first (skiff push, docker/podman push to Skiff's registry) or give the service a build:`);
    }
    try {
      out(`pushing   ${s.sourceImage} from ${local.builder} …`);
      const digest = await pushArchive(client, local.archive, s.document.image);
      digests.set(s.name, digest);
      out(`pushed    ${s.document.image} ${digest}`);
    } finally {
      local.dispose();
    }
  }

  // what changed: a service whose document, image and files are those it was deployed with is left alone
  const filesOf = new Map<string, Record<string, Record<string, string>>>();
  for (const sec of p.secrets) filesOf.set(sec.service, { ...filesOf.get(sec.service), [sec.name]: secretData(sec, loaded) });
  const unchanged = new Set<string>();
  for (const s of p.services) {
    const hash = configHash(client.options.token, s, digests.get(s.name)!, filesOf.get(s.name) ?? {});
    s.document.labels = { ...s.document.labels, [HASH_LABEL]: hash };
    const have = existing.get(s.name);
    const latest = have?.revisions.find((r) => r.name === have.latestRevision);
    if (!f.forceRecreate && have?.labels?.[HASH_LABEL] === hash && latest && latest.status.failures === 0 && have.servingRevision === have.latestRevision) unchanged.add(s.name);
  }

  // 3. volumes
  const volumes = new Map((await client.listVolumes()).volumes.map((v) => [v.name, v]));
  for (const v of p.volumes) {
    const have = volumes.get(v.name);
    if (v.external) {
      if (!have) throw new SkiffError('NOT_FOUND', `volumes.${v.compose}: external volume ${v.name} does not exist: skiff volume create ${v.name}`);
      continue;
    }
    if (have) continue;
    const made = await client.createVolume({ name: v.name, ...(v.size !== undefined ? { size: v.size } : {}), ...(v.shared ? { shared: true } : {}) });
    out(`volume    ${made.name} created (${Math.round(made.sizeBytes / 1024 ** 2)}Mi${made.shared ? ', shared' : ''})`);
  }

  // 4. secrets: one per directory of files a service gets (a new version only for a service redeployed)
  for (const sec of p.secrets) {
    if (unchanged.has(sec.service)) continue;
    const made = await client.setSecret(sec.name, { data: filesOf.get(sec.service)![sec.name]! });
    out(`secret    ${made.name} version ${made.version} (${made.keys.join(', ')})`);
  }

  // 5. deploys, in dependency order; a service_healthy dependency is ready before its dependents deploy
  const deployed = new Map<string, string>();
  const ready = new Set<string>();
  const ensureReady = async (name: string) => {
    if (ready.has(name)) return;
    await waitReady(client, name, deployed.get(name)!);
    ready.add(name);
    out(`ready     ${name}`);
  };
  for (const s of p.services) {
    if (unchanged.has(s.name)) {
      // it was ready when deployed, and nothing about it changed
      ready.add(s.name);
      out(`unchanged ${s.name} ${existing.get(s.name)!.latestRevision}`);
      continue;
    }
    for (const d of s.waitFor) await ensureReady(d);
    // verify: one instance starts now whatever the min scale (and must be ready: --no-wait skips that,
    // except for a service another one waits for)
    const r = await client.deploy(s.document, { verify: f.wait || p.services.some((x) => x.waitFor.includes(s.name)) });
    deployed.set(s.name, r.revision);
    out(`deployed  ${s.name} ${r.revision}`);
  }
  if (f.wait) for (const s of p.services) await ensureReady(s.name);

  // 6. services of the project the file no longer has
  const orphans = [...existing.values()].filter((s) => projectOfService(s) === p.project && !p.services.some((x) => x.name === s.name));
  for (const o of orphans) {
    if (f.removeOrphans) {
      await client.deleteService(o.name);
      out(`removed   ${o.name} (orphan)`);
    } else warnLine(`service ${o.name} of project ${p.project} is not in the file any more: skiff compose up --remove-orphans removes it`);
  }
  const now = await projectServices(client, p.project);
  out('');
  out(table([['SERVICE', 'STATE', 'ADDRESS'], ...orderBy(now, p.services).map((s) => [s.name, stateOf(s), addressOf(s)])]));
}

function orderBy(services: ServiceView[], order: PlannedService[]): ServiceView[] {
  const rank = (n: string) => {
    const i = order.findIndex((s) => s.name === n);
    return i < 0 ? order.length : i;
  };
  return [...services].sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}

async function down(program: Command, f: FileFlags & { volumes?: boolean }): Promise<void> {
  const { project, loaded } = await projectOf(f);
  const p = loaded ? plan(loaded, f) : undefined;
  const client = clientFrom(program);
  const services = await projectServices(client, project);
  // dependents first
  const ordered = p ? orderBy(services, p.services).reverse() : services;
  const secretNames = new Set<string>();
  const volumeNames = new Set<string>();
  const prefix = dnsName(project) + '-';
  for (const s of ordered) {
    for (const r of s.revisions) {
      for (const m of r.config.secrets?.mounts ?? []) if (m.secret.startsWith(prefix)) secretNames.add(m.secret);
      for (const v of r.config.volumes ?? []) if (v.volume.startsWith(prefix)) volumeNames.add(v.volume);
    }
    await client.deleteService(s.name);
    out(`removed   ${s.name}`);
  }
  for (const s of p?.secrets ?? []) secretNames.add(s.name);
  await removeEach('secret', secretNames, (name) => client.deleteSecret(name));
  if (f.volumes) {
    for (const v of p?.volumes ?? []) if (!v.external) volumeNames.add(v.name);
    for (const v of p?.volumes ?? []) if (v.external) volumeNames.delete(v.name);
    await removeEach('volume', volumeNames, (name) => client.deleteVolume(name));
  }
  if (!services.length) out(`project ${project} has no services`);
}

/** Removes each of `names` in turn, saying so; one already gone (NOT_FOUND) is passed over. */
async function removeEach(kind: string, names: Iterable<string>, remove: (name: string) => Promise<unknown>): Promise<void> {
  for (const name of names) {
    try {
      await remove(name);
      out(`removed   ${kind} ${name}`);
    } catch (err) {
      if (!(err instanceof SkiffError && err.code === 'NOT_FOUND')) throw err;
    }
  }
}

async function logs(program: Command, f: FileFlags & { follow?: boolean; tail?: string; since?: string }): Promise<void> {
  const { project } = await projectOf(f);
  const client = clientFrom(program);
  const services = await projectServices(client, project);
  if (!services.length) throw new SkiffError('NOT_FOUND', `project ${project} has no services`);
  const width = Math.max(...services.map((s) => s.name.length));
  const tail = f.tail !== undefined ? Number(f.tail) : undefined;
  if (tail !== undefined && (!Number.isSafeInteger(tail) || tail < 0)) throw new SkiffError('BAD_REQUEST', `--tail: expected a non-negative integer, got ${JSON.stringify(f.tail)}`);
  await Promise.all(
    services.map(async (s) => {
      let pending = '';
      const prefix = `${s.name.padEnd(width)} | `;
      await client.logs(s.name, { follow: f.follow, since: f.since, tail }, (text) => {
        const lines = (pending + text).split('\n');
        pending = lines.pop()!;
        if (lines.length) process.stdout.write(lines.map((l) => prefix + l + '\n').join(''));
      });
      if (pending) process.stdout.write(prefix + pending + '\n');
    }),
  );
}

export function registerCompose(program: Command): void {
  const compose = program.command('compose').description('run a Docker Compose file on Skiff: each Compose service a Skiff service (docs/compose.md)');
  fileFlags(compose.command('up').description('create or update the project\'s volumes, secrets, images and services, in dependency order, and wait until they are ready'))
    .option('--no-build', 'do not build: services with build: use the image compose up pushed before')
    .option('--no-wait', 'do not wait for the services to be ready (a service_healthy dependency is still waited for)')
    .option('--remove-orphans', 'remove services of the project that the file no longer has')
    .option('--force-recreate', 'redeploy every service, changed or not')
    .action((f: FileFlags & { build: boolean; wait: boolean; removeOrphans?: boolean; forceRecreate?: boolean }) => up(program, f));
  withOutput(fileFlags(compose.command('ps').description('the project\'s services: state and address'))).action(async (f: FileFlags & OutputFlags) => {
    const { project, loaded } = await projectOf(f);
    const services = await projectServices(clientFrom(program), project);
    const order = loaded ? plan(loaded, f).services : [];
    const sorted = orderBy(services, order);
    await print(f, { project, services: sorted }, () =>
      table([['SERVICE', 'STATE', 'REVISION', 'ADDRESS'], ...sorted.map((s) => [s.labels?.[SERVICE_LABEL] ?? s.name, stateOf(s), s.servingRevision, addressOf(s)])]),
    );
  });
  fileFlags(compose.command('logs').description('every service\'s logs, each line prefixed with its service'))
    .option('--follow', 'keep streaming new lines')
    .option('--tail <n>', 'only the last n lines per instance')
    .option('--since <duration>', 'only lines newer than this long ago, e.g. 30m')
    .action((f: FileFlags & { follow?: boolean; tail?: string; since?: string }) => logs(program, f));
  fileFlags(compose.command('down').description('remove the project\'s services and the secrets compose up made for them'))
    .option('-v, --volumes', 'also remove the project\'s volumes (not external ones), with their data')
    .action((f: FileFlags & { volumes?: boolean }) => down(program, f));
}
