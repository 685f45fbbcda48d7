// gateway/routing: in-memory route lookup by Host header or the /s/NAME/ path fallback, and the
// weighted choice of a revision. Rebuilt as a whole when the control plane pushes new routes.
import type { Route, RevisionTarget } from './ports.ts';

export interface Match {
  route: Route;
  /** request path as the app sees it (the /s/NAME prefix stripped) */
  path: string;
}

/** A custom domain (core/domains.ts): its host goes to the service's own route. */
export interface DomainRoute {
  host: string;
  service: string;
  /** plain HTTP for the host is redirected to https:// */
  redirectHttp: boolean;
}

export class RouteTable {
  private byHost = new Map<string, Route>();
  private byName = new Map<string, Route>();
  private domains = new Map<string, DomainRoute>();

  /** Custom domains, replaced as a whole; a service's own host names (NAME.<domain>) win over them. */
  setDomains(domains: DomainRoute[]): void {
    this.domains = new Map(domains.map((d) => [d.host.toLowerCase(), d]));
  }

  /** the custom domain of a Host header (its port ignored), if it is one */
  domain(hostHeader: string | undefined): DomainRoute | undefined {
    return hostHeader === undefined || this.domains.size === 0 ? undefined : this.domains.get(stripPort(hostHeader).toLowerCase());
  }

  /** A service's own route wins over a tag's route of the same name (service `a--b` over tag a of b). */
  replace(routes: Route[]): void {
    const byHost = new Map<string, Route>();
    const byName = new Map<string, Route>();
    for (const r of [...routes.filter((r) => r.name !== undefined), ...routes.filter((r) => r.name === undefined)]) {
      byName.set(r.name ?? r.service, r);
      for (const h of r.hosts) byHost.set(h.toLowerCase(), r);
    }
    this.byHost = byHost;
    this.byName = byName;
  }

  routes(): Route[] {
    return [...this.byName.values()];
  }

  /** `caller`: the tenant of the instance calling on the internal port (undefined: a public port). */
  match(hostHeader: string | undefined, url: string, caller?: string): Match | undefined {
    const found = caller === undefined ? this.matchPublic(hostHeader, url) : this.matchInternal(hostHeader, url, caller);
    return found && (caller === undefined ? !found.route.internal : found.route.tenant === caller) ? found : undefined;
  }

  /** An instance calling another service of its tenant: `http://NAME/`, `http://NAME.internal/` (what
   *  its /etc/hosts resolves), a tag's TAG--NAME likewise, or any of the public forms. */
  private matchInternal(hostHeader: string | undefined, url: string, caller: string): Match | undefined {
    if (hostHeader) {
      const host = stripPort(hostHeader).toLowerCase().replace(/\.$/, '');
      const r = this.byName.get(host.endsWith('.internal') ? host.slice(0, -'.internal'.length) : host);
      if (r && r.tenant === caller) return { route: r, path: url };
    }
    return this.matchPublic(hostHeader, url);
  }

  private matchPublic(hostHeader: string | undefined, url: string): Match | undefined {
    if (hostHeader) {
      const host = stripPort(hostHeader).toLowerCase();
      const r = this.byHost.get(host);
      if (r) return { route: r, path: url };
      const d = this.domains.size ? this.domains.get(host) : undefined;
      const own = d ? this.byName.get(d.service) : undefined;
      if (own && own.name === undefined) return { route: own, path: url };
    }
    if (url.startsWith('/s/')) {
      const end = url.indexOf('/', 3);
      const q = url.indexOf('?', 3);
      const stop = end < 0 ? (q < 0 ? url.length : q) : q >= 0 && q < end ? q : end;
      const r = this.byName.get(url.slice(3, stop));
      if (r) {
        const rest = url.slice(stop);
        return { route: r, path: rest.startsWith('/') ? rest : '/' + rest };
      }
    }
    return undefined;
  }
}

function stripPort(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}

/** Picks a revision by percent weights; `roll` is uniform in [0, 100). Pure so the split can be tested. */
export function pickRevision(targets: RevisionTarget[], roll: number): string | undefined {
  let acc = 0;
  for (const t of targets) {
    acc += t.percent;
    if (roll < acc) return t.revision;
  }
  return targets.findLast((t) => t.percent > 0)?.revision;
}
