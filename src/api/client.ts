// api/client: the typed client of the control API and registry that the CLI (and tests) use.
// API errors come back as SkiffError with the server's stable code.
import { SkiffError, ERROR_CATALOGUE, type ErrorCode } from '../core/errors.ts';

export interface ClientOptions {
  baseUrl: string;
  token: string;
}

export class SkiffClient {
  constructor(readonly options: ClientOptions) {}

  get authHeader(): string {
    return `Bearer ${this.options.token}`;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.options.baseUrl), {
        method,
        headers: { authorization: this.authHeader, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new SkiffError('UNAVAILABLE', `cannot reach the Skiff API at ${this.options.baseUrl}: ${(err as Error).cause ?? (err as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) throw errorFromBody(res.status, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  health() {
    return this.request<{ status: string; version: string }>('GET', '/api/v1/health');
  }

  gc() {
    return this.request<{ blobsDeleted: number; bytesFreed: number; orphanFilesDeleted: number; uploadsExpired: number }>('POST', '/api/v1/registry/gc');
  }

  createToken(name: string, role: 'admin' | 'push' | 'pull', tenant?: string) {
    return this.request<{ id: string; secret: string }>('POST', '/api/v1/tokens', { name, role, ...(tenant ? { tenant } : {}) });
  }

  listTokens() {
    return this.request<{ tokens: Array<{ id: string; name: string; tenant: string; role: string; created_at: number }> }>('GET', '/api/v1/tokens');
  }

  revokeToken(id: string) {
    return this.request<void>('DELETE', `/api/v1/tokens/${encodeURIComponent(id)}`);
  }
}

/** Turns an API or registry error body into a SkiffError, keeping the server's code when it is known. */
export function errorFromBody(status: number, text: string): SkiffError {
  let code: string | undefined;
  let message = text.slice(0, 500);
  try {
    const body = JSON.parse(text) as { error?: { code: string; message: string }; errors?: Array<{ code: string; message: string }> };
    const e = body.error ?? body.errors?.[0];
    if (e) ({ code, message } = e);
  } catch {
    /* not JSON: keep the text */
  }
  const known = code !== undefined && code in ERROR_CATALOGUE ? (code as ErrorCode) : status === 401 ? 'UNAUTHORIZED' : 'INTERNAL';
  return new SkiffError(known, message || `HTTP ${status}`);
}
