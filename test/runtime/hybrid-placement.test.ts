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

const at = (started: number, waiting: number, local = started + waiting) => ({ startedOfRevision: started, waitingOfRevision: waiting, local });

test('the first instance of a revision is local, the next ones go to the swarm; one spare waits here', () => {
  assert.equal(sideFor(spec(), at(0, 0), policy), 'local', 'from zero');
  assert.equal(sideFor(spec(), at(1, 0), policy), 'local', 'the spare, while the first responder still runs (or drains)');
  assert.equal(sideFor(spec(), at(1, 1), policy), 'cluster', 'a spare waits already');
  assert.equal(sideFor(spec(), at(0, 1), policy), 'cluster', 'the spare is the first responder');
  assert.equal(sideFor(spec(), at(2, 0), policy), 'cluster', 'the spare was started: the burst goes to the swarm');
  assert.equal(sideFor(spec(), at(1, 0), { localPerRevision: 2, localMax: 3 }), 'local');
  assert.equal(sideFor(spec(), at(2, 1), { localPerRevision: 2, localMax: 4 }), 'cluster');
});

test('this machine takes at most localMax instances in all', () => {
  assert.equal(sideFor(spec(), at(0, 0, 3), policy), 'cluster');
  assert.equal(sideFor(spec({ revision: undefined, port: undefined }), at(0, 0, 3), policy), 'cluster');
  assert.equal(sideFor(spec({ revision: undefined, port: undefined }), at(0, 0, 2), policy), 'local', 'a one-off run runs here while there is room');
});

test('what only this machine has stays here; a placement goes to the swarm', () => {
  const full = at(1, 0, 3);
  assert.equal(sideFor(spec({ mounts: [{ volume: 'v', target: '/data', readOnly: false }] }), full, policy), 'local');
  assert.equal(sideFor(spec({ gpus: 1 }), full, policy), 'local');
  assert.equal(sideFor(spec({ secrets: { env: { A: 'b' }, mounts: [] } }), full, policy), 'local');
  assert.equal(sideFor(spec({ placement: { constraints: ['node.labels.zone==edge'] } }), at(0, 0), policy), 'cluster');
});
