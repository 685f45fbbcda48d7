// The dashboard's sign-in session (docs/security.md, Sessions), against a real daemon with plain fetch
// as a browser would send it: the cookies' attributes, the token never leaving the server, the CSRF
// header on every state-changing request authenticated by the cookie (and Bearer requests unaffected),
// the failed sign-in limit, signing out, a revoked token ending its sessions, and a project token's
// session seeing only its project.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { SkiffClient } from '../../src/api/client.ts';
import { SIGN_IN_FAILURES_MAX } from '../../src/api/sessions.ts';

interface SignedIn {
  session: string;
  csrf: string;
  /** the Cookie header a browser would send */
  cookie: string;
  setCookies: string[];
  res: Response;
}

async function signIn(d: TestDaemon, token: string): Promise<SignedIn> {
  const res = await fetch(`${d.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  assert.equal(res.status, 204, await res.clone().text());
  const setCookies = res.headers.getSetCookie();
  const value = (name: string) => setCookies.find((c) => c.startsWith(`${name}=`))?.split(';')[0]!.slice(name.length + 1);
  const session = value('skiff_session');
  const csrf = value('skiff_csrf');
  assert.ok(session && csrf, `both cookies are set: ${setCookies.join(' | ')}`);
  return { session, csrf, cookie: `skiff_session=${session}; skiff_csrf=${csrf}`, setCookies, res };
}

const attributes = (setCookie: string) => setCookie.split(';').slice(1).map((a) => a.trim().toLowerCase());

async function call(d: TestDaemon, method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const res = await fetch(d.url + path, { method, headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text, json: text ? (JSON.parse(text) as Record<string, any>) : undefined, headers: res.headers };
}

test('a browser session: cookies, CSRF, sign-out, revocation', async (t) => {
  const d = await startTestDaemon(t);
  const operator = new SkiffClient({ baseUrl: d.url, token: d.token });

  await t.test('signing in answers 204 with an HttpOnly session cookie and a readable CSRF cookie, and never the token', async () => {
    const s = await signIn(d, d.token);
    const sessionCookie = s.setCookies.find((c) => c.startsWith('skiff_session='))!;
    const csrfCookie = s.setCookies.find((c) => c.startsWith('skiff_csrf='))!;
    assert.deepEqual(attributes(sessionCookie).sort(), ['httponly', 'path=/api/v1', 'samesite=strict'], sessionCookie);
    // the page reads it to echo it: not HttpOnly; the same site rules
    assert.deepEqual(attributes(csrfCookie).sort(), ['path=/', 'samesite=strict'], csrfCookie);
    // plain http: no Secure (a browser would drop the cookie on any host but localhost)
    assert.ok(!s.setCookies.some((c) => /;\s*secure/i.test(c)));
    assert.notEqual(s.session, s.csrf);
    assert.ok(s.session.length >= 40 && s.csrf.length >= 40, 'ids are long random values');
    // the token is nowhere in what the browser gets
    const secretPart = d.token.slice(4);
    for (const [name, value] of s.res.headers) assert.ok(!value.includes(secretPart), `header ${name} holds no part of the token`);
    assert.equal(await s.res.text(), '');
    assert.equal(s.res.headers.get('cache-control'), 'no-store');
  });

  await t.test('a cookie-authenticated GET works, and GET /session says who is signed in', async () => {
    const s = await signIn(d, d.token);
    const who = await call(d, 'GET', '/api/v1/session', { cookie: s.cookie });
    assert.equal(who.status, 200, who.text);
    assert.deepEqual(who.json, { name: 'admin', project: '*', role: 'admin', via: 'session' });
    const list = await call(d, 'GET', '/api/v1/services', { cookie: s.cookie });
    assert.equal(list.status, 200, list.text);
    // the same route by token says so
    const byToken = await call(d, 'GET', '/api/v1/session', { authorization: `Bearer ${d.token}` });
    assert.equal(byToken.json!.via, 'token');
    // no cookie, no token: 401, as any API route
    const none = await call(d, 'GET', '/api/v1/session', {});
    assert.equal(none.status, 401);
    assert.equal(none.json!.error.code, 'UNAUTHORIZED');
    // a made-up session id is no session
    const forged = await call(d, 'GET', '/api/v1/services', { cookie: 'skiff_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    assert.equal(forged.status, 401);
  });

  await t.test('a cookie-authenticated POST needs the CSRF token in X-Skiff-CSRF', async () => {
    const s = await signIn(d, d.token);
    const without = await call(d, 'POST', '/api/v1/tokens', { cookie: s.cookie }, { name: 'csrf-none', role: 'pull' });
    assert.equal(without.status, 403, without.text);
    assert.equal(without.json!.error.code, 'CSRF_INVALID');
    assert.match(without.json!.error.message, /X-Skiff-CSRF/);
    const wrong = await call(d, 'POST', '/api/v1/tokens', { cookie: s.cookie, 'x-skiff-csrf': s.csrf.slice(0, -2) + 'xx' }, { name: 'csrf-wrong', role: 'pull' });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.json!.error.code, 'CSRF_INVALID');
    // another session's CSRF token is not this one's
    const other = await signIn(d, d.token);
    const crossed = await call(d, 'POST', '/api/v1/tokens', { cookie: s.cookie, 'x-skiff-csrf': other.csrf }, { name: 'csrf-crossed', role: 'pull' });
    assert.equal(crossed.status, 403);
    // nothing was made by the refused ones
    assert.ok(!(await operator.listTokens()).tokens.some((tk) => tk.name.startsWith('csrf-')));
    const ok = await call(d, 'POST', '/api/v1/tokens', { cookie: s.cookie, 'x-skiff-csrf': s.csrf }, { name: 'csrf-ok', role: 'pull' });
    assert.equal(ok.status, 201, ok.text);
    // DELETE and PATCH are state-changing too
    const del = await call(d, 'DELETE', `/api/v1/tokens/${ok.json!.id}`, { cookie: s.cookie });
    assert.equal(del.status, 403);
    assert.equal(del.json!.error.code, 'CSRF_INVALID');
    assert.equal((await call(d, 'DELETE', `/api/v1/tokens/${ok.json!.id}`, { cookie: s.cookie, 'x-skiff-csrf': s.csrf })).status, 204);
  });

  await t.test('a Bearer request is unaffected: no CSRF header needed, and a cookie does not rescue a wrong token', async () => {
    const s = await signIn(d, d.token);
    const bearer = await call(d, 'POST', '/api/v1/tokens', { authorization: `Bearer ${d.token}`, cookie: s.cookie }, { name: 'bearer-ok', role: 'pull' });
    assert.equal(bearer.status, 201, bearer.text);
    const wrong = await call(d, 'GET', '/api/v1/services', { authorization: 'Bearer skf_wrong', cookie: s.cookie });
    assert.equal(wrong.status, 401);
  });

  await t.test('signing out ends the session and clears the cookies', async () => {
    const s = await signIn(d, d.token);
    const noCsrf = await call(d, 'DELETE', '/api/v1/session', { cookie: s.cookie });
    assert.equal(noCsrf.status, 403);
    assert.equal(noCsrf.json!.error.code, 'CSRF_INVALID');
    assert.equal((await call(d, 'GET', '/api/v1/session', { cookie: s.cookie })).status, 200, 'a refused sign-out leaves the session');
    const out = await call(d, 'DELETE', '/api/v1/session', { cookie: s.cookie, 'x-skiff-csrf': s.csrf });
    assert.equal(out.status, 204, out.text);
    const cleared = out.headers.getSetCookie();
    for (const name of ['skiff_session', 'skiff_csrf']) assert.ok(cleared.some((c) => c.startsWith(`${name}=;`) && /max-age=0/i.test(c)), `${name} is cleared: ${cleared.join(' | ')}`);
    const after = await call(d, 'GET', '/api/v1/services', { cookie: s.cookie });
    assert.equal(after.status, 401);
    // signing out again (or with no session) is harmless
    assert.equal((await call(d, 'DELETE', '/api/v1/session', { cookie: s.cookie })).status, 204);
  });

  await t.test("a revoked token's sessions stop working", async () => {
    const made = await operator.createToken('to-revoke', 'deploy', 'default');
    const s = await signIn(d, made.secret);
    assert.equal((await call(d, 'GET', '/api/v1/services', { cookie: s.cookie })).status, 200);
    await operator.revokeToken(made.id);
    const after = await call(d, 'GET', '/api/v1/services', { cookie: s.cookie });
    assert.equal(after.status, 401, after.text);
    assert.equal((await call(d, 'GET', '/api/v1/session', { cookie: s.cookie })).status, 401);
  });

  await t.test('a session has its token’s role: a pull token’s session may not list services', async () => {
    const made = await operator.createToken('puller', 'pull', 'default');
    const s = await signIn(d, made.secret);
    const denied = await call(d, 'GET', '/api/v1/services', { cookie: s.cookie });
    assert.equal(denied.status, 403);
    assert.equal(denied.json!.error.code, 'DENIED');
  });

  await t.test('a sign-in posted from another site is refused', async () => {
    const res = await call(d, 'POST', '/api/v1/session', { 'sec-fetch-site': 'cross-site' }, { token: d.token });
    assert.equal(res.status, 403);
    assert.equal(res.json!.error.code, 'CSRF_INVALID');
    assert.equal(res.headers.getSetCookie().length, 0);
    // and a form post (not JSON) is not a sign-in at all
    const form = await fetch(`${d.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${d.token}` });
    assert.ok(form.status >= 400 && form.status < 500, `form post: ${form.status}`);
    assert.equal(form.headers.getSetCookie().length, 0);
  });
});

test('a wrong token is 401, and an address that keeps failing is rate-limited', async (t) => {
  const d = await startTestDaemon(t);
  for (let i = 0; i < SIGN_IN_FAILURES_MAX; i++) {
    const res = await call(d, 'POST', '/api/v1/session', {}, { token: `skf_guess${i}` });
    assert.equal(res.status, 401, `failure ${i + 1}: ${res.text}`);
    assert.equal(res.json!.error.code, 'UNAUTHORIZED');
    assert.equal(res.headers.getSetCookie().length, 0);
  }
  const limited = await call(d, 'POST', '/api/v1/session', {}, { token: 'skf_guess-more' });
  assert.equal(limited.status, 429, limited.text);
  assert.equal(limited.json!.error.code, 'TOOMANYREQUESTS');
  assert.ok(Number(limited.headers.get('retry-after')) > 0 && Number(limited.headers.get('retry-after')) <= 60);
  // while limited, even the right token is not looked at: the answer tells a guesser nothing
  const right = await call(d, 'POST', '/api/v1/session', {}, { token: d.token });
  assert.equal(right.status, 429);
  // the API's Bearer path is not this limit's business
  assert.equal((await call(d, 'GET', '/api/v1/services', { authorization: `Bearer ${d.token}` })).status, 200);
});

const skip = !isRoot && !isCI ? 'needs root (deploys services)' : false;

test("a project token's session sees only its project's services", { skip, timeout: 120_000 }, async (t) => {
  const d = await startTestDaemon(t);
  const operator = new SkiffClient({ baseUrl: d.url, token: d.token });
  await operator.createProject('team-a');
  await operator.createProject('team-b');
  const img = await pushHttpdImage(d, 'team-a/app', 'v1');
  await new SkiffClient({ baseUrl: d.url, token: d.token, project: 'team-a' }).deploy({ name: 'a-web', image: img.reference });
  const imgB = await pushHttpdImage(d, 'team-b/app', 'v1');
  await new SkiffClient({ baseUrl: d.url, token: d.token, project: 'team-b' }).deploy({ name: 'b-web', image: imgB.reference });

  const aToken = await operator.createToken('a-viewer', 'deploy', 'team-a');
  const s = await signIn(d, aToken.secret);
  const who = await call(d, 'GET', '/api/v1/session', { cookie: s.cookie });
  assert.deepEqual(who.json, { name: 'a-viewer', project: 'team-a', role: 'deploy', via: 'session' });
  const list = await call(d, 'GET', '/api/v1/services', { cookie: s.cookie });
  assert.equal(list.status, 200, list.text);
  assert.deepEqual((list.json!.services as Array<{ name: string; project: string }>).map((x) => `${x.project}/${x.name}`), ['team-a/a-web']);
  // naming the other project, or its service, is not there
  assert.equal((await call(d, 'GET', '/api/v1/services?project=team-b', { cookie: s.cookie })).status, 404);
  assert.equal((await call(d, 'GET', '/api/v1/services/b-web', { cookie: s.cookie })).status, 404);
  // the operator's session sees both
  const op = await signIn(d, d.token);
  const all = await call(d, 'GET', '/api/v1/services', { cookie: op.cookie });
  assert.deepEqual((all.json!.services as Array<{ name: string }>).map((x) => x.name).sort(), ['a-web', 'b-web']);
});
