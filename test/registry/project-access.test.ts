// registry/project-access and daemon/project-names without a daemon: who may use which repository,
// the catalog filtered page by page, and the in-memory project names the daemon keeps current.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filteredCatalog, mayUseRepository, pushDenied } from '../../src/registry/project-access.ts';
import { InMemoryProjectNames } from '../../src/daemon/project-names.ts';

test('a project\'s token uses its repositories, default\'s the rest, a token spanning all every one', async () => {
  const names = await InMemoryProjectNames.load({ listProjects: async () => [{ name: 'default', quota: {}, createdAt: 0 }, { name: 'team-a', quota: {}, createdAt: 0 }] });
  assert.equal(mayUseRepository('team-a', 'team-a/app', names), true);
  assert.equal(mayUseRepository('team-a', 'team-b/app', names), false);
  assert.equal(mayUseRepository('team-a', 'app', names), false);
  assert.equal(mayUseRepository('default', 'team-b/app', names), true, 'team-b is no project: its names are default\'s');
  assert.equal(mayUseRepository('default', 'team-a/app', names), false);
  assert.equal(mayUseRepository('*', 'team-a/app', names), true);
  // a project made or removed is one at once
  names.add('team-b');
  assert.equal(mayUseRepository('default', 'team-b/app', names), false);
  assert.equal(mayUseRepository('team-b', 'team-b/app', names), true);
  names.remove('team-b');
  assert.equal(mayUseRepository('team-b', 'team-b/app', names), false);
  assert.deepEqual(names.list(), ['default', 'team-a']);
});

test('a refused push reads the same for every repository outside the project, the name aside', () => {
  const message = (repo: string) => pushDenied('team-a', repo).message.split(repo).join('NAME');
  assert.equal(message('team-b/app'), message('team-z/app'));
  assert.match(message('team-b/app'), /team-a\/NAME/);
  assert.equal(pushDenied('team-a', 'x').code, 'DENIED');
});

test('the filtered catalog fills each page across batches and stops at the end', async () => {
  const all = Array.from({ length: 250 }, (_, i) => (i % 5 === 0 ? `team-a/r${String(i).padStart(3, '0')}` : `other/r${String(i).padStart(3, '0')}`)).sort();
  const calls: Array<[string, number]> = [];
  const catalog = async (last: string, limit: number) => (calls.push([last, limit]), all.filter((n) => n > last).slice(0, limit));
  const mine = (n: string) => n.startsWith('team-a/');
  const page = await filteredCatalog(catalog, mine, '', 30);
  assert.deepEqual(page, all.filter(mine).slice(0, 30));
  assert.ok(calls.length > 1, 'more than one batch was read');
  const rest = await filteredCatalog(catalog, mine, page.at(-1)!, 1000);
  assert.deepEqual(rest, all.filter(mine).slice(30));
  assert.deepEqual(await filteredCatalog(catalog, () => false, '', 10), []);
});
