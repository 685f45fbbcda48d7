// cli/projects: `skiff project create | ls | describe | quota | rm` — projects and their quotas
// (docs/projects.md). Creating, changing and removing one takes a token spanning every project (the
// operator's admin token); a project's own token lists and describes its project.
import type { Command } from 'commander';
import { clientFrom } from './context.ts';
import { print, withOutput, type OutputFlags } from './output.ts';
import { integer } from './flags.ts';
import { checkProjectName } from '../core/projects.ts';
import { formatMemory, parseCpu, parseMemory } from '../core/quantity.ts';
import type { ProjectQuotaBody, ProjectView } from '../core/views.ts';

const line = (text: string) => process.stdout.write(text + '\n');

/** `3/20` — in use against the quota, `3` when unlimited. */
function against(used: string, limit: string | null): string {
  return limit === null ? used : `${used}/${limit}`;
}

function columns(p: ProjectView): { instances: string; memory: string; cpu: string } {
  return {
    instances: against(String(p.usage.instances), p.quota.instances === null ? null : String(p.quota.instances)),
    memory: against(formatMemory(p.usage.memoryBytes), p.quota.memoryBytes === null ? null : formatMemory(p.quota.memoryBytes)),
    cpu: against(String(p.usage.cpu), p.quota.cpu === null ? null : String(p.quota.cpu)),
  };
}

function projectText(p: ProjectView): string {
  const c = columns(p);
  const held = Object.entries(p.holdings).filter(([, n]) => n > 0).map(([kind, n]) => `${n} ${kind}`);
  return [
    `name        ${p.name}`,
    `instances   ${c.instances}${p.quota.instances === null ? ' (no quota)' : ''}`,
    `memory      ${c.memory}${p.quota.memoryBytes === null ? ' (no quota)' : ''}`,
    `cpu         ${c.cpu}${p.quota.cpu === null ? ' (no quota)' : ''}`,
    `holds       ${held.length ? held.join(', ') : 'nothing'}`,
    `created     ${p.createdAt}`,
  ].join('\n');
}

interface QuotaFlags {
  quotaInstances?: string;
  quotaMemory?: string;
  quotaCpu?: string;
}

/** The flags as a quota body, checked here so a typo fails before any request; "none" removes a limit. */
function quotaOf(o: QuotaFlags): ProjectQuotaBody | undefined {
  const q: ProjectQuotaBody = {};
  if (o.quotaInstances !== undefined) q.instances = o.quotaInstances === 'none' ? null : integer(o.quotaInstances, '--quota-instances', 0);
  if (o.quotaMemory !== undefined) q.memory = o.quotaMemory === 'none' ? null : (parseMemory(o.quotaMemory, '--quota-memory'), o.quotaMemory);
  if (o.quotaCpu !== undefined) q.cpu = o.quotaCpu === 'none' ? null : (parseCpu(o.quotaCpu, '--quota-cpu'), o.quotaCpu);
  return Object.keys(q).length ? q : undefined;
}

function withQuotaFlags(c: Command): Command {
  return c
    .option('--quota-instances <n>', 'instances at once, of all its services, jobs and runs ("none": no limit)')
    .option('--quota-memory <size>', 'memory limits of its instances summed, e.g. 8Gi ("none": no limit)')
    .option('--quota-cpu <cores>', 'CPU limits of its instances summed, e.g. 4 or 500m ("none": no limit)');
}

export function registerProjects(program: Command): void {
  const project = program.command('project').description('projects: each team\'s services, jobs, triggers, secrets, volumes, domains and images, with quotas');
  withQuotaFlags(project.command('create <name>').description('create a project (operator); then: skiff token create NAME --project <name> --role deploy')).action(async (name: string, o: QuotaFlags) => {
    checkProjectName(name, 'name');
    const quota = quotaOf(o);
    const p = await clientFrom(program).createProject(name, quota);
    line(`created   ${p.name}: instances ${p.quota.instances ?? 'unlimited'}, memory ${p.quota.memoryBytes === null ? 'unlimited' : formatMemory(p.quota.memoryBytes)}, cpu ${p.quota.cpu ?? 'unlimited'}`);
  });
  withOutput(project.command('ls').description('list projects with what is in use against their quotas')).action(async (o: OutputFlags) => {
    const listed = await clientFrom(program).listProjects();
    await print(o, listed, () => {
      const rows = [['NAME', 'INSTANCES', 'MEMORY', 'CPU', 'SERVICES', 'CREATED']];
      for (const p of listed.projects) {
        const c = columns(p);
        rows.push([p.name, c.instances, c.memory, c.cpu, String(p.holdings.services ?? 0), p.createdAt.slice(0, 10)]);
      }
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
    });
  });
  withOutput(project.command('describe <name>').description('a project: its quotas against what is in use, and what it holds')).action(async (name: string, o: OutputFlags) => {
    const p = await clientFrom(program).getProject(name);
    await print(o, p, () => projectText(p));
  });
  withQuotaFlags(project.command('quota <name>').description('change a project\'s quotas (operator); flags not given stay as they are')).action(async (name: string, o: QuotaFlags) => {
    const quota = quotaOf(o) ?? {};
    const p = await clientFrom(program).setProjectQuota(name, quota);
    line(projectText(p));
  });
  project
    .command('rm <name>')
    .description('remove a project that holds nothing (operator); its tokens are revoked')
    .action(async (name: string) => {
      await clientFrom(program).removeProject(name);
      line(`removed   ${name}`);
    });
}
