// serving/update, pure: JSON merge patch (RFC 7396's own examples), the document rebuilt from a spec
// for revisions deployed before documents were kept (it normalises back to the same spec), and what an
// update carries over: the stated document, the image pinned, the service's current bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeployDocument } from '../../src/core/documents.ts';
import type { RevisionRecord } from '../../src/core/service.ts';
import { normaliseDeployDocument } from '../../src/serving/spec.ts';
import { mergePatch } from '../../src/core/merge-patch.ts';
import { currentDocument, documentFromSpec, updatedDocument } from '../../src/serving/update.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;

function revision(document: DeployDocument | undefined, spec = normaliseDeployDocument(document ?? { name: 'web', image: 'team/web:v1' }).spec): RevisionRecord {
  return { name: 'web-00003', service: 'web', generation: 3, image: { repository: 'team/web', digest: DIGEST }, spec, ...(document ? { document } : {}), createdAt: 1 };
}

test('mergePatch follows RFC 7396 (its appendix A examples)', () => {
  const cases: Array<[unknown, unknown, unknown]> = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, result] of cases) assert.deepEqual(mergePatch(target, patch), result, JSON.stringify({ target, patch }));
});

test('a document rebuilt from a spec normalises back to that spec', () => {
  const docs: DeployDocument[] = [
    { name: 'web', image: 'team/web:v1' },
    {
      name: 'api',
      image: 'team/api@' + DIGEST,
      port: 3000,
      command: ['/bin/app'],
      args: ['--fast'],
      env: { A: '1' },
      resources: { memory: '128Mi', cpu: '500m', pids: 64, disk: '64Mi' },
      capabilities: ['NET_RAW'],
      readOnlyRoot: true,
      timeout: '90s',
      queueLimit: 7,
      drainGrace: '3s',
      scaling: { min: 1, max: 4, concurrency: 5, metric: 'rps', window: '30s', panicWindowPercent: 20, panicThreshold: 3, idle: '45s', scaleToZeroGrace: '5s', freezeIdle: true, keepAlive: 'fixed' },
      readiness: { path: '/ready', period: '2s', timeout: '500ms', failureThreshold: 5 },
      liveness: { path: '/live', period: '20s' },
    },
    { name: 'cm', image: 'x:1', scaling: { metric: 'custom', customMetric: { path: '/metrics', name: 'queue_depth' }, target: 10, utilization: 50 } },
  ];
  for (const doc of docs) {
    const { spec } = normaliseDeployDocument(doc);
    assert.deepEqual(normaliseDeployDocument(documentFromSpec(spec)).spec, spec, doc.name);
  }
});

test('an update carries the stated document over: the image pinned, the service’s bounds, a default that followed another setting keeps following it', () => {
  const stated: DeployDocument = { name: 'web', image: 'team/web:v1', env: { A: '1', B: '2' }, resources: { memory: '128Mi' }, scaling: { min: 1, max: 3, concurrency: 50 } };
  const rev = revision(stated);
  assert.equal(rev.spec.scaling.target, 50, 'the target followed the concurrency');
  // `skiff scale` moved the bounds after the deploy: the service's bounds are what carries over
  const doc = updatedDocument(rev, { min: 2, max: 6 }, { env: { A: '9', B: null }, scaling: { concurrency: 10 } });
  assert.deepEqual(doc, { name: 'web', image: `team/web@${DIGEST}`, env: { A: '9' }, resources: { memory: '128Mi' }, scaling: { min: 2, max: 6, concurrency: 10 } });
  const { spec, scale } = normaliseDeployDocument(doc);
  assert.equal(spec.scaling.target, 10, 'the target follows the new concurrency, not the old value');
  assert.deepEqual(scale, { min: 2, max: 6 });
  assert.equal(spec.memoryBytes, 128 * 1024 ** 2);

  // null resets: the memory limit goes back to the default; a new image replaces the pinned one
  const reset = updatedDocument(rev, { min: 1, max: 3 }, { resources: { memory: null }, image: 'team/web:v2' });
  assert.equal(normaliseDeployDocument(reset).spec.memoryBytes, 256 * 1024 ** 2);
  assert.equal(reset.image, 'team/web:v2');
  assert.throws(() => updatedDocument(rev, { min: 1, max: 3 }, { name: 'other' } as never), /cannot rename/);
});

test('a revision deployed before documents were kept updates from its spec: every setting carried as it ran', () => {
  const old = revision(undefined, normaliseDeployDocument({ name: 'web', image: 'team/web:v1', port: 9000, env: { K: 'v' }, timeout: '42s' }).spec);
  const doc = currentDocument(old, { min: 0, max: 10 });
  const { spec } = normaliseDeployDocument(updatedDocument(old, { min: 0, max: 10 }, { env: { K2: 'w' } }));
  assert.equal(doc.image, `team/web@${DIGEST}`);
  assert.equal(spec.port, 9000);
  assert.deepEqual(spec.env, { K: 'v', K2: 'w' });
  assert.equal(spec.timeoutMs, 42_000);
});
