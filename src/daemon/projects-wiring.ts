// daemon/projects-wiring: builds the project service and the owner lookups the API checks every
// named resource against, from the store. Composition only: the rules are in serving/projects.ts
// and api/auth.ts.
import type { Clock } from '../core/clock.ts';
import type { ProjectRecord, ProjectUsage } from '../core/projects.ts';
import type { OwnerLookup } from '../api/auth.ts';
import { ProjectService } from '../serving/projects.ts';
import type { Store } from '../store/repositories.ts';

export interface ProjectsWiring {
  service: ProjectService;
  owners: OwnerLookup;
}

export function wireProjects(o: {
  store: Store;
  clock: Clock;
  usage(project: string): ProjectUsage;
  /** each in-memory copy of projects (registry names, scheduler quotas) to keep current */
  listeners: Array<(project: string, record: ProjectRecord | undefined) => void>;
}): ProjectsWiring {
  const { store } = o;
  const service = new ProjectService({
    records: store.projects,
    tokens: store.tokens,
    usage: o.usage,
    changed: (project, record) => {
      for (const l of o.listeners) l(project, record);
    },
    clock: o.clock,
  });
  const owners: OwnerLookup = {
    service: async (name) => (await store.serving.getService(name))?.tenant,
    trigger: async (name) => (await store.events.getTrigger(name))?.trigger.tenant,
    job: async (name) => (await store.jobs.getJob(name))?.tenant,
    invocation: async (id) => (await store.events.getInvocation(id))?.tenant,
    domain: async (host) => (await store.domains.getDomain(host.toLowerCase()))?.tenant,
    token: async (id) => (await store.tokens.list()).find((t) => t.id === id)?.tenant,
    project: async (name) => ((await store.projects.getProject(name)) ? name : undefined),
  };
  return { service, owners };
}
