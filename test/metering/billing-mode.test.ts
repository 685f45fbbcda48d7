// The billing mode flows like every spec field: `--billing` → the deploy document → the revision's spec
// → back to a document (export, update), and an update that does not name it keeps it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseDeployDocument } from '../../src/serving/spec.ts';
import { documentFromSpec } from '../../src/serving/update.ts';
import { patchFromFlags } from '../../src/cli/services.ts';
import { SkiffError } from '../../src/core/errors.ts';

test('--billing request|instance: document, spec and back; request is the default and is not written', () => {
  const inst = normaliseDeployDocument({ name: 'api', image: 'team/api:v1', billing: 'instance' });
  assert.equal(inst.spec.billing, 'instance');
  assert.equal(documentFromSpec(inst.spec).billing, 'instance');
  const req = normaliseDeployDocument({ name: 'api', image: 'team/api:v1', billing: 'request' });
  assert.equal(req.spec.billing, undefined, 'the default, as revisions before the field');
  assert.equal(documentFromSpec(req.spec).billing, undefined);
});

test('the --billing flag is checked by the CLI', () => {
  const base = { env: [], capAdd: [], envFromSecret: [], secretEnv: [], secretMount: [] };
  assert.equal(patchFromFlags({ ...base, billing: 'instance' } as unknown as Parameters<typeof patchFromFlags>[0]).billing, 'instance');
  assert.equal(patchFromFlags(base as unknown as Parameters<typeof patchFromFlags>[0]).billing, undefined);
  assert.throws(() => patchFromFlags({ ...base, billing: 'hourly' } as unknown as Parameters<typeof patchFromFlags>[0]), (e: unknown) => e instanceof SkiffError && /--billing/.test(e.message));
});
