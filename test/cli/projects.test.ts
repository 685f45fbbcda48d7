// `skiff project` and project-scoped tokens with the compiled CLI against a real daemon: create with
// quotas, list and describe (quota against use, what it holds), change a quota, bad values named by
// their flag before any request, a project's token acting only in its project (and `--project`
// naming another is NOT_FOUND), the operator acting in one with the global --project, rm refused
// while it holds something and revoking its tokens once empty.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon } from '../helpers/daemon.ts';
import { skiff, skiffFails, skiffOk } from '../helpers/cli.ts';
import { SkiffClient } from '../../src/api/client.ts';
import type { ProjectView } from '../../src/core/views.ts';

test('skiff project: create, ls, describe, quota, rm; tokens of a project act in it only', async (t) => {
  const d = await startTestDaemon(t);

  assert.match(await skiffOk(d, ['project', 'create', 'team-a', '--quota-instances', '20', '--quota-memory', '8Gi', '--quota-cpu', '4']), /^created {3}team-a: instances 20, memory 8Gi, cpu 4$/m);
  await skiffOk(d, ['project', 'create', 'team-b']);
  // bad values: named by their flag, nothing made
  await skiffFails(d, ['project', 'create', 'Team_C'], /BAD_REQUEST: name: "Team_C" is not a project name/);
  await skiffFails(d, ['project', 'create', 'team-c', '--quota-memory', 'lots'], /BAD_REQUEST: --quota-memory: expected a memory size/);
  await skiffFails(d, ['project', 'create', 'team-c', '--quota-instances', '-1'], /BAD_REQUEST: --quota-instances: expected a non-negative integer/);
  await skiffFails(d, ['project', 'create', 'team-a'], /CONFLICT: a project named team-a exists/);
  await skiffFails(d, ['project', 'describe', 'nope'], /NOT_FOUND: no project named nope/);

  const ls = await skiffOk(d, ['project', 'ls']);
  assert.match(ls, /^NAME\s+INSTANCES\s+MEMORY\s+CPU\s+SERVICES\s+CREATED$/m);
  assert.match(ls, /^default\s+0\s+0Mi\s+0\s+0\s/m);
  assert.match(ls, /^team-a\s+0\/20\s+0Mi\/8Gi\s+0\/4\s+0\s/m);
  assert.match(ls, /^team-b\s+0\s+0Mi\s+0\s+0\s/m);
  const described = JSON.parse(await skiffOk(d, ['project', 'describe', 'team-a', '-o', 'json'])) as ProjectView;
  assert.deepEqual(described.quota, { instances: 20, memoryBytes: 8 * 1024 ** 3, cpu: 4 });
  assert.match(await skiffOk(d, ['project', 'quota', 'team-a', '--quota-cpu', 'none', '--quota-instances', '40']), /^instances {3}0\/40$[\s\S]*^memory {6}0Mi\/8Gi$[\s\S]*^cpu {9}0 \(no quota\)$/m);

  // a project's token: acts in its project, names no other
  const ci = (await skiffOk(d, ['token', 'create', 'ci', '--project', 'team-a', '--role', 'deploy'])).trim();
  assert.match(await skiffOk(d, ['token', 'ls']), new RegExp(`deploy\\s+team-a\\s+ci$`, 'm'));
  const asCi = (args: string[]) => skiff(d, args, ci);
  assert.match((await asCi(['project', 'ls'])).stdout, /^team-a\s/m);
  assert.doesNotMatch((await asCi(['project', 'ls'])).stdout, /team-b|default/);
  let r = await asCi(['--project', 'team-b', 'ls']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^skiff: error NOT_FOUND: no project "team-b"$/m);
  r = await asCi(['project', 'describe', 'team-b']);
  assert.match(r.stderr, /NOT_FOUND: no project named team-b/, 'another project reads as one that does not exist');
  r = await asCi(['project', 'create', 'mine']);
  assert.match(r.stderr, /DENIED: a deploy token may not do this: it needs projects:manage/);
  r = await asCi(['token', 'create', 'more', '--project', '*']);
  assert.match(r.stderr, /DENIED: a deploy token may not do this: it needs tokens:manage/);
  // a project's admin makes tokens of its own project only
  const aAdmin = (await skiffOk(d, ['token', 'create', 'a-admin', '--project', 'team-a', '--role', 'admin'])).trim();
  r = await skiff(d, ['token', 'create', 'escape', '--project', '*'], aAdmin);
  assert.match(r.stderr, /NOT_FOUND: project: no project "\*"/);
  r = await skiff(d, ['token', 'create', 'sideways', '--project', 'team-b'], aAdmin);
  assert.match(r.stderr, /NOT_FOUND: project: no project "team-b"/);
  assert.equal((await skiff(d, ['token', 'create', 'teammate', '--role', 'push'], aAdmin)).code, 0);
  const listed = (await skiff(d, ['token', 'ls', '-o', 'json'], aAdmin)).stdout;
  assert.deepEqual((JSON.parse(listed) as { tokens: Array<{ name: string }> }).tokens.map((x) => x.name).sort(), ['a-admin', 'ci', 'teammate']);

  // the operator acts in a project with the global --project; rm refuses while it holds anything
  await skiffOk(d, ['--project', 'team-b', 'secret', 'set', 'db', 'PASSWORD=x']);
  assert.match(await skiffOk(d, ['--project', 'team-b', 'secret', 'ls']), /^db\s+1\s/m);
  assert.doesNotMatch(await skiffOk(d, ['secret', 'ls']), /^db\s/m, 'the default project has no db');
  await skiffFails(d, ['project', 'rm', 'team-b'], /CONFLICT: project team-b still holds 1 secret: remove them first/);
  await skiffOk(d, ['--project', 'team-b', 'secret', 'rm', 'db']);
  const bToken = (await skiffOk(d, ['token', 'create', 'b-ci', '--project', 'team-b', '--role', 'deploy'])).trim();
  assert.match(await skiffOk(d, ['project', 'rm', 'team-b']), /^removed {3}team-b$/m);
  // its tokens went with it
  r = await skiff(d, ['ls'], bToken);
  assert.match(r.stderr, /UNAUTHORIZED/);
  await skiffFails(d, ['project', 'rm', 'default'], /CONFLICT: the default project is never removed/);
  // and the API agrees with the CLI
  const projects = await new SkiffClient({ baseUrl: d.url, token: d.token }).listProjects();
  assert.deepEqual(projects.projects.map((p) => p.name), ['default', 'team-a']);
});
