// web/app: the shell — the header with the sections and sign-out, and which page shows: the sign-in
// form until the API accepts the session, then the page the address names (router.ts; docs/dashboard.md).
import { useEffect, useState } from 'preact/hooks';
import type { ServiceView } from '../../src/core/views.ts';
import { getJson, listServices, signOut } from './api.ts';
import { SignIn } from './sign-in.tsx';
import { ServicesPage } from './services.tsx';
import { useConnectionLost } from './live.ts';
import { SECTIONS, useRoute, type Route } from './router.ts';
import { ServicePage } from './pages/service.tsx';
import { TriggersPage } from './pages/triggers.tsx';
import { JobsPage } from './pages/jobs.tsx';
import { DomainsPage } from './pages/domains.tsx';
import { VolumesPage } from './pages/volumes.tsx';
import { SecretsPage } from './pages/secrets.tsx';
import { RegistryPage } from './pages/registry.tsx';
import { UsagePage } from './pages/usage.tsx';

/** GET /api/v1/session: who the session acts as (shown in the header, so nobody wonders why a
 *  project's services are missing or a button answers 403) */
interface Who {
  name: string;
  project: string;
  role: string;
}

type State = { page: 'loading' } | { page: 'sign-in'; notice?: string } | { page: 'app'; initial?: ServiceView[] };

function Page(props: { route: Route; initial?: ServiceView[] | undefined; onSignedOut: () => void }) {
  const { route, onSignedOut } = props;
  switch (route.page) {
    case 'services':
      return <ServicesPage initial={props.initial} onSignedOut={onSignedOut} />;
    case 'service':
      return <ServicePage key={route.name} name={route.name} tab={route.tab} onSignedOut={onSignedOut} />;
    case 'triggers':
      return <TriggersPage onSignedOut={onSignedOut} />;
    case 'jobs':
      return <JobsPage onSignedOut={onSignedOut} />;
    case 'domains':
      return <DomainsPage onSignedOut={onSignedOut} />;
    case 'volumes':
      return <VolumesPage onSignedOut={onSignedOut} />;
    case 'secrets':
      return <SecretsPage onSignedOut={onSignedOut} />;
    case 'registry':
      return <RegistryPage key={route.repository ?? ''} repository={route.repository} onSignedOut={onSignedOut} />;
    case 'usage':
      return <UsagePage onSignedOut={onSignedOut} />;
  }
}

export function App() {
  const [state, setState] = useState<State>({ page: 'loading' });
  const route = useRoute();
  const connectionLost = useConnectionLost();
  const [who, setWho] = useState<Who | undefined>();
  const signedIn = state.page === 'app';
  useEffect(() => {
    if (!signedIn) return setWho(undefined);
    const ac = new AbortController();
    getJson<Who>('/api/v1/session', ac.signal).then((r) => r.ok && setWho(r.value), () => {});
    return () => ac.abort();
  }, [signedIn]);

  useEffect(() => {
    // one read decides the first page: signed in (a session cookie the API accepts) or not
    const ac = new AbortController();
    listServices(ac.signal).then(
      (r) => setState(r.ok ? { page: 'app', initial: r.value } : r.signedOut ? { page: 'sign-in' } : { page: 'app' }),
      () => {},
    );
    return () => ac.abort();
  }, []);

  const section = route.page === 'service' ? 'services' : route.page;
  const onSignedOut = () => setState({ page: 'sign-in', notice: 'Your session has ended. Sign in again.' });

  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="bar">
        <span class="brand">Skiff</span>
        {state.page === 'app' && (
          <>
            <nav aria-label="Sections">
              {SECTIONS.map(([id, label]) => (
                <a href={`#/${id}`} aria-current={id === section ? 'page' : undefined}>{label}</a>
              ))}
            </nav>
            {who && (
              <span class="who" title="the token this session acts as">
                {who.name} · {who.project === '*' ? 'every project' : `project ${who.project}`} · {who.role}
              </span>
            )}
            <button type="button" class="sign-out" onClick={() => void signOut().then(() => setState({ page: 'sign-in', notice: 'Signed out.' }))}>Sign out</button>
          </>
        )}
      </header>
      {state.page === 'app' && connectionLost && (
        <p class="banner" role="status">The daemon does not answer: it may be restarting. Reconnecting…</p>
      )}
      <main id="main" tabIndex={-1}>
        {state.page === 'loading' && <p class="muted" role="status">Loading…</p>}
        {state.page === 'sign-in' && <SignIn notice={state.notice} onSignedIn={() => setState({ page: 'app' })} />}
        {state.page === 'app' && <Page route={route} initial={route.page === 'services' ? state.initial : undefined} onSignedOut={onSignedOut} />}
      </main>
    </>
  );
}
