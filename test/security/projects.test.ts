// Projects as a table: project A holds one of every kind of resource (a service, a job and an
// execution, a trigger, an invocation, a secret, a volume, a domain, a token, its registry repository),
// and every API operation of the OpenAPI document that names a resource is walked with project B's
// tokens (deploy and admin), once with A's name and once with a name that does not exist: the two
// answers are the same (404 NOT_FOUND, or 403 when B's role lacks the permission), so B learns nothing
// of A's names. B's lists show none of A's resources; B cannot pull A's image nor deploy it; the
// operator sees both projects. Nothing B does changes A's resources.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { makeCa, tempDir } from '../domains/certs.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = !isRoot && !isCI ? 'needs root (loop volumes)' : false;

test('project B cannot tell what project A holds: every named route, every list, the registry', { skip, timeout: 240_000 }, async (t) => {
  const d = await startTestDaemon(t);
  const operator = new SkiffClient({ baseUrl: d.url, token: d.token });
  await operator.createProject('team-a');
  await operator.createProject('team-b');
  const asA = new SkiffClient({ baseUrl: d.url, token: d.token, project: 'team-a' });
  const aToken = await operator.createToken('a-deployer', 'deploy', 'team-a');
  const bTokens = { deploy: (await operator.createToken('b-deployer', 'deploy', 'team-b')).secret, admin: (await operator.createToken('b-admin', 'admin', 'team-b')).secret };

  // A's resources, one of each kind
  const img = await pushHttpdImage(d, 'team-a/app', 'v1', 'a-says-hi');
  await asA.deploy({ name: 'a-web', image: img.reference });
  await operator.setBudget('team-a', { monthly: '50.00', soft: ['80%'] });
  await asA.createJob({ name: 'a-job', image: img.reference, command: ['/bin/true'] });
  const execution = await asA.runJob('a-job');
  await asA.addTrigger({ name: 'a-cron', service: 'a-web', cron: '0 0 1 1 *' });
  const invocation = await asA.invoke('a-web', { async: true, path: '/' });
  await asA.setSecret('a-secret', { data: { K: 'v' } });
  await asA.createVolume({ name: 'a-vol', size: '8Mi' });
  const { leaf } = makeCa(tempDir());
  const cert = leaf('a.example.net');
  await asA.addDomain({ host: 'a.example.net', service: 'a-web', certificate: readFileSync(cert.certFile, 'utf8'), key: readFileSync(cert.keyFile, 'utf8') });
  const ids = invocation as unknown as { id: string };

  /** A's resource for each path parameter, by the path's first segment */
  const theirs = (p: string): string =>
    p
      .replace('/services/{name}', '/services/a-web')
      .replace('/triggers/{name}', '/triggers/a-cron')
      .replace('/jobs/{name}/executions/{id}', `/jobs/a-job/executions/${execution.id}`)
      .replace('/jobs/{name}', '/jobs/a-job')
      .replace('/invocations/{id}', `/invocations/${ids.id}`)
      .replace('/secrets/{name}', '/secrets/a-secret')
      .replace('/volumes/{name}', '/volumes/a-vol')
      .replace('/domains/{host}', '/domains/a.example.net')
      .replace('/tokens/{id}', `/tokens/${aToken.id}`)
      .replace('/projects/{name}', '/projects/team-a')
      .replace('/budgets/{name}', '/budgets/team-a')
      // a repository is one path segment, its slash encoded (api/registry-browse-routes.ts)
      .replace('{repository}', 'team-a%2Fapp')
      .replace('{tag}', 'v1')
      .replace('{digest}', `sha256:${'0'.repeat(64)}`);
  /** the same shape, a name nobody has */
  const nobodys = (p: string): string =>
    p.replace('{repository}', 'team-b%2Fnobody-zz').replace('{tag}', 'v1').replace('{digest}', `sha256:${'0'.repeat(64)}`).replace(/\{host\}/g, 'nobody.example.net').replace(/\{id\}/g, '00000000-0000-4000-8000-000000000000').replace(/\{name\}/g, 'nobody-zz');

  const call = async (token: string, method: string, p: string) => {
    const res = await fetch(d.url + p, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(['POST', 'PUT', 'PATCH'].includes(method) ? { 'content-type': 'application/json' } : {}) },
      body: ['POST', 'PUT', 'PATCH'].includes(method) ? '{}' : undefined,
    });
    const text = await res.text();
    return { status: res.status, code: /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? '', text };
  };

  const spec = (await (await fetch(`${d.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  let walked = 0;
  for (const [p, ops] of Object.entries(spec.paths)) {
    if (!p.includes('{')) continue;
    for (const method of Object.keys(ops).map((m) => m.toUpperCase())) {
      // a secret's name is its project's own: B setting `a-secret` makes B's, which is right
      if (method === 'PUT' && p === '/api/v1/secrets/{name}') continue;
      for (const [role, token] of Object.entries(bTokens)) {
        const a = await call(token, method, theirs(p));
        const none = await call(token, method, nobodys(p));
        const what = `${role} of team-b: ${method} ${theirs(p)}`;
        // with no body to check, the answer is 404 (or 403 for the role); a body `{}` may be 400 for both
        const expected = ['POST', 'PUT', 'PATCH'].includes(method) ? [400, 403, 404] : [403, 404];
        assert.ok(expected.includes(a.status), `${what} answered ${a.status} ${a.text.slice(0, 200)}`);
        assert.equal(a.status, none.status, `${what}: ${a.text.slice(0, 200)} vs a name nobody has: ${none.text.slice(0, 200)}`);
        assert.equal(a.code, none.code, what);
        for (const secretName of ['a-web', 'a-cron', 'a-job', 'a-secret', 'a-vol', 'a.example.net', 'team-a']) {
          // a 404 may repeat the name asked for, never more than that (e.g. a project or a service it holds)
          if (!theirs(p).includes(secretName)) assert.ok(!a.text.includes(secretName), `${what} names ${secretName}: ${a.text}`);
        }
        walked++;
      }
    }
  }
  assert.ok(walked >= 60, `walked ${walked} operations`);

  // B's lists: none of A's resources
  for (const [role, token] of Object.entries(bTokens)) {
    const b = new SkiffClient({ baseUrl: d.url, token });
    const lists = [
      await b.listServices(),
      await b.listTriggers(),
      await b.listJobs(),
      await b.listSecrets(),
      await b.listVolumes(),
      await b.listDomains(),
      await b.listProjects(),
      await b.listBudgets(),
      await b.listRepositories(),
      await b.servicesStats(),
      ...(role === 'admin' ? [await b.listTokens()] : []),
    ];
    const text = JSON.stringify(lists);
    for (const name of ['a-web', 'a-cron', 'a-job', 'a-secret', 'a-vol', 'a.example.net', 'team-a', 'a-deployer']) assert.ok(!text.includes(name), `${role} of team-b lists ${name}: ${text}`);
    assert.deepEqual((await b.listProjects()).projects.map((p) => p.name), ['team-b']);
    // naming A's project is naming a project it does not know
    await assert.rejects(new SkiffClient({ baseUrl: d.url, token, project: 'team-a' }).listServices(), (err: { code?: string }) => err.code === 'NOT_FOUND');
    // A's image: not there to pull, not there to deploy
    const manifest = await fetch(`${d.url}/v2/team-a/app/manifests/v1`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(manifest.status, 404, await manifest.text());
    await assert.rejects(b.deploy({ name: `b-steal-${role}`, image: img.reference }), (err: { code?: string }) => err.code === 'NAME_UNKNOWN' || err.code === 'MANIFEST_UNKNOWN');
    // and the machine-wide operations are the operator's
    await assert.rejects(b.createProject(`b-new-${role}`), (err: { code?: string }) => err.code === 'DENIED');
  }

  // A's token sees A's, not B's; the operator sees both, each with its project
  const a = new SkiffClient({ baseUrl: d.url, token: aToken.secret });
  assert.deepEqual((await a.listServices()).services.map((s) => s.name), ['a-web']);
  assert.deepEqual((await a.servicesStats()).services.map((s) => s.name), ['a-web'], 'the Services list’s sparklines: the same services');
  await new SkiffClient({ baseUrl: d.url, token: d.token, project: 'team-b' }).deploy({ name: 'b-web', image: (await pushHttpdImage(d, 'team-b/app', 'v1', 'b')).reference });
  const all = (await operator.listServices()).services.map((s) => `${s.project}/${s.name}`).sort();
  assert.deepEqual(all, ['team-a/a-web', 'team-b/b-web']);
  assert.deepEqual((await new SkiffClient({ baseUrl: d.url, token: d.token, project: 'team-b' }).listServices()).services.map((s) => s.name), ['b-web']);
  assert.deepEqual((await operator.servicesStats()).services.map((s) => `${s.project}/${s.name}`).sort(), all, 'the operator’s sparklines: both projects');
  assert.deepEqual((await new SkiffClient({ baseUrl: d.url, token: d.token, project: 'team-b' }).servicesStats()).services.map((s) => s.name), ['b-web']);
  // service names are one namespace (they are host names): B cannot take a-web, and is told only that the name is taken
  await assert.rejects(new SkiffClient({ baseUrl: d.url, token: bTokens.deploy }).deploy({ name: 'a-web', image: (await pushHttpdImage(d, 'team-b/app', 'v2', 'b2')).reference }), (err: { code?: string; message?: string }) => err.code === 'CONFLICT' && !/team-a/.test(err.message ?? ''));

  // nothing B did changed A's
  assert.equal((await asA.service('a-web')).latestRevision, 'a-web-00001');
  assert.ok((await asA.trigger('a-cron')).name);
  assert.ok((await asA.secret('a-secret')).name);
  assert.ok((await asA.getVolume('a-vol')).name);
  assert.ok((await asA.getDomain('a.example.net')).host);
  assert.ok((await operator.listTokens()).tokens.some((x) => x.id === aToken.id));
  // A's image is still there, tags and all, after B's walk tried to delete it
  assert.deepEqual((await asA.repository('team-a/app')).manifests.flatMap((m) => m.tags), ['v1']);
  assert.deepEqual((await a.listRepositories()).repositories.map((r) => r.name), ['team-a/app']);
  // default's repositories under tools/ would change hands if a project `tools` were made: refused
  await pushHttpdImage(d, 'tools/app', 'v1', 'tools');
  await assert.rejects(operator.createProject('tools'), (err: { code?: string; message?: string }) => err.code === 'CONFLICT' && /1 registry repository of the default project is named tools\//.test(err.message ?? ''));
  // a project is removed only when it holds nothing
  await assert.rejects(operator.removeProject('team-a'), (err: { code?: string; message?: string }) => err.code === 'CONFLICT' && /holds 1 service/.test(err.message ?? ''));
});
