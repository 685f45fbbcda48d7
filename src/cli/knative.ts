// cli/knative: `skiff deploy -f service.yaml` of a Knative Service as it is (knative/import.ts turns it
// into a deploy document and a traffic list; what is not honoured is a `warning:` line on stderr naming
// its path), and `skiff export NAME|--all --format knative|compose [--registry HOST[/PREFIX]] [--pull-secret
// NAME]` (YAML on stdout; warnings and the `skopeo copy` lines for --registry on stderr).
import type { Command } from 'commander';
import { clientFrom } from './context.ts';
import { SkiffError } from '../core/errors.ts';
import type { TrafficTarget } from '../core/service.ts';
import type { DeployDocument } from '../core/documents.ts';
import type { DeployResult, ServiceView } from '../core/views.ts';
import type { SkiffClient } from '../api/client.ts';
import type { DeployOptions } from '../api/ports.ts';
import { fromKnative, type ImportedTraffic } from './knative/import.ts';
import { toKnative } from './knative/export.ts';
import { toCompose } from './compose/compose-export.ts';
import { assertPullSecretName, imageForCluster, parseRegistry, registryAddress, skopeoCopy, withPullSecret } from './knative/rewrite.ts';

function warn(lines: string[]): void {
  for (const l of lines) process.stderr.write(`warning: ${l}\n`);
}

/** The service's revisions, or null when it does not exist yet. */
async function revisionsOf(client: SkiffClient, name: string): Promise<string[] | null> {
  try {
    return (await client.service(name)).revisions.map((r) => r.name);
  } catch (err) {
    if (err instanceof SkiffError && err.code === 'NOT_FOUND') return null;
    throw err;
  }
}

/**
 * `skiff deploy [NAME] -f service.yaml` of a Knative Service: what to send (cli/services.ts reports it
 * and waits, as for any deploy). `withFlags` merges the deploy flags onto the file's document (they win).
 */
export function knativeDeploy(parsed: unknown, f: { traffic: boolean; tag?: string }, withFlags: (doc: DeployDocument) => DeployDocument): (c: SkiffClient, o: DeployOptions) => Promise<DeployResult> {
  if (!f.traffic || f.tag !== undefined) throw new SkiffError('USAGE', `${!f.traffic ? '--no-traffic' : '--tag'}: a Knative Service states its traffic in spec.traffic (latestRevision, revisionName, percent, tag)`);
  const imported = fromKnative(parsed);
  warn(imported.warnings);
  const doc = withFlags(imported.document);
  const wanted = imported.traffic;
  const onlyLatest = wanted.length === 1 && wanted[0]!.revision === undefined && wanted[0]!.tag === undefined;
  return async (c, o) => {
    const existing = await revisionsOf(c, doc.name);
    // every revision named must be there before anything is deployed
    wanted.forEach((t, i) => {
      if (t.revision !== undefined && !existing?.includes(t.revision)) {
        throw new SkiffError('NOT_FOUND', `spec.traffic[${i}].revisionName: ${doc.name} has no revision ${t.revision}${existing ? ` (it has ${existing.join(', ')})` : ' (it does not exist yet)'}`);
      }
    });
    // a new service's first revision takes all traffic; an existing one's takes what the file says
    const r = await c.deploy(doc, existing && !onlyLatest ? { ...o, noTraffic: true } : o);
    if (imported.revisionName !== undefined && imported.revisionName !== r.revision) warn([`spec.template.metadata.name: ${imported.revisionName} not honoured; the revision is ${r.revision}`]);
    // the file's list is the whole list (tags it leaves out go, as in Knative); the new revision keeps
    // the split away from itself until it is ready (serving rollout), so this is safe before the wait
    const needed = existing ? !(onlyLatest && r.service.traffic.length === 1) : !onlyLatest;
    if (!needed) return r;
    const split: TrafficTarget[] = [];
    for (const t of wanted.map((w: ImportedTraffic) => ({ revision: w.revision ?? r.revision, percent: w.percent, ...(w.tag !== undefined ? { tag: w.tag } : {}) }))) {
      // untagged entries of one revision are one (latestRevision and the template's name may both say it)
      const same = t.tag === undefined ? split.find((s) => s.tag === undefined && s.revision === t.revision) : undefined;
      if (same) same.percent += t.percent;
      else split.push(t);
    }
    return { ...r, service: await c.setTraffic(doc.name, split) };
  };
}

interface ExportFlags {
  format: string;
  all?: boolean;
  registry?: string;
  pullSecret?: string;
}

/** The services `--all` exports: the current project's (--project, or the token's), in name order. */
async function projectServices(client: SkiffClient): Promise<ServiceView[]> {
  const { services } = await client.listServices();
  const projects = [...new Set(services.map((s) => s.project))].sort();
  if (!client.options.project && projects.length > 1) throw new SkiffError('USAGE', `--all: the services this token sees belong to projects ${projects.join(', ')}: name one with --project`);
  return [...services].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function registerExport(program: Command): void {
  program
    .command('export [name]')
    .description('write a service (or --all of the project\'s) as a Knative Service or a Compose file (YAML on stdout; what the format cannot say is a warning on stderr)')
    .option('--format <format>', 'knative or compose', 'knative')
    .option('--all', 'every service of the current project: Knative Services as one multi-document YAML stream in name order, or one Compose file')
    .option('--registry <host[/prefix]>', 'rewrite images of Skiff\'s registry to HOST[/PREFIX]/repo@sha256:… (digest kept), for a cluster that pulls from there; prints the skopeo copy commands that put them there')
    .option('--pull-secret <name>', 'knative: add imagePullSecrets [{name: NAME}] to the pod template (the Kubernetes Secret the cluster pulls with)')
    .action(async (name: string | undefined, o: ExportFlags) => {
      if (o.format !== 'knative' && o.format !== 'compose') throw new SkiffError('USAGE', `--format: expected knative or compose, got ${JSON.stringify(o.format)}`);
      if ((name === undefined) === !o.all) throw new SkiffError('USAGE', name === undefined ? 'export: give a service NAME or --all' : `export: give a service NAME or --all, not both (got ${name} and --all)`);
      if (o.pullSecret !== undefined && o.format !== 'knative') throw new SkiffError('USAGE', '--pull-secret: only --format knative has imagePullSecrets (Compose pulls with `docker login` credentials)');
      const registry = o.registry === undefined ? undefined : parseRegistry(o.registry);
      const pullSecret = o.pullSecret === undefined ? undefined : assertPullSecretName(o.pullSecret);
      const client = clientFrom(program);
      const skiff = registryAddress(client.options.baseUrl);
      const views = o.all ? await projectServices(client) : [await client.service(name!)];
      const docs = await Promise.all(views.map((v) => client.serviceDocument(v.name)));

      const warnings: string[] = [];
      const copies = new Map<string, { from: string; to: string }>();
      const outputs: Array<{ knative?: Record<string, unknown>; compose?: Record<string, unknown> }> = [];
      views.forEach((view, i) => {
        const said = (lines: string[]) => warnings.push(...(o.all ? lines.map((l) => `${view.name}: ${l}`) : lines));
        const cluster = imageForCluster(docs[i]!.image, { ...(registry !== undefined ? { registry } : {}), skiffRegistry: skiff.address });
        if (cluster.copy) copies.set(`${cluster.copy.from} ${cluster.copy.to}`, cluster.copy);
        const doc = { ...docs[i]!, image: cluster.image };
        const traffic = view.traffic.map((t) => ({ revision: t.revision, percent: t.percent, ...(t.tag !== undefined ? { tag: t.tag } : {}) }));
        if (o.format === 'knative') {
          const out = toKnative(doc, traffic, view.latestRevision);
          said([...out.warnings, ...(cluster.warning ? [`spec.template.spec.containers[0].image: ${cluster.warning}`] : [])]);
          outputs.push({ knative: pullSecret !== undefined ? withPullSecret(out.manifest, pullSecret) : out.manifest });
        } else {
          const out = toCompose(doc, traffic);
          said(out.warnings);
          outputs.push({ compose: out.compose });
        }
      });

      const { default: YAML } = await import('yaml');
      const yaml = (v: unknown) => YAML.stringify(v, { lineWidth: 0 });
      if (o.format === 'knative') process.stdout.write(outputs.map((x) => yaml(x.knative)).join('---\n'));
      else if (outputs.length) process.stdout.write(yaml(o.all ? mergeCompose(outputs.map((x) => x.compose!), views[0]!.project) : outputs[0]!.compose));
      warn(warnings);
      if (o.all && views.length === 0) warn(['--all: the project has no services; nothing exported']);
      if (copies.size) {
        process.stderr.write(`copy the images to ${registry} before applying (skopeo; SKIFF_TOKEN is a Skiff token that may pull them):\n`);
        for (const c of copies.values()) process.stderr.write(`${skopeoCopy(c, { insecureSource: skiff.insecure })}\n`);
      }
    });
}

/** One Compose file of every service's: the services, and the external volumes and secrets they name. */
function mergeCompose(files: Array<Record<string, unknown>>, project: string): Record<string, unknown> {
  const merged: Record<string, Record<string, unknown>> = { services: {}, volumes: {}, secrets: {} };
  for (const f of files) for (const k of ['services', 'volumes', 'secrets'] as const) Object.assign(merged[k]!, f[k] ?? {});
  return { name: project, services: merged.services, ...(Object.keys(merged.volumes!).length ? { volumes: merged.volumes } : {}), ...(Object.keys(merged.secrets!).length ? { secrets: merged.secrets } : {}) };
}
