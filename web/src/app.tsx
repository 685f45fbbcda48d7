// web/app: the shell — the header, and which page shows: the sign-in form until the API accepts the
// session, then the Services page (the only page so far; docs/dashboard.md).
import { useEffect, useState } from 'preact/hooks';
import type { ServiceView } from '../../src/core/views.ts';
import { listServices } from './api.ts';
import { SignIn } from './sign-in.tsx';
import { ServicesPage } from './services.tsx';

type State = { page: 'loading' } | { page: 'sign-in'; notice?: string } | { page: 'services'; initial?: ServiceView[] };

export function App() {
  const [state, setState] = useState<State>({ page: 'loading' });

  useEffect(() => {
    // one read decides the first page: signed in (a session cookie the API accepts) or not
    const ac = new AbortController();
    listServices(ac.signal).then(
      (r) => setState(r.ok ? { page: 'services', initial: r.value } : r.signedOut ? { page: 'sign-in' } : { page: 'services' }),
      () => {},
    );
    return () => ac.abort();
  }, []);

  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="bar">
        <span class="brand">Skiff</span>
        {state.page === 'services' && (
          <nav aria-label="Sections">
            <a href="#/services" aria-current="page">Services</a>
          </nav>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {state.page === 'loading' && <p class="muted" role="status">Loading…</p>}
        {state.page === 'sign-in' && <SignIn notice={state.notice} onSignedIn={() => setState({ page: 'services' })} />}
        {state.page === 'services' && <ServicesPage initial={state.initial} onSignedOut={() => setState({ page: 'sign-in', notice: 'Your session has ended. Sign in again.' })} />}
      </main>
    </>
  );
}
