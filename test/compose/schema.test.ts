// The Compose schema: `skiff compose` validates files at run time against schemas/compose-spec.json,
// a copy of the reference ../shared/schemas/compose-spec.json that must stay byte for byte equal; and
// every Compose fixture the tests use is valid against the reference itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { SHARED_SCHEMAS, composeValidator } from '../helpers/schemas.ts';
import { interpolateTree } from '../../src/cli/compose/interpolate.ts';
import { validateCompose } from '../../src/cli/compose/load.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURES = path.join(import.meta.dirname, 'fixtures');

function composeFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? composeFiles(p) : /^(docker-)?compose\.ya?ml$/.test(name) ? [p] : [];
  });
}

test('the vendored schemas/compose-spec.json is the reference ../shared/schemas/compose-spec.json, unchanged', () => {
  assert.ok(readFileSync(path.join(ROOT, 'schemas', 'compose-spec.json')).equals(readFileSync(path.join(SHARED_SCHEMAS, 'compose-spec.json'))), 'copy ../shared/schemas/compose-spec.json over schemas/compose-spec.json');
});

test('every Compose fixture is valid against the reference schema (interpolated with its defaults, as compose does)', async () => {
  const files = composeFiles(FIXTURES);
  assert.ok(files.length >= 2, files.join(', '));
  const validate = composeValidator();
  for (const f of files) {
    const model = interpolateTree(YAML.parse(readFileSync(f, 'utf8')), {}, new Set());
    assert.ok(validate(model), `${path.relative(ROOT, f)}: ${JSON.stringify(validate.errors, null, 2)}`);
    await validateCompose(model, f); // and the runtime validator agrees
  }
});

test('the runtime validator refuses what the reference refuses', async () => {
  const validate = composeValidator();
  for (const bad of [{ services: { web: { image: 'a', privilegd: true } } }, { services: { web: { image: 'a', ports: 'x' } } }, { services: [] }, { services: { web: { image: 'a', depends_on: { db: { condition: 'whenever' } } } } }]) {
    assert.equal(validate(bad), false, JSON.stringify(bad));
    await assert.rejects(validateCompose(bad, 'compose.yaml'), /COMPOSE|does not match the Compose specification/);
  }
});
