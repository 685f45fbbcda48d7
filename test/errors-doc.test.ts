// docs/errors.md must list exactly the catalogue in src/core/errors.ts (regenerate the table with
// `node bin/run-ts.mjs scripts/errors-doc.ts`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { errorTable } from '../scripts/errors-doc.ts';

test('docs/errors.md lists every error code with its status, kind and meaning', () => {
  const doc = readFileSync('docs/errors.md', 'utf8');
  assert.ok(doc.includes(errorTable()), 'docs/errors.md is out of step with src/core/errors.ts; paste the output of `node bin/run-ts.mjs scripts/errors-doc.ts`');
});
