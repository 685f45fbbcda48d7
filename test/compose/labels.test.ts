// The deploy document's `labels` (Knative metadata.labels; `skiff compose` records its project there):
// Kubernetes' rules in the schema, kept in the revision's spec, carried over by an update.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import { deployDocumentSchema, deployPatchSchema } from '../../src/core/documents.ts';
import { normaliseDeployDocument } from '../../src/serving/spec.ts';
import { documentFromSpec } from '../../src/serving/update.ts';

test('labels: valid Kubernetes labels pass the deploy schema, others are refused; a patch may remove one', () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validate = ajv.compile(deployDocumentSchema);
  const doc = (labels: Record<string, unknown>) => ({ name: 'web', image: 'team/web:v1', labels });
  assert.ok(validate(doc({ 'com.docker.compose.project': 'shop_1', 'com.docker.compose.service': 'web', team: '', 'example.com/tier': 'A.b-c' })), JSON.stringify(validate.errors));
  for (const bad of [{ 'bad key': 'x' }, { k: 'has space' }, { k: 'x'.repeat(64) }, { ['a'.repeat(64)]: 'x' }, { k: '-leading' }, { k: 1 }]) {
    assert.equal(validate(doc(bad)), false, JSON.stringify(bad));
  }
  const patch = ajv.compile(deployPatchSchema);
  assert.ok(patch({ labels: { team: null, tier: 'web' } }), JSON.stringify(patch.errors));
  assert.ok(patch({ labels: null }));
});

test('labels: kept in the revision\'s spec and carried over to the document an update starts from', () => {
  const { spec } = normaliseDeployDocument({ name: 'web', image: 'team/web:v1', labels: { 'com.docker.compose.project': 'shop' } });
  assert.deepEqual(spec.labels, { 'com.docker.compose.project': 'shop' });
  assert.deepEqual(documentFromSpec(spec).labels, { 'com.docker.compose.project': 'shop' });
  assert.equal(normaliseDeployDocument({ name: 'web', image: 'team/web:v1', labels: {} }).spec.labels, undefined);
});
