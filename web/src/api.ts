// web/api: the dashboard's calls to the public API (/api/v1, as in /api/openapi.json), typed with the
// core view types the API answers with. A 401 is a value, not an exception: the app shows the sign-in
// form again. Changes (POST/PUT/PATCH/DELETE) carry the session's CSRF token (the skiff_csrf cookie)
// in X-Skiff-CSRF: the daemon refuses a cookie-authenticated change without it.
import type { ServiceView } from '../../src/core/views.ts';
import { errorMessage } from './session.ts';

export type ApiResult<T> = { ok: true; value: T } | { ok: false; signedOut: true } | { ok: false; signedOut: false; message: string; code?: string; status?: number };

const NO_ANSWER = 'The Skiff daemon did not answer. Is it running?';

/** The CSRF token the daemon set at sign-in (readable by design; the session cookie is not). */
export function csrfToken(): string {
  const m = /(?:^|;\s*)skiff_csrf=([^;]*)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]!) : '';
}

async function errorOf(res: Response): Promise<{ message: string; code?: string }> {
  const copy = res.clone();
  const message = await errorMessage(res);
  try {
    const body = (await copy.json()) as { error?: { code?: unknown } };
    if (typeof body.error?.code === 'string') return { message, code: body.error.code };
  } catch {
    // not JSON
  }
  return { message };
}

/** A call of the API: GET reads, anything else changes (with the CSRF header). Aborts throw. */
export async function call<T>(method: string, path: string, opts: { body?: unknown; signal?: AbortSignal } = {}): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['x-skiff-csrf'] = csrfToken();
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    return { ok: false, signedOut: false, message: NO_ANSWER };
  }
  if (res.status === 401) return { ok: false, signedOut: true };
  if (!res.ok) return { ok: false, signedOut: false, status: res.status, ...(await errorOf(res)) };
  if (res.status === 204) return { ok: true, value: undefined as T };
  const type = res.headers.get('content-type') ?? '';
  return { ok: true, value: (type.includes('json') ? await res.json() : await res.text()) as T };
}

export function getJson<T>(path: string, signal?: AbortSignal): Promise<ApiResult<T>> {
  return call<T>('GET', path, signal ? { signal } : {});
}

export async function listServices(signal?: AbortSignal): Promise<ApiResult<ServiceView[]>> {
  const r = await getJson<{ services: ServiceView[] }>('/api/v1/services', signal);
  return r.ok ? { ok: true, value: r.value.services } : r;
}

/** Ends the session (DELETE /api/v1/session, with its CSRF token); the daemon clears both cookies. */
export async function signOut(): Promise<void> {
  await call('DELETE', '/api/v1/session').catch(() => {});
}
