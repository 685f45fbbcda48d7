// cli/commands: which module registers which subcommand, and how the subcommand is found on a command
// line (the first argument that is neither an option nor a global option's value) — for cli/main's
// lazy loading and bin/skiff.mjs's choice between the CLI and the daemon.
import type { Command } from 'commander';

export type Register = (program: Command) => void;

/** Each subcommand → the module that registers it (several commands share one module). */
export const MODULES: Record<string, () => Promise<Register>> = {
  gc: async () => (await import('./gc.ts')).registerGc,
  ca: async () => (await import('./ca.ts')).registerCa,
  down: async () => (await import('./down.ts')).registerDown,
  nodes: async () => (await import('./nodes.ts')).registerNodes,
  images: async () => (await import('./images.ts')).registerImages,
  completion: async () => (await import('./completion.ts')).registerCompletion,
  push: async () => (await import('./push.ts')).registerPush,
  token: async () => (await import('./token.ts')).registerToken,
  projects: async () => (await import('./projects.ts')).registerProjects,
  run: async () => (await import('./run.ts')).registerRun,
  services: async () => (await import('./services.ts')).registerServices,
  events: async () => (await import('./events.ts')).registerEvents,
  jobs: async () => (await import('./jobs.ts')).registerJobs,
  volumes: async () => (await import('./volumes.ts')).registerVolumes,
  secrets: async () => (await import('./secrets.ts')).registerSecrets,
  domains: async () => (await import('./domains.ts')).registerDomains,
  compose: async () => (await import('./compose.ts')).registerCompose,
  export: async () => (await import('./knative.ts')).registerExport,
  usage: async () => (await import('./usage.ts')).registerUsage,
  budget: async () => (await import('./budget.ts')).registerBudget,
};
export const COMMANDS: Record<string, keyof typeof MODULES> = {
  gc: 'gc',
  ca: 'ca',
  down: 'down',
  nodes: 'nodes',
  images: 'images',
  image: 'images',
  completion: 'completion',
  __names: 'completion',
  push: 'push',
  token: 'token',
  project: 'projects',
  run: 'run',
  trigger: 'events',
  dlq: 'events',
  invoke: 'events',
  job: 'jobs',
  volume: 'volumes',
  secret: 'secrets',
  domain: 'domains',
  compose: 'compose',
  export: 'export',
  usage: 'usage',
  bill: 'usage',
  budget: 'budget',
  ...Object.fromEntries(['deploy', 'update', 'revisions', 'ls', 'describe', 'logs', 'scale', 'prewarm', 'traffic', 'rollback', 'rm'].map((c) => [c, 'services' as const])),
};

/** Subcommands that need every module loaded: `completion` describes them all. */
export const NEEDS_ALL: ReadonlySet<string> = new Set(['completion']);

/** Options of the program itself that take a value: their value is not the subcommand. */
export const GLOBAL_WITH_VALUE = new Set(['--api', '--data-dir', '--project']);

/** The first argument that is neither an option nor a global option's value. */
export function subcommandOf(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (GLOBAL_WITH_VALUE.has(a)) i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}
