// `skiff compose up | ps | logs | down` end to end, through the real CLI against a real daemon: the
// fixtures/kv app (web → api → TCP store) is built from its Compose build: contexts by a local builder
// (FROM scratch + busybox-static), pushed to Skiff's registry and deployed in dependency order; the web
// answers through the gateway using the api and the store by name; a second `compose up` after a
// change keeps the store's volume data; `compose down --volumes` removes services, secrets and volume.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { skiff, skiffSucceeds } from '../helpers/cli.ts';
import { isCI, isRoot, requireTool, run } from '../helpers/tools.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, loop volumes, a local image builder)' : false;
const APPLETS = ['sh', 'cat', 'echo', 'printf', 'wget', 'nc', 'httpd', 'mkdir', 'test', '['];

async function get(d: TestDaemon, pathAndQuery: string): Promise<string> {
  const res = await fetch(`${d.gatewayUrl}/s/web${pathAndQuery}`, { signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return text.trim();
}

test('skiff compose: up builds and deploys web → api → TCP store by name; up again keeps the volume; ps, logs; down --volumes removes everything', { skip: skip || requireTool('podman', 'podman'), timeout: 240_000 }, async (t) => {
  const d = await startTestDaemon(t);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-compose-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(path.join(import.meta.dirname, 'fixtures', 'kv'), dir, { recursive: true });
  copyFileSync('/bin/busybox', path.join(dir, 'app/rootfs/bin/busybox'));
  for (const a of APPLETS) symlinkSync('busybox', path.join(dir, 'app/rootfs/bin', a));
  const project = `kv${randomBytes(3).toString('hex')}`;
  const file = path.join(dir, 'compose.yaml');
  const flags = ['-f', file, '-p', project];
  t.after(async () => {
    // the builder's images of this project (podman/buildah share a store; docker has its own)
    for (const s of ['web', 'api', 'store']) await run('podman', ['rmi', '-f', `localhost/${project}-${s}:latest`]).catch(() => undefined);
  });

  const up = await skiffSucceeds(d, ['compose', 'up', ...flags]);
  assert.match(up.stdout, new RegExp(`pushed\\s+${project}-store:latest sha256:`));
  assert.match(up.stdout, new RegExp(`volume\\s+${project}-kv created \\(16Mi\\)`));
  assert.match(up.stdout, new RegExp(`secret\\s+${project}-store-secrets version 1 \\(store_token\\)`));
  // dependency order: store, then api (ready before web deploys: service_healthy), then web
  const order = [...up.stdout.matchAll(/^deployed\s+(\S+)/gm)].map((m) => m[1]);
  assert.deepEqual(order, ['store', 'api', 'web']);
  assert.ok(up.stdout.indexOf('ready     api') < up.stdout.indexOf('deployed  web'), up.stdout);
  assert.match(up.stderr, /services\.web\.ports\[0\]: host port 8080 is not opened/); // reported, not dropped

  const ps = (await skiffSucceeds(d, ['compose', 'ps', ...flags])).stdout;
  assert.match(ps, /^SERVICE\s+STATE\s+REVISION\s+ADDRESS/);
  assert.match(ps, /^store\s+running \(1\)\s+store-00001\s+tcp store:6379 \(internal\)/m);
  assert.match(ps, /^api\s+\S.*\s+http:\/\/api\/ \(internal\)/m);
  assert.match(ps, /^web\s+.*http:\/\/web\./m);
  assert.match((await skiffSucceeds(d, ['compose', 'ps', '-p', project])).stdout, /^store\s+running/m); // by label, without the file
  const json = JSON.parse((await skiffSucceeds(d, ['compose', 'ps', ...flags, '-o', 'json'])).stdout) as { project: string; services: Array<{ name: string; labels: Record<string, string> }> };
  assert.equal(json.project, project);
  assert.deepEqual(json.services.map((s) => s.labels['com.docker.compose.service']), ['store', 'api', 'web']);

  // the same names under another project: refused before anything changes
  const clash = await skiff(d, ['compose', 'up', '-f', file, '-p', 'other']);
  assert.equal(clash.code, 1);
  assert.match(clash.stderr, new RegExp(`error CONFLICT: services\\.(web|api|store): a service named \\w+ already exists and belongs to Compose project ${project}`));

  // web → api (HTTP, by name) → store (TCP, by name, with the secret) → the volume
  // the api's nc half-closes after its line (stdin ends) and reads the store's answer until the store
  // closes: an empty answer here is that answer lost on the way (a TCP path that closes on the client's FIN)
  assert.equal(await get(d, '/cgi-bin/kv?set=greeting=hello'), 'web one: OK', 'web → api → store: the store\'s answer did not come back through the TCP path by name');
  assert.equal(await get(d, '/cgi-bin/kv?get=greeting'), 'web one: hello');

  const logs = (await skiffSucceeds(d, ['compose', 'logs', ...flags])).stdout;
  assert.match(logs, /^store \| .*store generation 1 listening on 6379/m);

  // a change to web and store: new revisions; the store's data is still there
  const again = await skiffSucceeds(d, ['compose', 'up', ...flags], { MARKER: 'two', GENERATION: '2' });
  assert.match(again.stdout, /deployed\s+store store-00002/);
  assert.match(again.stdout, /secret\s+\S+-store-secrets version 2/);
  assert.match(again.stdout, /unchanged api api-00001/); // same document, image and files: left alone
  assert.doesNotMatch(again.stdout, /-api-secrets/);
  const same = await skiffSucceeds(d, ['compose', 'up', ...flags], { MARKER: 'two', GENERATION: '2' });
  assert.deepEqual([...same.stdout.matchAll(/^unchanged\s+(\S+)/gm)].map((m) => m[1]), ['store', 'api', 'web'], same.stdout);
  assert.equal(await get(d, '/cgi-bin/kv?get=greeting'), 'web two: hello');
  assert.match((await skiffSucceeds(d, ['compose', 'logs', ...flags])).stdout, /^store \| .*store generation 2 listening/m);

  const down = await skiffSucceeds(d, ['compose', 'down', ...flags, '--volumes']);
  assert.match(down.stdout, /removed\s+web[\s\S]*removed\s+api[\s\S]*removed\s+store/);
  assert.match(down.stdout, new RegExp(`removed\\s+volume ${project}-kv`));
  assert.equal(JSON.parse((await skiffSucceeds(d, ['ls', '-o', 'json'])).stdout).services.length, 0);
  assert.equal(JSON.parse((await skiffSucceeds(d, ['volume', 'ls', '-o', 'json'])).stdout).volumes.length, 0);
  assert.equal(JSON.parse((await skiffSucceeds(d, ['secret', 'ls', '-o', 'json'])).stdout).secrets.length, 0);
  assert.match((await skiffSucceeds(d, ['compose', 'ps', ...flags])).stdout, /^SERVICE\s+STATE\s+REVISION\s+ADDRESS\s*$/);
});

test('skiff compose: refused files fail before anything is made, with the code and the path', { skip }, async (t) => {
  const d = await startTestDaemon(t);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-compose-refused-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'compose.yaml'), 'services:\n  db:\n    image: team/db:v1\n    volumes: ["./pgdata:/var/lib/postgresql/data"]\n');
  const bind = await skiff(d, ['compose', 'up', '-f', path.join(dir, 'compose.yaml')]);
  assert.equal(bind.code, 1);
  assert.match(bind.stderr, /error COMPOSE_UNSUPPORTED: services\.db\.volumes\[0\]: bind mount \.\/pgdata:\/var\/lib\/postgresql\/data/);
  writeFileSync(path.join(dir, 'compose.yaml'), 'services:\n  web:\n    image: team/web:v1\n    privilegd: true\n');
  const invalid = await skiff(d, ['compose', 'up', '-f', path.join(dir, 'compose.yaml')]);
  assert.match(invalid.stderr, /error COMPOSE_INVALID: .*services\.web\.privilegd: unknown field/);
  writeFileSync(path.join(dir, 'compose.yaml'), 'services:\n  web:\n    image: team/missing:v1\n    ports: ["80"]\n');
  const missing = await skiff(d, ['compose', 'up', '-f', path.join(dir, 'compose.yaml')]);
  assert.match(missing.stderr, /error MANIFEST_UNKNOWN: services\.web\.image: team\/missing:v1 is not in Skiff's registry/);
  writeFileSync(path.join(dir, 'compose.yaml'), 'services:\n  web:\n    build: .\n    ports: ["80"]\n  worker:\n    build: {context: ., target: worker}\n');
  const nobuilder = await skiff(d, ['compose', 'up', '-f', path.join(dir, 'compose.yaml')], d.token, { SKIFF_BUILDER: 'none' });
  assert.match(nobuilder.stderr, /error COMPOSE_UNSUPPORTED: services\.web\.build, services\.worker\.build: no local image builder/);
  assert.equal(JSON.parse((await skiffSucceeds(d, ['ls', '-o', 'json'])).stdout).services.length, 0);
  assert.equal(JSON.parse((await skiffSucceeds(d, ['volume', 'ls', '-o', 'json'])).stdout).volumes.length, 0);
});
