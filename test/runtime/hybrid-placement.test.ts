// test/runtime/hybrid-placement.test: where the hybrid driver puts an instance (runtime/hybrid/placement.ts). Pure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InstanceSpec } from '../../src/core/instance.ts';
import { sideFor } from '../../src/runtime/hybrid/placement.ts';

const spec = (over: Partial<InstanceSpec> = {}): InstanceSpec => ({
  image: { repository: 'a/b', digest: 'sha256:' + '0'.repeat(64) }, service: 'web', revision: 'web-00001', port: 8080, env: {}, readOnlyRoot: false,
  limits: { memoryBytes: 1 << 26, cpus: 0.5, pids: 64 }, ...over,
});
const policy = { localPerRevision: 1, localMax: 3 };

test('the first instance of a revision is local, the next ones go to the swarm', () => {
  assert.equal(sideFor(spec(), { local: 0, localOfRevision: 0 }, policy), 'local');
  assert.equal(sideFor(spec(), { local: 1, localOfRevision: 1 }, policy), 'cluster');
  assert.equal(sideFor(spec(), { local: 1, localOfRevision: 0 }, { localPerRevision: 2, localMax: 3 }), 'local');
  assert.equal(sideFor(spec(), { local: 1, localOfRevision: 1 }, { localPerRevision: 2, localMax: 3 }), 'local');
});

test('this machine takes at most localMax instances in all', () => {
  assert.equal(sideFor(spec(), { local: 3, localOfRevision: 0 }, policy), 'cluster');
  assert.equal(sideFor(spec({ revision: undefined, port: undefined }), { local: 3, localOfRevision: 0 }, policy), 'cluster');
  assert.equal(sideFor(spec({ revision: undefined, port: undefined }), { local: 2, localOfRevision: 0 }, policy), 'local', 'a one-off run runs here while there is room');
});

test('what only this machine has stays here; a placement goes to the swarm', () => {
  const full = { local: 3, localOfRevision: 1 };
  assert.equal(sideFor(spec({ mounts: [{ volume: 'v', target: '/data', readOnly: false }] }), full, policy), 'local');
  assert.equal(sideFor(spec({ gpus: 1 }), full, policy), 'local');
  assert.equal(sideFor(spec({ secrets: { env: { A: 'b' }, mounts: [] } }), full, policy), 'local');
  assert.equal(sideFor(spec({ placement: { constraints: ['node.labels.zone==edge'] } }), { local: 0, localOfRevision: 0 }, policy), 'cluster');
});
