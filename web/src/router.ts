// web/router: which page the address names. Pages live in the URL's fragment (#/services/NAME), so a
// reload or a shared link opens the same page and the daemon serves one index.html for all of them.
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'services' }
  | { page: 'service'; name: string; tab?: string }
  | { page: 'triggers' }
  | { page: 'jobs' }
  | { page: 'domains' }
  | { page: 'volumes' }
  | { page: 'secrets' }
  | { page: 'registry'; repository?: string }
  | { page: 'usage' };

export const SECTIONS = [
  ['services', 'Services'],
  ['triggers', 'Triggers'],
  ['jobs', 'Jobs'],
  ['domains', 'Domains'],
  ['volumes', 'Volumes'],
  ['secrets', 'Secrets'],
  ['registry', 'Registry'],
  ['usage', 'Usage & billing'],
] as const;

/** The route of a fragment ("#/services/web/logs"); anything unknown is the Services page. */
export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  const [section, name, tab] = parts;
  if (section === 'services' && name) return tab ? { page: 'service', name, tab } : { page: 'service', name };
  if (section === 'registry' && name) return { page: 'registry', repository: parts.slice(1).join('/') };
  if (section && SECTIONS.some(([s]) => s === section) && section !== 'services') return { page: section as Exclude<Route['page'], 'service' | 'services'> } as Route;
  return { page: 'services' };
}

/** "#/services/NAME": the address of a route (names are encoded, slashes in repositories kept). */
export function href(route: Route): string {
  switch (route.page) {
    case 'service':
      return `#/services/${encodeURIComponent(route.name)}${route.tab ? `/${encodeURIComponent(route.tab)}` : ''}`;
    case 'registry':
      return route.repository ? `#/registry/${route.repository.split('/').map(encodeURIComponent).join('/')}` : '#/registry';
    default:
      return `#/${route.page}`;
  }
}

/** The current route, following the address as it changes. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
