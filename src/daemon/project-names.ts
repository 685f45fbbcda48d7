// daemon/project-names: the names of the projects, in memory. Which project a registry repository
// belongs to depends on them (core/projects.ts repositoryProject), and the registry asks on every
// /v2 request, blobs included: a database query each time would be one per layer of every pull.
// Loaded once at start; the project service tells it of each project it makes or removes, so it is
// never staler than the request that changed the projects.
import type { ProjectsRepository } from '../store/repositories.ts';
import type { ProjectNames } from '../registry/ports.ts';

export class InMemoryProjectNames implements ProjectNames {
  private readonly names = new Set<string>();

  /** every project the store has now */
  static async load(projects: Pick<ProjectsRepository, 'listProjects'>): Promise<InMemoryProjectNames> {
    const known = new InMemoryProjectNames();
    for (const p of await projects.listProjects()) known.add(p.name);
    return known;
  }

  /** whether a project of that name exists (`default` does, though it owns no `default/` prefix: repositoryProject) */
  isProject(name: string): boolean {
    return this.names.has(name);
  }

  /** a project was made (call once the store has it) */
  add(name: string): void {
    this.names.add(name);
  }

  /** a project was removed (call once the store no longer has it) */
  remove(name: string): void {
    this.names.delete(name);
  }

  /** the names known, sorted (diagnostics, tests) */
  list(): string[] {
    return [...this.names].sort();
  }
}
