// cli/knative: `skiff deploy -f service.yaml` of a Knative Service as it is (knative/import.ts turns it
// into a deploy document and a traffic list; what is not honoured is a `warning:` line on stderr naming
// its path), and `skiff export NAME --format knative|compose` (YAML on stdout, warnings on stderr).
import type { Command } from 'commander';
import { clientFrom } from './context.ts';
import { SkiffError } from '../core/errors.ts';
import type { TrafficTarget } from '../core/service.ts';
import type { DeployDocument } from '../core/documents.ts';
import type { DeployResult } from '../core/views.ts';
import type { SkiffClient } from '../api/client.ts';
import type { DeployOptions } from '../api/ports.ts';
import { fromKnative, type ImportedTraffic } from './knative/import.ts';
import { toKnative } from './knative/export.ts';
import { toCompose } from './compose/compose-export.ts';

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

export function registerExport(program: Command): void {
  program
    .command('export <name>')
    .description('write a service as a Knative Service or a Compose file (YAML on stdout; what the format cannot say is a warning on stderr)')
    .option('--format <format>', 'knative or compose', 'knative')
    .action(async (name: string, o: { format: string }) => {
      if (o.format !== 'knative' && o.format !== 'compose') throw new SkiffError('USAGE', `--format: expected knative or compose, got ${JSON.stringify(o.format)}`);
      const client = clientFrom(program);
      const [doc, view] = await Promise.all([client.serviceDocument(name), client.service(name)]);
      const traffic = view.traffic.map((t) => ({ revision: t.revision, percent: t.percent, ...(t.tag !== undefined ? { tag: t.tag } : {}) }));
      const out = o.format === 'knative' ? toKnative(doc, traffic, view.latestRevision) : toCompose(doc, traffic);
      const { default: YAML } = await import('yaml');
      process.stdout.write(YAML.stringify('manifest' in out ? out.manifest : out.compose, { lineWidth: 0 }));
      warn(out.warnings);
    });
}
