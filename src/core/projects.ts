// core/projects: a project is one team's share of a Skiff — its services, triggers, jobs, secrets,
// volumes, domains and registry repositories (older tables call it `tenant`: the same concept). A
// token belongs to one project, except the operator's admin tokens, which span every project.
import { SkiffError } from './errors.ts';

/** The project of data made before projects existed, and of requests that name none. */
export const DEFAULT_PROJECT = 'default';
/** A token's project when it spans them all (the operator's admin tokens). */
export const ALL_PROJECTS = '*';
export const PROJECT_NAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Upper bounds on what a project's instances hold at once; an absent field is unlimited. */
export interface ProjectQuota {
  instances?: number;
  memoryBytes?: number;
  /** millicores (4 CPUs = 4000) */
  cpuMillis?: number;
}

export interface ProjectRecord {
  name: string;
  quota: ProjectQuota;
  createdAt: number;
}

/** What a project holds right now, against its quota. */
export interface ProjectUsage {
  instances: number;
  memoryBytes: number;
  cpuMillis: number;
}

export function checkProjectName(name: string, field = 'project'): string {
  if (!PROJECT_NAME_RE.test(name)) {
    throw new SkiffError('BAD_REQUEST', `${field}: ${JSON.stringify(name)} is not a project name (lowercase letters, digits and dashes, at most 63, starting with a letter or digit)`);
  }
  return name;
}

/**
 * The project a registry repository belongs to: `team-a/app` is team-a's when team-a is a project
 * other than default; everything else (`app`, `tools/app` with no project `tools`) is default's.
 */
export function repositoryProject(repository: string, isProject: (name: string) => boolean): string {
  const slash = repository.indexOf('/');
  if (slash < 0) return DEFAULT_PROJECT;
  const first = repository.slice(0, slash);
  return first !== DEFAULT_PROJECT && isProject(first) ? first : DEFAULT_PROJECT;
}

/** What a request for `wanted` would bring the project to, and the first quota it breaks (or undefined).
 *  `held` names what `usage` is in the message ("in use"; a deploy's check says whose min instances). */
export function quotaBreach(quota: ProjectQuota, usage: ProjectUsage, wanted: ProjectUsage, held = 'in use'): string | undefined {
  const after = { instances: usage.instances + wanted.instances, memoryBytes: usage.memoryBytes + wanted.memoryBytes, cpuMillis: usage.cpuMillis + wanted.cpuMillis };
  if (quota.instances !== undefined && wanted.instances > 0 && after.instances > quota.instances) {
    return `instances: ${after.instances} would exceed the quota of ${quota.instances} (${usage.instances} ${held})`;
  }
  if (quota.memoryBytes !== undefined && wanted.memoryBytes > 0 && after.memoryBytes > quota.memoryBytes) {
    return `memory: ${formatBytes(after.memoryBytes)} would exceed the quota of ${formatBytes(quota.memoryBytes)} (${formatBytes(usage.memoryBytes)} ${held})`;
  }
  if (quota.cpuMillis !== undefined && wanted.cpuMillis > 0 && after.cpuMillis > quota.cpuMillis) {
    return `cpu: ${after.cpuMillis / 1000} would exceed the quota of ${quota.cpuMillis / 1000} (${usage.cpuMillis / 1000} ${held})`;
  }
  return undefined;
}

function formatBytes(n: number): string {
  const gi = 1024 ** 3;
  const mi = 1024 ** 2;
  return n % gi === 0 ? `${n / gi}Gi` : n % mi === 0 ? `${n / mi}Mi` : `${n} bytes`;
}
