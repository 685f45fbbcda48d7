// web/session: signing in. The dashboard hands the API token to the daemon once (POST /api/v1/session,
// JSON { token }); the daemon answers 204 and keeps the session in an HttpOnly cookie, so the token is
// never stored by this page, put in a URL or readable by a script. Everything else the dashboard asks
// rides on that cookie (fetch sends same-origin cookies by default).

export type SignInResult = { signedIn: true } | { signedIn: false; message: string };

export async function signIn(token: string): Promise<SignInResult> {
  let res: Response;
  try {
    res = await fetch('/api/v1/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    return { signedIn: false, message: 'The Skiff daemon did not answer. Is it running?' };
  }
  if (res.status === 204) return { signedIn: true };
  return { signedIn: false, message: await errorMessage(res) };
}

/** The message of the API's error shape ({ error: { code, message } }), or the status line. */
export async function errorMessage(res: Response): Promise<string> {
  if (res.status === 401 || res.status === 403) return 'That token was not accepted.';
  try {
    const body = (await res.json()) as { error?: { message?: unknown } };
    if (typeof body.error?.message === 'string') return body.error.message;
  } catch {
    // not JSON: the status says enough
  }
  return `The daemon answered ${res.status} ${res.statusText}`.trim();
}
