// cli/services: `skiff deploy | ls | describe | logs | scale | prewarm | traffic | rollback | rm`.
// Every command goes through the API client; output is for people (tables, short progress lines).
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { clientFrom } from './context.ts';
import { SkiffError } from '../core/errors.ts';
import type { DeployDocument } from '../core/documents.ts';
import type { ServiceView } from '../core/views.ts';
import type { SkiffClient } from '../api/client.ts';
import { OPTIONAL_CAPABILITIES, type OptionalCapability } from '../core/capabilities.ts';

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function envPairs(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new SkiffError('BAD_REQUEST', `--env expects K=V, got ${JSON.stringify(p)}`);
    env[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return env;
}

function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new SkiffError('BAD_REQUEST', `expected a non-negative integer, got ${JSON.stringify(value)}`);
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
  min?: string;
  max?: string;
  concurrency?: string;
  timeout?: string;
  wait: boolean;
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

/** Builds the deploy document from the -f file's fields and/or flags (flags win). */
export function deployDocument(name: string | undefined, f: DeployFlags, fromFile: Partial<DeployDocument> = {}): DeployDocument {
  if (f.cpu !== undefined && f.cpus !== undefined) throw new SkiffError('USAGE', '--cpu and --cpus are the same flag: give one');
  f = { ...f, cpu: f.cpu ?? f.cpus };
  const doc: Partial<DeployDocument> = { ...fromFile };
  if (name) doc.name = name;
  if (f.image) doc.image = f.image;
  if (f.port) doc.port = int(f.port);
  if (f.env.length) doc.env = { ...doc.env, ...envPairs(f.env) };
  if (f.memory || f.cpu || f.disk) doc.resources = { ...doc.resources, ...(f.memory ? { memory: f.memory } : {}), ...(f.cpu ? { cpu: f.cpu } : {}), ...(f.disk ? { disk: f.disk } : {}) };
  if (f.capAdd.length) doc.capabilities = capabilities(f.capAdd);
  if (f.timeout) doc.timeout = f.timeout;
  const scaling = { ...doc.scaling };
  if (f.min) scaling.min = int(f.min);
  if (f.max) scaling.max = int(f.max);
  if (f.concurrency) scaling.concurrency = int(f.concurrency);
  if (Object.keys(scaling).length) doc.scaling = scaling;
  if (!doc.name) throw new SkiffError('BAD_REQUEST', 'a service name is required (argument or `name:` in the file)');
  if (!doc.image) throw new SkiffError('BAD_REQUEST', '--image (or `image:` in the file) is required');
  return doc as DeployDocument;
}

function line(text: string): void {
  process.stdout.write(text + '\n');
}

async function waitReady(client: SkiffClient, name: string, revision: string, timeoutMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    const svc = await client.service(name);
    const rev = svc.revisions.find((r) => r.name === revision);
    if (rev?.instances.some((i) => i.phase === 'ready')) return Date.now() - start;
    const failed = svc.events.find((e) => e.revision === revision && (e.kind === 'start-failed' || e.kind === 'not-ready'));
    if (failed) throw new SkiffError('UNAVAILABLE', `${revision} did not start: ${failed.message}`);
    if (Date.now() - start > timeoutMs) throw new SkiffError('UNAVAILABLE', `${revision} not ready after ${timeoutMs / 1000}s; see \`skiff describe ${name}\``);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function keepAliveText(k: ServiceView['keepAlive']): string {
  const s = (ms: number) => `${+(ms / 1000).toFixed(1)}s`;
  return k.kind === 'histogram' ? `pre-warm ${s(k.preWarmMs ?? 0)}, then warm ${s(k.keepAliveMs)} (learned: ${k.reason})` : `${s(k.keepAliveMs)} after the last request (fixed: ${k.reason})`;
}

export function describeText(s: ServiceView): string {
  const out = [
    `service   ${s.name}`,
    `url       ${s.url}   (or ${s.pathUrl})`,
    `image     ${s.image}`,
    `scaling   min ${s.scaling.min}, max ${s.scaling.max}, concurrency ${s.scaling.concurrency || 'unlimited'}, metric ${s.scaling.metric}`,
    `keep-alive ${keepAliveText(s.keepAlive)}`,
    `traffic   ${s.traffic.map((t) => `${t.revision}=${t.percent}%`).join('  ')}`,
    'revisions',
  ];
  for (const r of s.revisions) {
    out.push(`  ${r.name}  ${r.digest}  ${r.createdAt}`);
    for (const i of r.instances) out.push(`    ${i.id}  ${i.phase}${i.address ? '  ' + i.address : ''}`);
  }
  out.push('events');
  for (const e of s.events) out.push(`  ${e.at}  ${e.kind.padEnd(12)} ${e.revision ?? ''} ${e.message}`);
  return out.join('\n');
}

export function registerServices(program: Command): void {
  program
    .command('deploy [name]')
    .description('deploy an image as a service (a new immutable revision) and print its URL')
    .option('-f, --file <file>', 'skiff.yaml deploy document')
    .option('--image <ref>', 'image in Skiff registry: repo:tag or repo@sha256:…')
    .option('--port <port>', 'port the app listens on (default 8080)')
    .option('--env <K=V>', 'environment variable (repeatable)', collect, [])
    .option('--memory <size>', 'memory limit, e.g. 256Mi')
    .option('--cpu <cores>', 'CPU limit, e.g. 0.5 (also --cpus, as skiff run and docker spell it)')
    .addOption(new Option('--cpus <cores>').hideHelp())
    .option('--disk <size>', 'writable layer size, memory-backed, e.g. 512Mi (default: the runtime.writableLayerBytes setting, 512Mi)')
    .option('--cap-add <cap>', 'add a capability to the default set: NET_RAW (repeatable)', collect, [])
    .option('--min <n>', 'minimum instances (0 = scale to zero)')
    .option('--max <n>', 'maximum instances')
    .option('--concurrency <n>', 'hard limit of concurrent requests per instance (0 = unlimited)')
    .option('--timeout <duration>', 'request timeout, e.g. 300s')
    .option('--no-wait', 'do not wait for min instances to be ready')
    .action(async (name: string | undefined, f: DeployFlags) => {
      // the flags first: a bad one is named before any question about the daemon or the token
      const doc = deployDocument(name, f, f.file ? await readDeployFile(f.file) : {});
      const client = clientFrom(program);
      line(`resolving ${doc.image} …`);
      const r = await client.deploy(doc);
      line(`pinned    ${r.imageDigest}`);
      line(`unpacked  ${r.layers.unpacked} of ${r.layers.total} layers (${r.layers.total - r.layers.unpacked} cached)`);
      line(`revision  ${r.revision}`);
      if (r.service.scaling.min > 0 && f.wait) {
        line('starting  …');
        const ms = await waitReady(client, r.service.name, r.revision, 120_000);
        line(`ready     in ${(ms / 1000).toFixed(1)}s`);
      } else if (r.service.scaling.min > 0) {
        line(`starting  ${r.service.scaling.min} instance(s) in the background (--no-wait); \`skiff describe ${r.service.name}\` shows them`);
      } else {
        line('scaled to zero: the first request starts an instance');
      }
      line(`url       ${r.service.url}`);
      line(`          ${r.service.pathUrl}`);
    });

  program
    .command('ls')
    .description('list services')
    .action(async () => {
      const { services } = await clientFrom(program).listServices();
      line(['NAME'.padEnd(24), 'REVISION'.padEnd(24), 'INSTANCES'.padEnd(10), 'URL'].join(' '));
      for (const s of services) {
        const n = s.revisions.reduce((a, r) => a + r.instances.filter((i) => i.phase === 'ready').length, 0);
        line([s.name.padEnd(24), s.latestRevision.padEnd(24), String(n).padEnd(10), s.url].join(' '));
      }
    });

  program
    .command('describe <name>')
    .description('revisions, traffic, instances, URL and recent events of a service')
    .action(async (name: string) => line(describeText(await clientFrom(program).service(name))));

  program
    .command('logs <name>')
    .description('logs of a service’s instances')
    .option('-f, --follow', 'keep streaming new lines')
    .option('--revision <rev>', 'only this revision')
    .option('--tail <n>', 'only the last n lines per instance')
    .action(async (name: string, o: { follow?: boolean; revision?: string; tail?: string }) => {
      await clientFrom(program).logs(name, { follow: o.follow, revision: o.revision, tail: o.tail ? int(o.tail) : undefined }, (t) => process.stdout.write(t));
    });

  program
    .command('scale <name>')
    .description('change the minimum and maximum number of instances')
    .option('--min <n>', 'minimum instances')
    .option('--max <n>', 'maximum instances')
    .action(async (name: string, o: { min?: string; max?: string }) => {
      if (o.min === undefined && o.max === undefined) throw new SkiffError('USAGE', 'scale: give --min and/or --max (nothing to change)');
      const s = await clientFrom(program).scale(name, { ...(o.min ? { min: int(o.min) } : {}), ...(o.max ? { max: int(o.max) } : {}) });
      line(`${s.name}: min ${s.scaling.min}, max ${s.scaling.max}`);
    });

  program
    .command('prewarm <name>')
    .description('start instances now and keep them warm for a while (ahead of known demand)')
    .option('--instances <n>', 'instances per revision taking traffic (bounded by max)', '1')
    .option('--for <duration>', 'how long to keep them, e.g. 10m (at most 24h)', '10m')
    .action(async (name: string, o: { instances: string; for: string }) => {
      const r = await clientFrom(program).prewarm(name, { instances: int(o.instances), for: o.for });
      for (const rev of r.revisions) line(`${rev.revision}  ${rev.ready}/${rev.instances} ready, kept warm until ${r.until}`);
      const short = r.revisions.filter((rev) => rev.ready < rev.instances);
      if (short.length) throw new SkiffError('UNAVAILABLE', `${short.map((rev) => rev.revision).join(', ')} not all ready; see \`skiff describe ${name}\``);
    });

  program
    .command('traffic <name> <split...>')
    .description('split traffic: skiff traffic NAME REV=90 REV=10')
    .action(async (name: string, split: string[]) => {
      const traffic = split.map((p) => {
        const [revision, percent] = p.split('=');
        if (!revision || percent === undefined) throw new SkiffError('BAD_REQUEST', `expected REVISION=PERCENT, got ${JSON.stringify(p)}`);
        return { revision, percent: int(percent) };
      });
      const s = await clientFrom(program).setTraffic(name, traffic);
      line(`traffic   ${s.traffic.map((t) => `${t.revision}=${t.percent}%`).join('  ')}`);
    });

  program
    .command('rollback <name>')
    .description('send all traffic to the revision before the current one')
    .action(async (name: string) => {
      const s = await clientFrom(program).rollback(name);
      line(`traffic   ${s.traffic.map((t) => `${t.revision}=${t.percent}%`).join('  ')}`);
    });

  program
    .command('rm <name>')
    .description('delete a service and stop its instances')
    .action(async (name: string) => {
      await clientFrom(program).deleteService(name);
      line(`deleted ${name}`);
    });
}
