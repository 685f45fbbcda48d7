// web/api: the dashboard's reads of the public API (/api/v1, as in /api/openapi.json), typed with the
// core view types the API answers with. A 401 is a value, not an exception: the app shows the sign-in
// form again.
import type { ServiceView } from '../../src/core/views.ts';
import { errorMessage } from './session.ts';

export type ApiResult<T> = { ok: true; value: T } | { ok: false; signedOut: true } | { ok: false; signedOut: false; message: string };

async function getJson<T>(path: string, signal?: AbortSignal): Promise<ApiResult<T>> {
  let res: Response;
  try {
    res = await fetch(path, { headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store', ...(signal ? { signal } : {}) });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    return { ok: false, signedOut: false, message: 'The Skiff daemon did not answer. Is it running?' };
  }
  if (res.status === 401) return { ok: false, signedOut: true };
  if (!res.ok) return { ok: false, signedOut: false, message: await errorMessage(res) };
  return { ok: true, value: (await res.json()) as T };
}

export async function listServices(signal?: AbortSignal): Promise<ApiResult<ServiceView[]>> {
  const r = await getJson<{ services: ServiceView[] }>('/api/v1/services', signal);
  return r.ok ? { ok: true, value: r.value.services } : r;
}
