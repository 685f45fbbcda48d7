// cli/services: `skiff deploy | ls | describe | logs | scale | prewarm | traffic | rollback | rm`.
// Every command goes through the API client; output is for people (tables, short progress lines).
import { deviceRequestText, parseDeviceRequests } from '../core/devices.ts';
import { normalisePlacement, placementText } from '../core/placement.ts';
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { clientFrom } from './context.ts';
import { print, withOutput, type OutputFlags } from './output.ts';
import { SkiffError } from '../core/errors.ts';
import { mergePatch } from '../core/merge-patch.ts';
import type { DeployDocument, DeployPatch } from '../core/documents.ts';
import type { DeployResult, RevisionConfig } from '../core/views.ts';
import type { ServiceView } from '../core/views.ts';
import type { SkiffClient } from '../api/client.ts';
import type { DeployOptions } from '../api/ports.ts';
import { assertTrafficTag } from '../core/names.ts';
import { OPTIONAL_CAPABILITIES, type OptionalCapability } from '../core/capabilities.ts';
import { parseVolumeFlag } from '../core/volumes.ts';
import { collect } from './flags.ts';

/** `--env` values for an update: `K=V` sets K, `K-` removes it (as `kn service update --env K-`). */
export function envPatch(pairs: string[]): Record<string, string | null> {
  const env: Record<string, string | null> = {};
  for (const p of pairs) {
    if (/^[A-Za-z_][A-Za-z0-9_]*-$/.test(p)) env[p.slice(0, -1)] = null;
    else Object.assign(env, envPairs([p]));
  }
  return env;
}

export function envPairs(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new SkiffError('BAD_REQUEST', `--env expects K=V (or K- to remove K in an update), got ${JSON.stringify(p)}`);
    env[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return env;
}

/** A flag's non-negative integer; an error naming the flag otherwise. */
function int(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < 0) throw new SkiffError('BAD_REQUEST', `${flag}: expected a non-negative integer, got ${JSON.stringify(value)}`);
  return n;
}

interface DeployFlags {
  file?: string;
  image?: string;
  port?: string;
  env: string[];
  memory?: string;
  cpu?: string;
  /** `skiff run`'s spelling, accepted here too */
  cpus?: string;
  disk?: string;
  capAdd: string[];
  ingress?: string;
  protocol?: string;
  envFromSecret: string[];
  secretEnv: string[];
  secretMount: string[];
  /** `NAME:/path[:ro]`, repeatable (absent when a test builds flags by hand) */
  volume?: string[];
  /** `/dev/PATH[:rwm]` or `vendor/class=name`, repeatable */
  device?: string[];
  gpu?: string;
  /** Swarm placement constraints (`node.labels.zone==edge`), repeatable (absent when a test builds flags by hand) */
  placement?: string[];
  /** spread preferences (`node.labels.zone`), repeatable */
  spread?: string[];
  /** --clear-placement: remove both lists (an update) */
  clearPlacement?: boolean;
  /** --cpu-always / --no-cpu-always */
  cpuAlways?: boolean;
  /** --cpu-throttling / --no-cpu-throttling (Cloud Run's spelling of the same, inverted) */
  cpuThrottling?: boolean;
  /** --billing request|instance */
  billing?: string;
  min?: string;
  max?: string;
  concurrency?: string;
  timeout?: string;
  wait: boolean;
  /** commander's --no-traffic: false when given */
  traffic: boolean;
  tag?: string;
}

function oneOf<T extends string>(value: string, flag: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new SkiffError('BAD_REQUEST', `${flag}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

/** `--cap-add` values: `NET_RAW` or `CAP_NET_RAW`, any case, as docker accepts them. */
export function capabilities(values: string[]): OptionalCapability[] {
  return [...new Set(values.map((v) => {
    const name = v.toUpperCase().replace(/^CAP_/, '');
    if (!(OPTIONAL_CAPABILITIES as readonly string[]).includes(name)) throw new SkiffError('BAD_REQUEST', `--cap-add: ${JSON.stringify(v)} is not one of ${OPTIONAL_CAPABILITIES.join(', ')}`);
    return name as OptionalCapability;
  }))];
}

/** The -f file as deploy fields; a file that cannot be read or parsed is BAD_REQUEST naming it. */
export async function readDeployFile(file: string): Promise<Partial<DeployDocument>> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SkiffError('BAD_REQUEST', `-f ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  // yaml loads only here: no other command needs it, and it costs every start ~40 ms
  const { default: YAML } = await import('yaml');
  let parsed: unknown;
  try {
    parsed = YAML.parse(text);
  } catch (err) {
    throw new SkiffError('BAD_REQUEST', `-f ${file}: not valid YAML: ${(err as Error).message.split('\n')[0]!.replace(/:$/, '')}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SkiffError('BAD_REQUEST', `-f ${file}: expected a mapping of deploy fields (name, image, port, env, …)`);
  }
  return parsed as Partial<DeployDocument>;
}

/** Builds the deploy document from the -f file's fields and/or flags: the flags merged onto the file,
 *  as an update merges them onto a revision (K- is not allowed here: there is nothing to remove). */
export function deployDocument(name: string | undefined, f: DeployFlags, fromFile: Partial<DeployDocument> = {}): DeployDocument {
  const doc: Partial<DeployDocument> = mergePatch(fromFile, patchFromFlags(f, { removals: false }));
  if (name) doc.name = name;
  if (!doc.name) throw new SkiffError('BAD_REQUEST', 'a service name is required (argument or `name:` in the file)');
  if (!doc.image) throw new SkiffError('BAD_REQUEST', '--image (or `image:` in the file) is required');
  return doc as DeployDocument;
}

/** What the flags state, as a JSON merge patch: only the fields given. `removals`: `--env K-` removes
 *  K (an update); without, only K=V is accepted. */
export function patchFromFlags(f: DeployFlags, opts: { removals: boolean } = { removals: true }): DeployPatch {
  if (f.cpu !== undefined && f.cpus !== undefined) throw new SkiffError('USAGE', '--cpu and --cpus are the same flag: give one');
  const cpu = f.cpu ?? f.cpus;
  if (f.tag !== undefined) assertTrafficTag('', f.tag, '--tag'); // its length with the service's name: the daemon checks
  const patch: DeployPatch = {};
  if (f.image) patch.image = f.image;
  if (f.port) patch.port = int(f.port, '--port');
  if (f.env.length) patch.env = opts.removals ? envPatch(f.env) : envPairs(f.env);
  if (f.memory || cpu || f.disk) patch.resources = { ...(f.memory ? { memory: f.memory } : {}), ...(cpu ? { cpu } : {}), ...(f.disk ? { disk: f.disk } : {}) };
  if (f.capAdd.length) patch.capabilities = capabilities(f.capAdd);
  if (f.ingress !== undefined) patch.ingress = oneOf(f.ingress, '--ingress', ['all', 'internal'] as const);
  if (f.protocol !== undefined) patch.protocol = oneOf(f.protocol, '--protocol', ['http', 'tcp'] as const);
  if (f.volume?.length) patch.volumes = f.volume.map(parseVolumeFlag);
  if (f.device?.length) patch.devices = parseDeviceRequests(f.device, '--device').map(deviceRequestText);
  if (f.gpu !== undefined) patch.gpus = int(f.gpu, '--gpu');
  const placement = placementPatch(f);
  if (placement !== undefined) patch.placement = placement;
  if (f.cpuAlways !== undefined && f.cpuThrottling !== undefined && f.cpuAlways === f.cpuThrottling) throw new SkiffError('USAGE', '--cpu-always and --cpu-throttling contradict each other (--no-cpu-throttling is --cpu-always)');
  if (f.cpuAlways !== undefined) patch.cpuAlways = f.cpuAlways;
  else if (f.cpuThrottling !== undefined) patch.cpuAlways = !f.cpuThrottling;
  if (f.billing !== undefined) patch.billing = oneOf(f.billing, '--billing', ['request', 'instance'] as const);
  const secrets = secretsPatch(f, opts.removals);
  if (secrets) patch.secrets = secrets;
  if (f.timeout) patch.timeout = f.timeout;
  const scaling: NonNullable<DeployPatch['scaling']> = {};
  if (f.min) scaling.min = int(f.min, '--min');
  if (f.max) scaling.max = int(f.max, '--max');
  if (f.concurrency) scaling.concurrency = int(f.concurrency, '--concurrency');
  if (Object.keys(scaling).length) patch.scaling = scaling;
  return patch;
}

/** The placement flags as the document's `placement` patch; undefined when none is given. Each list
 *  given replaces the one before (as --volume, --device); the other carries over. --clear-placement
 *  removes both, or, with --placement/--spread, the one not given. `--spread spread=node.labels.zone`
 *  (docker service create --placement-pref's spelling) is taken too. */
export function placementPatch(f: Pick<DeployFlags, 'placement' | 'spread' | 'clearPlacement'>): DeployPatch['placement'] | undefined {
  const constraints = f.placement ?? [];
  const spread = (f.spread ?? []).map((s) => s.replace(/^spread=/, ''));
  const p = normalisePlacement({ constraints, spread }, 'placement', { constraints: '--placement', spread: '--spread' });
  if (!f.clearPlacement) return p;
  if (!p) return null;
  return { constraints: p.constraints ?? null, spread: p.spread ?? null };
}

/** `NAME` or `NAME@VERSION` of a secret flag. */
function secretRef(text: string, flag: string, whole: string): { secret: string; version?: number } {
  const m = /^([a-z0-9][a-z0-9-]*)(?:@(\d+))?$/.exec(text);
  if (!m) throw new SkiffError('BAD_REQUEST', `${flag}: expected a secret name (or NAME@VERSION), got ${JSON.stringify(whole)}`);
  return { secret: m[1]!, ...(m[2] !== undefined ? { version: Number(m[2]) } : {}) };
}

/** The secret flags as the document's `secrets` patch; undefined when none is given. `removals`:
 *  `--secret-env VAR-` and `--secret-mount /path-` remove one (an update). */
export function secretsPatch(f: Pick<DeployFlags, 'envFromSecret' | 'secretEnv' | 'secretMount'>, removals: boolean): DeployPatch['secrets'] {
  if (!f.envFromSecret.length && !f.secretEnv.length && !f.secretMount.length) return undefined;
  const out: NonNullable<DeployPatch['secrets']> = {};
  if (f.envFromSecret.length) out.envFrom = f.envFromSecret.map((v) => secretRef(v, '--env-from-secret', v));
  const env: Record<string, { secret: string; version?: number; key: string } | null> = {};
  for (const v of f.secretEnv) {
    if (removals && /^[A-Za-z_][A-Za-z0-9_]*-$/.test(v)) {
      env[v.slice(0, -1)] = null;
      continue;
    }
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=([^:]+):(.+)$/.exec(v);
    if (!m) throw new SkiffError('BAD_REQUEST', `--secret-env expects VAR=NAME:KEY${removals ? ' (or VAR- to remove VAR in an update)' : ''}, got ${JSON.stringify(v)}`);
    env[m[1]!] = { ...secretRef(m[2]!, '--secret-env', v), key: m[3]! };
  }
  if (Object.keys(env).length) out.env = env;
  const mounts: Record<string, { secret: string; version?: number } | null> = {};
  for (const v of f.secretMount) {
    if (removals && /^\/.*-$/.test(v) && !v.includes(':')) {
      mounts[v.slice(0, -1)] = null;
      continue;
    }
    const colon = v.indexOf(':');
    if (colon <= 0 || !v.slice(colon + 1).startsWith('/')) throw new SkiffError('BAD_REQUEST', `--secret-mount expects NAME:/path${removals ? ' (or /path- to remove it in an update)' : ''}, got ${JSON.stringify(v)}`);
    mounts[v.slice(colon + 1)] = secretRef(v.slice(0, colon), '--secret-mount', v);
  }
  if (Object.keys(mounts).length) out.mounts = mounts;
  return out;
}

/** Sends a deploy or an update, says what it made, and waits for the min instances unless --no-wait. */
async function deployAndReport(program: Command, f: DeployFlags, send: (c: SkiffClient, opts: DeployOptions) => Promise<DeployResult>): Promise<void> {
  const client = clientFrom(program);
  line(`resolving ${f.image ?? (f.file ? 'the image' : 'the image (--image, or the digest the latest revision runs)')} …`);
  // verify: the daemon starts one instance of the new revision even with min 0, and we wait for it
  const r = await send(client, { verify: f.wait, ...(f.traffic ? {} : { noTraffic: true }), ...(f.tag !== undefined ? { tag: f.tag } : {}) });
  line(`pinned    ${r.imageDigest}`);
  line(`unpacked  ${r.layers.unpacked} of ${r.layers.total} layers (${r.layers.total - r.layers.unpacked} cached)`);
  line(`revision  ${r.revision}`);
  if (f.wait) {
    line('starting  …');
    const ms = await waitReady(client, r.service.name, r.revision, 150_000);
    line(`ready     in ${(ms / 1000).toFixed(1)}s${r.service.scaling.min === 0 ? ' (min 0: it goes again when idle)' : ''}`);
  } else if (r.service.scaling.min > 0 && f.traffic) {
    line(`starting  ${r.service.scaling.min} instance(s) in the background (--no-wait); \`skiff describe ${r.service.name}\` shows them`);
  } else {
    line('scaled to zero: the first request starts an instance');
  }
  if (!f.traffic) line(`traffic   unchanged (--no-traffic): ${trafficText(r.service.traffic)}`);
  const tagged = r.service.traffic.find((t) => t.tag !== undefined && t.tag === f.tag);
  if (tagged?.url) line(`tag url   ${tagged.url}   (${r.revision}, tag ${tagged.tag})`);
  line(`url       ${r.service.url}`);
  line(`          ${r.service.pathUrl}`);
}

/** `REV=90%  REV=10%  REV=0% (tag NAME)` */
function trafficText(traffic: ServiceView['traffic']): string {
  return traffic.map((t) => `${t.revision}=${t.percent}%${t.tag !== undefined ? ` (tag ${t.tag})` : ''}`).join('  ');
}

/** A revision's share: the percents of its entries (a tagged one may name it too). */
function shareOf(s: ServiceView, revision: string): number {
  return s.traffic.reduce((a, t) => a + (t.revision === revision ? t.percent : 0), 0);
}

function line(text: string): void {
  process.stdout.write(text + '\n');
}

/**
 * Waits for an instance of the revision to be ready. It fails with the cause once the revision is in a
 * crash loop: two failures in a row (one exit may be a fluke), or one readiness deadline (60 s spent
 * already; a second would double it), or one app listening where the gateway cannot reach it.
 */
async function waitReady(client: SkiffClient, name: string, revision: string, timeoutMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    const svc = await client.service(name);
    const rev = svc.revisions.find((r) => r.name === revision);
    // started: it may have been ready and gone to zero again between two looks
    if (rev?.status.started || rev?.instances.some((i) => i.phase === 'ready')) return Date.now() - start;
    const status = rev?.status;
    // a readiness deadline or a socket in the wrong place is a verdict at once; an exit may be a fluke
    if (status && (status.failures >= 2 || (status.failures >= 1 && / (not ready after|is not reachable:) /.test(status.lastFailure ?? '')))) {
      // revisions are newest first: the one deployed before this one keeps its traffic until this is ready
      const previous = svc.revisions[svc.revisions.findIndex((r) => r.name === revision) + 1];
      throw new SkiffError(
        'REVISION_FAILED',
        `${revision} cannot start: ${status.lastFailure}. ` +
          (previous ? `Requests stay with ${previous.name} until it is ready; ` : '') +
          `it is retried with back-off (skiff describe ${name}; skiff logs ${name} --revision ${revision})`,
      );
    }
    if (Date.now() - start > timeoutMs) throw new SkiffError('UNAVAILABLE', `${revision} not ready after ${timeoutMs / 1000}s; see \`skiff describe ${name}\``);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function keepAliveText(k: ServiceView['keepAlive']): string {
  const s = (ms: number) => `${+(ms / 1000).toFixed(1)}s`;
  return k.kind === 'histogram' ? `pre-warm ${s(k.preWarmMs ?? 0)}, then warm ${s(k.keepAliveMs)} (learned: ${k.reason})` : `${s(k.keepAliveMs)} after the last request (fixed: ${k.reason})`;
}

const mib = (bytes: number) => (bytes % 1024 ** 2 === 0 ? `${bytes / 1024 ** 2}Mi` : `${bytes} bytes`);
const secs = (ms: number) => `${+(ms / 1000).toFixed(3)}s`;

/** A revision's effective configuration, a few lines for people (the API has every field). */
export function configText(c: RevisionConfig, indent: string): string[] {
  const probe = (p: RevisionConfig['readiness']) => `${p.path ? `GET ${p.path}` : 'TCP'} every ${secs(p.periodMs)}, timeout ${secs(p.timeoutMs)}, ${p.failureThreshold} failures`;
  const sc = c.scaling;
  return [
    `${c.protocol === 'tcp' ? 'tcp ' : ''}port ${c.port}${c.ingress === 'internal' ? ' (internal: reached only by the tenant\'s services)' : ''}${c.command ? `, command ${JSON.stringify(c.command)}` : ''}${c.args ? `, args ${JSON.stringify(c.args)}` : ''}`,
    `env ${Object.keys(c.env).length ? Object.entries(c.env).map(([k, v]) => `${k}=${v}`).join(' ') : '(none)'}`,
    ...(c.secrets ? [`secrets ${secretsText(c.secrets)}`] : []),
    `limits memory ${mib(c.memoryBytes)}, cpu ${c.cpus}, pids ${c.pids}${c.diskBytes !== undefined ? `, disk ${mib(c.diskBytes)}` : ''}${c.capabilities?.length ? `, +${c.capabilities.join(' +')}` : ''}${c.readOnlyRoot ? ', read-only root' : ''}`,
    ...(c.volumes?.length ? [`volumes ${c.volumes.map((v) => `${v.volume}:${v.path}${v.readOnly ? ':ro' : ''}`).join(' ')}`] : []),
    ...(c.devices?.length || c.gpus ? [`devices ${[...(c.devices ?? []).map(deviceRequestText), ...(c.gpus ? [`${c.gpus} GPU(s)`] : [])].join(' ')}`] : []),
    ...(c.placement?.constraints?.length || c.placement?.spread?.length ? [`placement ${placementText(c.placement)}`] : []),
    `cpu ${c.cpuAlways ? 'always allocated (--cpu-always)' : 'only during requests: frozen when idle'}`,
    `billing ${c.billing === 'instance' ? 'instance-based: the whole instance lifetime' : 'request-based: instance time while a request is in flight'}`,
    `requests timeout ${secs(c.timeoutMs)}, queue ${c.queueLimit}, drain grace ${secs(c.drainGraceMs)}`,
    `scaling concurrency ${sc.concurrency || 'unlimited'}, ${sc.metric} target ${sc.target} at ${Math.round(sc.targetUtilization * 100)}%, window ${secs(sc.stableWindowMs)}, keep-alive ${sc.keepAlive ?? 'adaptive'}${sc.freezeIdle ? ', freeze idle' : ''}`,
    `readiness ${probe(c.readiness)}`,
    ...(c.liveness ? [`liveness ${probe(c.liveness)}`] : []),
  ].map((l) => indent + l);
}

/** Which secrets a revision uses, pinned: names, versions and keys (the API never has values). */
function secretsText(s: NonNullable<RevisionConfig['secrets']>): string {
  return [
    ...s.envFrom.map((r) => `env from ${r.secret}@${r.version}`),
    ...Object.entries(s.env).map(([v, r]) => `${v}=${r.secret}@${r.version}:${r.key}`),
    ...s.mounts.map((m) => `${m.path} ← ${m.secret}@${m.version}`),
  ].join(', ');
}

export function revisionsText(s: ServiceView): string {
  const rows = [['REVISION', 'TRAFFIC', 'READY', 'CREATED', 'IMAGE', '']];
  for (const r of s.revisions) {
    const tags = s.traffic.filter((t) => t.revision === r.name && t.tag !== undefined).map((t) => `tag ${t.tag}`);
    const marks = [r.name === s.servingRevision ? 'serving' : '', r.name === s.latestRevision ? 'latest' : '', ...tags].filter(Boolean).join(', ');
    rows.push([r.name, `${shareOf(s, r.name)}%`, String(r.instances.filter((i) => i.phase === 'ready').length), r.createdAt, r.digest, marks ? `(${marks})` : '']);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

export function describeText(s: ServiceView): string {
  const serving = s.revisions.find((r) => r.name === s.servingRevision);
  const out = [
    `service   ${s.name}`,
    `url       ${s.url}   (or ${s.pathUrl})`,
    `serving   ${s.servingRevision}${s.servingRevision !== s.latestRevision ? `  (latest: ${s.latestRevision})` : ''}`,
    `image     ${s.image}`,
    `scaling   min ${s.scaling.min}, max ${s.scaling.max}, concurrency ${s.scaling.concurrency || 'unlimited'}, metric ${s.scaling.metric}`,
    `keep-alive ${keepAliveText(s.keepAlive)}`,
    `traffic   ${trafficText(s.traffic)}`,
    ...s.traffic.flatMap((t) => (t.url ? [`tag url   ${t.url}   (${t.revision}, tag ${t.tag})`] : [])),
    'revisions',
  ];
  if (serving) out.splice(4, 0, 'config    (of the serving revision)', ...configText(serving.config, '  '));
  for (const r of s.revisions) {
    out.push(`  ${r.name}  ${r.digest}  ${r.createdAt}`);
    if (r.status.failures > 0) {
      out.push(`    crash loop: ${r.status.failures} failure(s) in a row${r.status.nextStartAt ? `, next start at ${r.status.nextStartAt}` : ''}`);
      if (r.status.lastFailure) out.push(`    last: ${r.status.lastFailure}`);
    }
    for (const i of r.instances) out.push(`    ${i.id}  ${i.phase}${i.address ? '  ' + i.address : ''}${i.node ? `  on ${i.node}` : ''}`);
  }
  out.push('events');
  for (const e of s.events) out.push(`  ${e.at}  ${e.kind.padEnd(12)} ${e.revision ?? ''} ${e.message}`);
  return out.join('\n');
}

export function registerServices(program: Command): void {
  /** The deploy flags, shared by `deploy` and `update`. */
  const deployFlags = (c: Command) =>
    c
      .option('--image <ref>', 'image in Skiff registry: repo:tag or repo@sha256:…')
      .option('--port <port>', 'port the app listens on (default 8080)')
      .option('--env <K=V>', 'environment variable, repeatable; K- removes K in an update', collect, [])
      .option('--memory <size>', 'memory limit, e.g. 256Mi')
      .option('--cpu <cores>', 'CPU limit, e.g. 0.5 (also --cpus, as skiff run and docker spell it)')
      .addOption(new Option('--cpus <cores>').hideHelp())
      .option('--disk <size>', 'writable layer size, memory-backed, e.g. 512Mi (default: the runtime.writableLayerBytes setting, 512Mi)')
      .option('--ingress <all|internal>', 'all: public through the gateway (default); internal: reached only by the tenant\'s other services, as http://NAME/')
      .option('--protocol <http|tcp>', 'http (default); tcp: a plain TCP service (database, cache) reached by the other services as NAME:PORT, never public')
      .option('--cap-add <cap>', 'add a capability to the default set: NET_RAW (repeatable)', collect, [])
      .option('--env-from-secret <name[@version]>', 'every key of a secret as an env var (repeatable; in an update, the list given replaces the one before)', collect, [])
      .option('--secret-env <VAR=NAME[@version]:KEY>', 'an env var from one key of a secret (repeatable); VAR- removes it in an update', collect, [])
      .option('--secret-mount <NAME[@version]:/path>', 'each key of a secret as a read-only file in /path, on tmpfs (repeatable); /path- removes it in an update', collect, [])
      .option('--volume <NAME:/path[:ro]>', 'mount a volume (skiff volume create NAME) at /path, read-write or :ro (repeatable; in an update, the list given replaces the one before)', collect, [])
      .option('--device <dev>', 'pass a device into every instance: /dev/PATH[:rwm] (in the node\'s runtime.deviceAllowList) or a CDI name such as nvidia.com/gpu=0 or =all (repeatable; in an update, the list given replaces the one before)', collect, [])
      .option('--gpu <n>', 'GPUs per instance: the first n nvidia.com/gpu CDI devices of the node (0 = none)')
      .option('--placement <expr>', 'cluster (swarm driver): a Swarm placement constraint every node of an instance must meet, e.g. node.labels.zone==edge or node.role!=manager (repeatable; in an update, the list given replaces the one before)', collect, [])
      .option('--spread <descriptor>', 'cluster (swarm driver): spread instances evenly over the values of a node label, e.g. node.labels.zone (repeatable, highest preference first; in an update, the list given replaces the one before)', collect, [])
      .option('--clear-placement', 'remove the placement constraints and spread preferences (with --placement or --spread: replace both lists with what they give)')
      .option('--cpu-always', 'CPU while no request is in flight (background work): never frozen between requests')
      .option('--no-cpu-always', 'frozen between requests when idle (the default)')
      .addOption(new Option('--cpu-throttling', 'Cloud Run\'s name for --no-cpu-always').hideHelp())
      .addOption(new Option('--no-cpu-throttling', 'Cloud Run\'s name for --cpu-always'))
      .option('--billing <request|instance>', 'request (default): instance time billed only while a request is in flight; instance: the whole instance lifetime (docs/metering.md)')
      .option('--min <n>', 'minimum instances (0 = scale to zero)')
      .option('--max <n>', 'maximum instances')
      .option('--concurrency <n>', 'hard limit of concurrent requests per instance (0 = unlimited)')
      .option('--timeout <duration>', 'request timeout, e.g. 300s')
      .option('--no-wait', 'do not wait for min instances to be ready')
      .option('--no-traffic', 'the new revision takes no share of traffic (the split stays as it is); with --tag, try it at its own URL first')
      .option('--tag <name>', 'give the new revision its own URL, TAG--NAME.<domain>, whatever its share (moved off any revision that had it)');

  deployFlags(
    program
      .command('deploy [name]')
      .description(
        'deploy an image as a service (a new immutable revision) and print its URL. Of an existing service, only the flags given change: ' +
          'everything else carries over from its latest revision, the image pinned to the digest it runs (like gcloud run deploy). ' +
          'With -f FILE the file is the whole configuration: what it does not state goes back to its default (like gcloud run services replace)',
      )
      .option('-f, --file <file>', 'skiff.yaml deploy document: the whole configuration'),
  ).action(async (name: string | undefined, f: DeployFlags) => {
    // the flags first: a bad one is named before any question about the daemon or the token
    if (f.file) {
      const fromFile = await readDeployFile(f.file);
      // a Knative Service (apiVersion serving.knative.dev/v1, kind Service) is deployed as it is
      const { isKnativeService } = await import('./knative/import.ts');
      if (isKnativeService(fromFile)) return deployAndReport(program, f, (await import('./knative.ts')).knativeDeploy(fromFile, f, (doc) => deployDocument(name, f, doc)));
      const doc = deployDocument(name, f, fromFile);
      return deployAndReport(program, f, (c, o) => c.deploy(doc, o));
    }
    if (!name) throw new SkiffError('USAGE', 'deploy: a service name is required (or -f FILE with `name:`)');
    const patch = patchFromFlags(f);
    return deployAndReport(program, f, async (c, o) => {
      try {
        return await c.update(name, patch, o);
      } catch (err) {
        // not there yet: create it from the flags
        if (!(err instanceof SkiffError && err.code === 'NOT_FOUND' && /no service named/.test(err.message))) throw err;
        if (Object.values(patch.env ?? {}).includes(null)) throw new SkiffError('USAGE', `--env K-: ${name} does not exist yet, so there is nothing to remove`);
        if (!f.traffic) throw new SkiffError('USAGE', `--no-traffic: ${name} does not exist yet, and a service's first revision takes all its traffic`);
        return c.deploy(deployDocument(name, f), o);
      }
    });
  });

  deployFlags(
    program
      .command('update <name>')
      .description('change some settings of a service: a new revision from its latest one with only the flags given changed (like kn service update)'),
  ).action(async (name: string, f: DeployFlags) => {
    const patch = patchFromFlags(f);
    if (Object.keys(patch).length === 0) throw new SkiffError('USAGE', 'update: give at least one setting to change (--image, --env, --memory, …)');
    return deployAndReport(program, f, (c, o) => c.update(name, patch, o));
  });

  withOutput(program.command('ls').description('list services')).action(async (o: OutputFlags) => {
    const listed = await clientFrom(program).listServices();
    await print(o, listed, () => {
      // services of several projects (the operator's token, no --project): say whose each is
      const projects = new Set(listed.services.map((s) => s.project));
      const withProject = projects.size > 1 || (projects.size === 1 && !projects.has('default'));
      const out = [[...(withProject ? ['PROJECT'.padEnd(16)] : []), 'NAME'.padEnd(24), 'REVISION'.padEnd(24), 'INSTANCES'.padEnd(10), 'URL'].join(' ')];
      for (const s of listed.services) {
        const count = (phase: string) => s.revisions.reduce((a, r) => a + r.instances.filter((i) => i.phase === phase).length, 0);
        // frozen ones (idle between requests, or kept warm) are capacity a request thaws in milliseconds:
        // shown beside the ready ones, so an idle --min 1 service does not look like it has none
        const frozen = count('frozen');
        const n = `${count('ready')}${frozen ? `+${frozen}f` : ''}`;
        // the revision serving (after a rollback, not the latest)
        out.push([...(withProject ? [s.project.padEnd(16)] : []), s.name.padEnd(24), s.servingRevision.padEnd(24), n.padEnd(10), s.url].join(' '));
      }
      return out.join('\n');
    });
  });

  withOutput(
    program.command('describe <name>').description('the serving revision and its configuration, revisions, traffic, instances, URL and recent events of a service'),
  ).action(async (name: string, o: OutputFlags) => {
    const s = await clientFrom(program).service(name);
    await print(o, s, () => describeText(s));
  });

  program
    .command('logs <name>')
    .description('logs of a service’s instances')
    .option('-f, --follow', 'keep streaming new lines')
    .option('--revision <rev>', 'only this revision')
    .option('--instance <id>', 'only this instance (running, or deleted with its logs kept)')
    .option('--since <duration>', 'only lines newer than this long ago, e.g. 30m or 1h')
    .option('--tail <n>', 'only the last n lines per instance')
    .action(async (name: string, o: { follow?: boolean; revision?: string; instance?: string; since?: string; tail?: string }) => {
      await clientFrom(program).logs(name, { follow: o.follow, revision: o.revision, instance: o.instance, since: o.since, tail: o.tail ? int(o.tail, '--tail') : undefined }, (t) => process.stdout.write(t));
    });

  program
    .command('scale <name>')
    .description('change the minimum and maximum number of instances')
    .option('--min <n>', 'minimum instances')
    .option('--max <n>', 'maximum instances')
    .action(async (name: string, o: { min?: string; max?: string }) => {
      if (o.min === undefined && o.max === undefined) throw new SkiffError('USAGE', 'scale: give --min and/or --max (nothing to change)');
      const s = await clientFrom(program).scale(name, { ...(o.min ? { min: int(o.min, '--min') } : {}), ...(o.max ? { max: int(o.max, '--max') } : {}) });
      line(`${s.name}: min ${s.scaling.min}, max ${s.scaling.max}`);
    });

  program
    .command('prewarm <name>')
    .description('start instances now and keep them warm for a while (ahead of known demand)')
    .option('--instances <n>', 'instances per revision taking traffic (at most the service\'s max)', '1')
    .option('--for <duration>', 'how long to keep them, e.g. 10m (at most 24h)', '10m')
    .action(async (name: string, o: { instances: string; for: string }) => {
      const r = await clientFrom(program).prewarm(name, { instances: int(o.instances, '--instances'), for: o.for });
      for (const rev of r.revisions) line(`${rev.revision}  ${rev.ready}/${rev.instances} ready, kept warm until ${r.until}`);
      const short = r.revisions.filter((rev) => rev.ready < rev.instances);
      if (short.length) throw new SkiffError('UNAVAILABLE', `${short.map((rev) => rev.revision).join(', ')} not all ready; see \`skiff describe ${name}\``);
    });

  program
    .command('traffic <name> [split...]')
    .description('split traffic: skiff traffic NAME REV=90 REV=10 (@latest=100 names the latest revision); tags stay on their revisions unless --tag or --remove-tag moves them')
    .option('--tag <TAG=REV>', 'give REV its own URL TAG--NAME.<domain> (repeatable; @latest works here too)', collect, [])
    .option('--remove-tag <tag>', 'remove a tag and its URL (repeatable)', collect, [])
    .action(async (name: string, split: string[], o: { tag: string[]; removeTag: string[] }) => {
      if (split.length === 0 && o.tag.length === 0 && o.removeTag.length === 0) throw new SkiffError('USAGE', 'traffic: give a split (REV=PERCENT …), --tag TAG=REV or --remove-tag TAG');
      const client = clientFrom(program);
      const current = (await client.service(name)).traffic;
      const shares = split.length
        ? split.map((p) => {
            const [revision, percent] = p.split('=');
            if (!revision || percent === undefined) throw new SkiffError('BAD_REQUEST', `expected REVISION=PERCENT, got ${JSON.stringify(p)}`);
            return { revision, percent: int(percent, `${revision}=PERCENT`) };
          })
        : current.filter((t) => t.tag === undefined && t.percent > 0).map((t) => ({ revision: t.revision, percent: t.percent }));
      const added = o.tag.map((p) => {
        const [tag, revision] = p.split('=');
        if (!tag || !revision) throw new SkiffError('BAD_REQUEST', `--tag: expected TAG=REVISION, got ${JSON.stringify(p)}`);
        return { revision, percent: 0, tag };
      });
      for (const t of o.removeTag) if (!current.some((c) => c.tag === t)) throw new SkiffError('NOT_FOUND', `--remove-tag: ${name} has no tag ${JSON.stringify(t)}`);
      const gone = new Set([...o.removeTag, ...added.map((t) => t.tag)]);
      // a tagged entry that also carried a share keeps it untagged when the split is not restated
      const kept = current.filter((t) => t.tag !== undefined && !gone.has(t.tag)).map((t) => ({ revision: t.revision, percent: 0, tag: t.tag! }));
      const s = await client.setTraffic(name, [...shares, ...kept, ...added]);
      line(`traffic   ${trafficText(s.traffic)}`);
      for (const t of s.traffic) if (t.url) line(`tag url   ${t.url}   (${t.revision}, tag ${t.tag})`);
    });

  program
    .command('rollback <name>')
    .description('send all traffic to the revision before the one serving now, or to --to REV')
    .option('--to <revision>', 'the revision to send all traffic to')
    .action(async (name: string, o: { to?: string }) => {
      const s = await clientFrom(program).rollback(name, o.to);
      line(`traffic   ${trafficText(s.traffic)}`);
    });

  program
  withOutput(
    program.command('revisions <name>').description('a service’s revisions, newest first: traffic share, image digest, ready instances, age'),
  ).action(async (name: string, o: OutputFlags) => {
    const s = await clientFrom(program).service(name);
    await print(o, { service: s.name, latestRevision: s.latestRevision, servingRevision: s.servingRevision, traffic: s.traffic, revisions: s.revisions }, () => revisionsText(s));
  });

  program
    .command('rm <name>')
    .description('delete a service and stop its instances')
    .action(async (name: string) => {
      await clientFrom(program).deleteService(name);
      line(`deleted ${name}`);
    });
}
