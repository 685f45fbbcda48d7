// api/session-routes: /api/v1/session — the dashboard's sign-in (sessions.ts has the design).
//   POST    a token in the JSON body → 204 and two cookies: skiff_session (HttpOnly, the opaque id)
//           and skiff_csrf (readable by the page, echoed in X-Skiff-CSRF); a wrong token is 401, and
//           an address with too many failures in a minute is 429 before its token is looked at
//   GET     who is signed in (any valid token or session): the token's name, project and role
//   DELETE  signs out: ends the session the cookie names (with its CSRF token) and clears both cookies
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SkiffError } from '../core/errors.ts';
import { TOKEN_ROLES } from '../core/auth.ts';
import type { TokenPort } from './ports.ts';
import { needs, noCredential } from './auth.ts';
import { errorRef as error, sendApiError } from './errors.ts';
import { cookieValue, csrfMatches, CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, SESSION_COOKIE_PATH, setCookie, type SessionStore, type SignInLimiter } from './sessions.ts';

const whoSchema = {
  type: 'object',
  required: ['name', 'project', 'role', 'via'],
  properties: {
    name: { type: 'string', description: "the token's name" },
    project: { type: 'string', description: 'the project the token acts in, or * for every project' },
    role: { type: 'string', enum: TOKEN_ROLES },
    via: { type: 'string', enum: ['session', 'token'], description: 'session: the skiff_session cookie; token: an Authorization header' },
  },
} as const;

/** over TLS only: a browser drops a Secure cookie sent over plain http (but to localhost) */
const overTls = (req: FastifyRequest) => req.protocol === 'https';

function clearCookies(reply: FastifyReply, secure: boolean): void {
  reply.header('set-cookie', [setCookie(SESSION_COOKIE, '', { httpOnly: true, secure, maxAgeSeconds: 0, path: SESSION_COOKIE_PATH }), setCookie(CSRF_COOKIE, '', { httpOnly: false, secure, maxAgeSeconds: 0 })]);
}

export function registerSessionRoutes(api: FastifyInstance, tokens: Pick<TokenPort, 'verify'>, sessions: SessionStore, limiter: SignInLimiter): void {
  api.post(
    '/session',
    {
      config: noCredential(),
      schema: {
        summary: 'Sign in (the dashboard): the token is checked and a session cookie set; no Authorization header needed',
        tags: ['session'],
        security: [],
        body: { type: 'object', required: ['token'], additionalProperties: false, properties: { token: { type: 'string', minLength: 1, maxLength: 512, description: 'an API token (skf_…)' } } },
        response: { 204: { type: 'null', description: 'signed in: Set-Cookie skiff_session (HttpOnly) and skiff_csrf (send it back in X-Skiff-CSRF)' }, 400: error, 401: error, 403: error, 429: error },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      const address = req.ip;
      const wait = limiter.blocked(address);
      if (wait !== undefined) {
        return sendApiError(reply.header('retry-after', String(wait)), new SkiffError('TOOMANYREQUESTS', `too many failed sign-ins from this address: try again in ${wait} s`), req);
      }
      // A browser names where a request came from: a sign-in posted by another site would sign the
      // victim in as the attacker (login CSRF). Its JSON body already needs a CORS preflight no origin passes.
      if (req.headers['sec-fetch-site'] === 'cross-site') throw new SkiffError('CSRF_INVALID', 'a sign-in from another site is refused');
      const { token } = req.body as { token: string };
      const principal = await tokens.verify(token);
      if (!principal) {
        limiter.fail(address);
        throw new SkiffError('UNAUTHORIZED', 'that API token is not valid');
      }
      const previous = cookieValue(req.headers.cookie, SESSION_COOKIE);
      if (previous !== undefined) sessions.end(previous);
      const { id, csrf } = sessions.create(token);
      const secure = overTls(req);
      reply.header('set-cookie', [setCookie(SESSION_COOKIE, id, { httpOnly: true, secure, path: SESSION_COOKIE_PATH }), setCookie(CSRF_COOKIE, csrf, { httpOnly: false, secure })]);
      return reply.code(204).send();
    },
  );

  api.get(
    '/session',
    { config: needs('token'), schema: { summary: 'Who is signed in: the name, project and role of the token (by session cookie or Authorization header)', tags: ['session'], response: { 200: whoSchema, 401: error } } },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      const p = req.principal!;
      return { name: p.name, project: p.scope ?? p.tenant, role: p.role, via: req.viaSession ? 'session' : 'token' };
    },
  );

  api.delete(
    '/session',
    {
      config: noCredential(),
      schema: { summary: 'Sign out: ends the session the cookie names (needs X-Skiff-CSRF) and clears the cookies', tags: ['session'], security: [], response: { 204: { type: 'null', description: 'signed out (also when there was no session)' }, 403: error } },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      const id = cookieValue(req.headers.cookie, SESSION_COOKIE);
      const session = id === undefined ? undefined : sessions.get(id);
      // another site cannot sign the user out either (SameSite=Strict keeps the cookie from it already)
      if (session && !csrfMatches(session, req.headers[CSRF_HEADER])) throw new SkiffError('CSRF_INVALID', "signing out needs the session's CSRF token (the skiff_csrf cookie) in the X-Skiff-CSRF header");
      if (id !== undefined) sessions.end(id);
      clearCookies(reply, overTls(req));
      return reply.code(204).send();
    },
  );
}
