// core/projects repositoryProject: which project a registry repository belongs to. A project's
// repositories are under its name (team-a/…); every other name is default's, so the names a
// single-tenant Skiff used before projects existed stay where they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PROJECT, repositoryProject } from '../../src/core/projects.ts';

const projects = new Set(['default', 'team-a', 'team-b']);
const isProject = (name: string) => projects.has(name);

test('a repository under a project\'s name is that project\'s', () => {
  assert.equal(repositoryProject('team-a/app', isProject), 'team-a');
  assert.equal(repositoryProject('team-b/app', isProject), 'team-b');
  // deeper names too: only the first component says the project
  assert.equal(repositoryProject('team-a/tools/app', isProject), 'team-a');
});

test('every other repository is default\'s', () => {
  for (const repo of ['app', 'tools/app', 'team-c/app', 'team-a-x/app', 'team/a/app', 'library/busybox']) {
    assert.equal(repositoryProject(repo, isProject), DEFAULT_PROJECT, repo);
  }
});

test('default/… is default\'s, like any name: default owns no prefix of its own', () => {
  assert.equal(repositoryProject('default/app', isProject), DEFAULT_PROJECT);
});

test('a name is only a project\'s while the project exists', () => {
  const names = new Set<string>();
  const lookup = (n: string) => names.has(n);
  assert.equal(repositoryProject('team-c/app', lookup), DEFAULT_PROJECT);
  names.add('team-c');
  assert.equal(repositoryProject('team-c/app', lookup), 'team-c');
  names.delete('team-c');
  assert.equal(repositoryProject('team-c/app', lookup), DEFAULT_PROJECT);
});

test('the project list is asked only about the first component of a name with a slash', () => {
  const asked: string[] = [];
  const spy = (n: string) => (asked.push(n), isProject(n));
  repositoryProject('app', spy);
  repositoryProject('team-a/x/y', spy);
  assert.deepEqual(asked, ['team-a']);
});
