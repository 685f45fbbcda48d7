// `-o json` / `--json` on the read commands prints the API's own answer: validated here against the
// response schemas of /api/openapi.json (JSON Schema 2020-12, as OpenAPI 3.1 has it), and `-o yaml`
// is the same value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import YAML from 'yaml';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { skiff } from '../helpers/cli.ts';

const skip = !isRoot && !isCI ? 'needs root (image unpack)' : false;

async function out(d: TestDaemon, args: string[]): Promise<string> {
  const r = await skiff(d, args);
  assert.equal(r.code, 0, `skiff ${args.join(' ')}:\n${r.stderr}`);
  return r.stdout;
}

test('read commands print the API’s answer as JSON or YAML, valid against the OpenAPI response schemas', { skip }, async (t) => {
  const d = await startTestDaemon(t);
  const image = await pushHttpdImage(d, uniqueRepo('json'), 'v1');
  // min 1: after the deploy's verification nothing scales it away, so two describes taken one after
  // the other (JSON, then YAML) see the same events and instances
  await out(d, ['deploy', 'web', '--image', image.reference, '--env', 'A=1', '--min', '1']);
  const spec = (await (await fetch(`${d.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: object }> }> }>> };
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const schemaOf = (p: string, method = 'get') => spec.paths[p]![method]!.responses['200']!.content['application/json']!.schema;
  const check = (p: string, value: unknown) => {
    const validate = ajv.compile(schemaOf(p));
    assert.ok(validate(value), `${p}: ${JSON.stringify(validate.errors)}`);
  };

  const ls = JSON.parse(await out(d, ['ls', '--json'])) as { services: Array<{ name: string }> };
  check('/api/v1/services', ls);
  assert.deepEqual(ls.services.map((s) => s.name), ['web']);
  const described = JSON.parse(await out(d, ['describe', 'web', '-o', 'json'])) as { revisions: Array<{ config: { env: Record<string, string> } }> };
  check('/api/v1/services/{name}', described);
  assert.deepEqual(described.revisions[0]!.config.env, { A: '1' });
  // an instance's CPU % and memory are read live each time: two describes agree on everything else
  const steady = (view: unknown) => JSON.parse(JSON.stringify(view, (k, v: unknown) => (k === 'cpuPercent' || k === 'memoryBytes' ? undefined : v))) as unknown;
  assert.deepEqual(steady(YAML.parse(await out(d, ['describe', 'web', '-o', 'yaml']))), steady(described));
  const tokens = JSON.parse(await out(d, ['token', 'ls', '--json']));
  check('/api/v1/tokens', tokens);
  const revisions = JSON.parse(await out(d, ['revisions', 'web', '--json'])) as { servingRevision: string; revisions: unknown[] };
  assert.equal(revisions.servingRevision, 'web-00001');
  assert.equal(revisions.revisions.length, 1);

  const bad = await skiff(d, ['ls', '-o', 'xml']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^skiff: error USAGE: option '-o, --output <format>' argument 'xml' is invalid/);
});
