// The OpenAPI document at /api/openapi.json describes every /api/v1/services endpoint: request body,
// path and query parameters, the success response's schema and the error responses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon } from '../helpers/daemon.ts';

type Schema = { $ref?: string; type?: string | string[]; properties?: Record<string, Schema>; items?: Schema; required?: string[]; enum?: string[] };
type Operation = {
  summary?: string;
  tags?: string[];
  parameters?: Array<{ in: string; name: string; required?: boolean }>;
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
};

const ENDPOINTS: Array<[method: string, path: string, success: string]> = [
  ['post', '/api/v1/services', '201'],
  ['patch', '/api/v1/services/{name}', '200'],
  ['get', '/api/v1/services', '200'],
  ['get', '/api/v1/services/{name}', '200'],
  ['get', '/api/v1/services/{name}/document', '200'],
  ['get', '/api/v1/services/{name}/stats', '200'],
  ['delete', '/api/v1/services/{name}', '204'],
  ['put', '/api/v1/services/{name}/traffic', '200'],
  ['post', '/api/v1/services/{name}/rollback', '200'],
  ['patch', '/api/v1/services/{name}/scaling', '200'],
  ['post', '/api/v1/services/{name}/prewarm', '200'],
  ['get', '/api/v1/services/{name}/logs', '200'],
  ['post', '/api/v1/services/{name}/invocations', '200'],
];

test('openapi.json lists every services endpoint with its request and response schemas', async (t) => {
  const d = await startTestDaemon(t);
  const res = await fetch(`${d.url}/api/openapi.json`);
  assert.equal(res.status, 200);
  const doc = (await res.json()) as { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema> } };
  const resolve = (s: Schema): Schema => (s.$ref ? doc.components.schemas[s.$ref.split('/').pop()!]! : s);
  const json = (op: Operation, status: string): Schema => resolve(op.responses[status]!.content!['application/json']!.schema);

  const documented = Object.entries(doc.paths).flatMap(([p, ops]) => (p.startsWith('/api/v1/services') ? Object.keys(ops).map((m) => `${m} ${p}`) : []));
  assert.deepEqual(documented.sort(), ENDPOINTS.map(([m, p]) => `${m} ${p}`).sort());

  for (const [method, path, success] of ENDPOINTS) {
    const op = doc.paths[path]![method]!;
    const where = `${method.toUpperCase()} ${path}`;
    assert.ok(op.summary && op.tags?.includes('services'), `${where}: summary and tag`);
    assert.ok(op.responses[success], `${where}: ${success} documented`);
    if (path.includes('{name}')) {
      assert.ok(op.parameters?.some((p) => p.in === 'path' && p.name === 'name' && p.required), `${where}: name parameter`);
      assert.deepEqual(json(op, '404').properties?.error?.required, ['code', 'message'], `${where}: 404 is the API error shape`);
    }
    if (success === '200' && !path.endsWith('/logs')) assert.ok(Object.keys(json(op, '200').properties ?? {}).length > 0, `${where}: response schema has fields`);
  }

  // The service view, as describe, traffic, rollback and scale answer it.
  const view = json(doc.paths['/api/v1/services/{name}']!.get!, '200');
  for (const field of ['name', 'url', 'pathUrl', 'image', 'latestRevision', 'servingRevision', 'traffic', 'scaling', 'keepAlive', 'revisions', 'events']) assert.ok(view.required?.includes(field), field);
  assert.deepEqual(view.properties!.keepAlive!.properties!.kind!.enum, ['fixed', 'histogram']);
  const revision = view.properties!.revisions!.items!;
  assert.deepEqual(Object.keys(revision.properties!.instances!.items!.properties!).sort(), ['address', 'cpuPercent', 'id', 'memoryBytes', 'node', 'phase', 'startedAt']);
  // the effective configuration of each revision: every field of the spec but its name and image
  for (const field of ['port', 'env', 'memoryBytes', 'cpus', 'pids', 'timeoutMs', 'scaling', 'readiness', 'liveness']) assert.ok(revision.properties!.config!.properties![field], `config: ${field}`);
  // an update: every deploy field optional and nullable, the name not among them
  const patch = doc.paths['/api/v1/services/{name}']!.patch!.requestBody!.content['application/json']!.schema;
  assert.equal(patch.required, undefined);
  assert.equal(patch.properties!.name, undefined);
  assert.deepEqual(patch.properties!.port!.type, ['integer', 'null']);
  assert.deepEqual(patch.properties!.placement!.type, ['object', 'null'], '--clear-placement sends placement: null');
  assert.deepEqual(patch.properties!.placement!.properties!.constraints!.type, ['array', 'null']);
  assert.ok(revision.properties!.config!.properties!.placement!.properties!.spread, 'config: placement (describe shows it)');
  assert.deepEqual(Object.keys(view.properties!.events!.items!.properties!).sort(), ['at', 'kind', 'message', 'revision']);
  assert.deepEqual(json(doc.paths['/api/v1/services']!.get!, '200').properties!.services!.items, view);

  // Requests: the deploy document, a traffic split, scaling bounds, the logs query.
  const deploy = doc.paths['/api/v1/services']!.post!;
  const body = deploy.requestBody!.content['application/json']!.schema;
  assert.deepEqual(body.required, ['name', 'image']);
  assert.deepEqual(body.properties!.scaling!.properties!.metric!.enum, ['concurrency', 'rps', 'cpu', 'memory', 'custom']);
  for (const field of ['port', 'env', 'resources', 'timeout', 'drainGrace', 'readiness', 'liveness', 'placement']) assert.ok(body.properties![field], `deploy body: ${field}`);
  assert.equal((body.properties!.placement!.properties!.constraints! as { maxItems?: number }).maxItems, 16);
  assert.deepEqual(Object.keys(json(deploy, '201').properties!).sort(), ['imageDigest', 'layers', 'revision', 'service']);
  assert.ok(json(deploy, '400').properties?.error);
  const traffic = doc.paths['/api/v1/services/{name}/traffic']!.put!.requestBody!.content['application/json']!.schema;
  assert.deepEqual(traffic.properties!.traffic!.items!.required, ['revision', 'percent']);
  const scaling = doc.paths['/api/v1/services/{name}/scaling']!.patch!.requestBody!.content['application/json']!.schema;
  assert.deepEqual(Object.keys(scaling.properties!).sort(), ['max', 'min']);
  const prewarm = doc.paths['/api/v1/services/{name}/prewarm']!.post!;
  assert.deepEqual(Object.keys(prewarm.requestBody!.content['application/json']!.schema.properties!).sort(), ['for', 'instances']);
  assert.deepEqual(json(prewarm, '200').properties!.revisions!.items!.required, ['revision', 'instances', 'ready']);
  const logs = doc.paths['/api/v1/services/{name}/logs']!.get!;
  assert.deepEqual(logs.parameters!.filter((p) => p.in === 'query').map((p) => p.name).sort(), ['follow', 'instance', 'revision', 'since', 'tail']);
  assert.equal(logs.responses['200']!.content!['text/plain']!.schema.type, 'string');
});
