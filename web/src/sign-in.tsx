// web/sign-in: the sign-in form — one API token field; the token goes to the daemon once (session.ts)
// and is not kept by the page.
import { useRef, useState } from 'preact/hooks';
import { signIn } from './session.ts';

export function SignIn(props: { notice?: string | undefined; onSignedIn: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const input = useRef<HTMLInputElement>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    const token = input.current?.value.trim() ?? '';
    if (!token) {
      setError('Enter an API token.');
      input.current?.focus();
      return;
    }
    setBusy(true);
    setError(undefined);
    const result = await signIn(token);
    setBusy(false);
    if (input.current) input.current.value = '';
    if (result.signedIn) props.onSignedIn();
    else {
      setError(result.message);
      input.current?.focus();
    }
  };

  return (
    <section class="sign-in" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in</h1>
      {props.notice && <p role="status">{props.notice}</p>}
      <form onSubmit={submit} noValidate>
        <label for="token">API token</label>
        <input id="token" ref={input} type="password" name="token" autocomplete="off" spellcheck={false} required
          aria-describedby={error ? 'token-help token-error' : 'token-help'} aria-invalid={error ? 'true' : undefined} />
        <p id="token-help" class="muted">A token from <code>skiff token create</code>, or the daemon's admin token file.</p>
        {error && <p id="token-error" class="error" role="alert">{error}</p>}
        <button type="submit" disabled={busy} aria-busy={busy ? 'true' : undefined}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </section>
  );
}
