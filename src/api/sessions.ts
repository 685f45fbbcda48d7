// api/sessions: browser sign-in for the dashboard. `POST /api/v1/session` with an API token answers an
// opaque session id in an HttpOnly cookie and a CSRF token in a cookie the page reads; the token itself
// stays on the server, in this process's memory only (never in a cookie, a URL or a log). Each use
// verifies the token again (TokenPort.verify), so revoking it ends its sessions within the token
// cache's TTL. A cookie-authenticated state-changing request must echo the CSRF token in X-Skiff-CSRF
// (compared in constant time with the session's own: the cookie is a way to hand it to the page, not
// what is checked, so a cookie planted by a sibling host cannot forge one). docs/security.md, Sessions.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'skiff_session';
export const CSRF_COOKIE = 'skiff_csrf';
/** the header a cookie-authenticated POST, PUT, PATCH or DELETE must carry (lower case, as node has it) */
export const CSRF_HEADER = 'x-skiff-csrf';
/** a session unused this long is gone */
export const SESSION_IDLE_MS = 12 * 60 * 60 * 1000;
/** at most this many sessions; the least recently used goes first */
export const SESSION_MAX = 10_000;
/** failed sign-ins one remote address may make per window before it is answered 429 */
export const SIGN_IN_FAILURES_MAX = 10;
export const SIGN_IN_WINDOW_MS = 60_000;
const LIMITER_MAX_ADDRESSES = 10_000;

/** What the server keeps for a session: the token it stands for and the CSRF token it expects. */
export interface Session {
  secret: string;
  csrf: string;
  lastUsed: number;
}

const digest = (s: string) => createHash('sha256').update(s).digest();
/** the map's key: a hash of the id, so nothing in memory holds the cookie's value as such */
const keyOf = (id: string) => digest(id).toString('base64url');

export class SessionStore {
  /** insertion order is use order (touched entries move to the end): the first is the least recently used */
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly now: () => number,
    private readonly idleMs = SESSION_IDLE_MS,
    private readonly max = SESSION_MAX,
  ) {}

  /** A new session for a verified token: its id (the cookie) and CSRF token. */
  create(secret: string): { id: string; csrf: string } {
    const id = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    while (this.sessions.size >= this.max) this.sessions.delete(this.sessions.keys().next().value!);
    this.sessions.set(keyOf(id), { secret, csrf, lastUsed: this.now() });
    return { id, csrf };
  }

  /** The live session with this id (its idle time starts again), or undefined. */
  get(id: string): Session | undefined {
    const key = keyOf(id);
    const s = this.sessions.get(key);
    if (!s) return undefined;
    const now = this.now();
    this.sessions.delete(key);
    if (now - s.lastUsed >= this.idleMs) return undefined;
    s.lastUsed = now;
    this.sessions.set(key, s);
    return s;
  }

  end(id: string): void {
    this.sessions.delete(keyOf(id));
  }

  get size(): number {
    return this.sessions.size;
  }
}

/** Whether `header` is the session's CSRF token, in time independent of where they differ. */
export function csrfMatches(session: Session, header: unknown): boolean {
  if (typeof header !== 'string' || header === '') return false;
  return timingSafeEqual(digest(header), digest(session.csrf));
}

/** Failed sign-ins per remote address in a fixed window, bounded in memory (the oldest address goes first). */
export class SignInLimiter {
  private readonly failures = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly now: () => number,
    private readonly max = SIGN_IN_FAILURES_MAX,
    private readonly windowMs = SIGN_IN_WINDOW_MS,
  ) {}

  /** undefined when `address` may try; else the seconds until it may */
  blocked(address: string): number | undefined {
    const f = this.failures.get(address);
    if (!f) return undefined;
    const left = f.start + this.windowMs - this.now();
    if (left <= 0) {
      this.failures.delete(address);
      return undefined;
    }
    return f.count >= this.max ? Math.ceil(left / 1000) : undefined;
  }

  fail(address: string): void {
    const now = this.now();
    const f = this.failures.get(address);
    if (f && now - f.start < this.windowMs) {
      f.count++;
      return;
    }
    this.failures.delete(address);
    if (this.failures.size >= LIMITER_MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
    this.failures.set(address, { start: now, count: 1 });
  }
}

/** The value of cookie `name` in a Cookie header (the first one, as browsers send the most specific first). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return value === '' ? undefined : value;
  }
  return undefined;
}

/** Where the session cookie is sent: the API only. Browsers share a host's cookies across its ports,
 *  so a cookie for `/` would also go to the gateway's path URLs (`http://HOST:8080/s/NAME/`) and on
 *  to the user's service; the gateway answers nothing under /api/v1, so there it is never sent. */
export const SESSION_COOKIE_PATH = '/api/v1';

/**
 * A Set-Cookie value. SameSite=Strict always; `path` (default `/`); Secure only over TLS: a browser
 * refuses to store a Secure cookie from plain http on any host but localhost, and the control API is
 * plain http on loopback by default (docs/security.md, Sessions).
 */
export function setCookie(name: string, value: string, opts: { httpOnly: boolean; secure: boolean; maxAgeSeconds?: number; path?: string }): string {
  const parts = [`${name}=${value}`, `Path=${opts.path ?? '/'}`, 'SameSite=Strict'];
  if (opts.httpOnly) parts.push('HttpOnly');
  if (opts.secure) parts.push('Secure');
  if (opts.maxAgeSeconds !== undefined) parts.push(`Max-Age=${opts.maxAgeSeconds}`);
  return parts.join('; ');
}
