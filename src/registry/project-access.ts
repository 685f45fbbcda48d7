// registry/project-access: which repositories a token may touch. A repository belongs to one project
// (core/projects.ts repositoryProject: `team-a/app` is team-a's); a token of project P touches only
// P's, a token spanning every project ('*') touches all. Another project's repository is, to the
// caller, one that does not exist: reads answer the registry's own not-found errors, a push is refused
// with a message that says only which names the caller's project may use (never whether the
// repository or its project exists).
import { SkiffError } from '../core/errors.ts';
import { ALL_PROJECTS, DEFAULT_PROJECT, repositoryProject } from '../core/projects.ts';
import type { ProjectNames } from './ports.ts';

/** `tenant`: the token's project, or '*' (ALL_PROJECTS) when it spans them all. */
export function mayUseRepository(tenant: string, repository: string, projects: ProjectNames): boolean {
  return tenant === ALL_PROJECTS || repositoryProject(repository, (n) => projects.isProject(n)) === tenant;
}

/** The refusal of a push (or upload) into a repository outside the caller's project. */
export function pushDenied(tenant: string, repository: string): SkiffError {
  // default owns every name not under another project's: saying so names no project
  const where = tenant === DEFAULT_PROJECT ? `repositories that are not under another project's name (NAME, or PREFIX/NAME where PREFIX is not a project)` : `repositories under ${tenant}/ (${tenant}/NAME)`;
  return new SkiffError('DENIED', `repository ${repository} is not in project ${tenant}: a token of project ${tenant} pushes only ${where}`);
}

/**
 * The first `limit` catalog entries after `last` that `visible` lets through, reading the catalog in
 * batches: a page of a project's repositories is as long as asked, whoever else has repositories.
 */
export async function filteredCatalog(catalog: (last: string, limit: number) => Promise<string[]>, visible: (repo: string) => boolean, last: string, limit: number): Promise<string[]> {
  const batch = Math.min(Math.max(limit, 100), 1000);
  const out: string[] = [];
  let cursor = last;
  for (;;) {
    const names = await catalog(cursor, batch);
    for (const name of names) {
      if (!visible(name)) continue;
      out.push(name);
      if (out.length >= limit) return out;
    }
    if (names.length < batch) return out;
    cursor = names.at(-1)!;
  }
}
