// `skiff export --all --format knative` and `--registry` / `--pull-secret`, with the compiled CLI against
// a daemon running real runc instances: three services with varied settings (env, limits, scaling
// bounds, a two-revision split with a tag, internal visibility) export as one multi-document stream in
// name order, every document valid against Knative's CRD schema, with warnings prefixed by the
// service's name; each service's own export deploys back (`skiff deploy -f`, after `skiff rm` or onto
// the service) to the identical deploy document; `--registry` rewrites the images with their digests
// and prints `skopeo copy` lines that, run, put the images where the rewritten export finds them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot, requireTool } from '../helpers/tools.ts';
import { skiff, skiffOk as ok, skiffSucceeds } from '../helpers/cli.ts';
import { assertValidKnativeService, composeValidator } from '../helpers/schemas.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;

test('export --all: every service as one Knative stream the CRD accepts; each deploys back to the same document; --registry rewrites images, digests kept', { skip, timeout: 180_000 }, async (t) => {
  const d = await startTestDaemon(t);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const repo = uniqueRepo('kx');
  const [v1, v2] = [await pushHttpdImage(d, repo, 'v1'), await pushHttpdImage(d, repo, 'v2')];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-export-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  // web: env, limits, bounds; a second revision tagged canary and a 70/30 split
  await ok(d, ['deploy', 'web', '--image', v1.reference, '--env', 'MODE=prod', '--env', 'GREETING=hello there', '--memory', '64Mi', '--cpu', '0.25', '--max', '4', '--concurrency', '8', '--timeout', '30s']);
  await ok(d, ['deploy', 'web', '--image', v2.reference, '--no-traffic', '--tag', 'canary']);
  await ok(d, ['traffic', 'web', 'web-00001=70', 'web-00002=30']);
  // api: internal only, a disk size
  await ok(d, ['deploy', 'api', '--image', v1.reference, '--ingress', 'internal', '--max', '2', '--env', 'A=1', '--disk', '256Mi']);
  // worker: min 1 keeps an instance up (a real one), another image
  await ok(d, ['deploy', 'worker', '--image', v2.reference, '--min', '1', '--max', '3', '--memory', '48Mi', '--port', '8080']);
  assert.deepEqual((await client.service('web')).traffic.map((e) => [e.revision, e.percent, e.tag]), [['web-00001', 70, undefined], ['web-00002', 30, undefined], ['web-00002', 0, 'canary']]);

  // 1. NAME or --all, exactly one
  for (const args of [['export'], ['export', 'web', '--all'], ['export', '--all', '--format', 'compose', '--pull-secret', 'x']]) {
    const r = await skiff(d, args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, /^skiff: error USAGE: .*(NAME or --all|--pull-secret)/m, args.join(' '));
  }

  // 2. --all: one stream, name order, each document valid; warnings name their service
  const all = await skiffSucceeds(d, ['export', '--all', '--format', 'knative']);
  const docs = YAML.parseAllDocuments(all.stdout).map((x) => x.toJS());
  assert.deepEqual(docs.map((m) => m.metadata.name), ['api', 'web', 'worker']);
  for (const m of docs) assertValidKnativeService(m);
  assert.equal(all.stdout.split(/^---$/m).length, 3, 'three documents, --- between them');
  for (const name of ['api', 'web', 'worker']) assert.match(all.stderr, new RegExp(`^warning: ${name}: spec\\.template\\.spec\\.containers\\[0\\]\\.image: .* is in Skiff's registry \\(127\\.0\\.0\\.1:\\d+, a loopback address\\).*--registry HOST\\[/PREFIX\\]`, 'm'));
  assert.doesNotMatch(all.stderr, /^warning: (?!api: |web: |worker: )/m, 'every warning names its service');
  const byName = Object.fromEntries(docs.map((m) => [m.metadata.name, m]));
  assert.equal(byName.api.metadata.labels['networking.knative.dev/visibility'], 'cluster-local');
  assert.deepEqual(byName.web.spec.traffic, [{ revisionName: 'web-00001', latestRevision: false, percent: 70 }, { latestRevision: true, percent: 30 }, { latestRevision: true, percent: 0, tag: 'canary' }]);
  assert.deepEqual(byName.worker.spec.template.metadata.annotations['autoscaling.knative.dev/min-scale'], '1');
  // the stream is what each service's own export says
  for (const name of ['api', 'web', 'worker']) assert.deepEqual(YAML.parse(await ok(d, ['export', name])), byName[name]);

  // 3. Compose --all: one file, every service, valid
  const compose = await skiffSucceeds(d, ['export', '--all', '--format', 'compose']);
  const cf = YAML.parse(compose.stdout);
  assert.deepEqual(Object.keys(cf.services), ['api', 'web', 'worker']);
  const validate = composeValidator();
  assert.ok(validate(cf), JSON.stringify(validate.errors));
  assert.match(compose.stderr, /^warning: web: traffic: Compose runs one version/m);

  // 4. round trip: each export deploys back to the identical deploy document
  for (const name of ['api', 'worker']) {
    const before = await client.serviceDocument(name);
    const f = file(`${name}.yaml`, await ok(d, ['export', name, '--format', 'knative']));
    await ok(d, ['rm', name]);
    await skiffSucceeds(d, ['deploy', '-f', f]);
    assert.deepEqual(await client.serviceDocument(name), before, `${name}: the identical deploy document after rm and deploy -f`);
  }
  const webBefore = await client.serviceDocument('web');
  await skiffSucceeds(d, ['deploy', '-f', file('web.yaml', await ok(d, ['export', 'web']))]);
  assert.deepEqual(await client.serviceDocument('web'), webBefore, 'web: the identical deploy document');
  assert.deepEqual((await client.service('web')).traffic.map((e) => [e.revision, e.percent, e.tag]), [['web-00001', 70, undefined], ['web-00003', 30, undefined], ['web-00003', 0, 'canary']]);

  // 5. --registry and --pull-secret: images rewritten with their digests, pull secret in the pod, copy lines printed
  const port = new URL(d.url).port;
  const mirror = `127.0.0.1:${port}/mirror`;
  const moved = await skiffSucceeds(d, ['export', '--all', '--registry', mirror, '--pull-secret', 'regcred']);
  const movedDocs = YAML.parseAllDocuments(moved.stdout).map((x) => x.toJS());
  const digestOf = { api: v1.digest, web: v2.digest, worker: v2.digest } as Record<string, string>;
  for (const m of movedDocs) {
    assertValidKnativeService(m);
    assert.equal(m.spec.template.spec.containers[0].image, `${mirror}/${repo}@${digestOf[m.metadata.name]}`);
    assert.deepEqual(m.spec.template.spec.imagePullSecrets, [{ name: 'regcred' }]);
  }
  assert.doesNotMatch(moved.stderr, /is in Skiff's registry/, 'no warning once the images are rewritten');
  const copies = moved.stderr.split('\n').filter((l) => l.startsWith('skopeo copy '));
  assert.deepEqual(copies.sort(), [v1.digest, v2.digest].sort().map((dg) => `skopeo copy --all --src-tls-verify=false --src-creds "skiff:$SKIFF_TOKEN" docker://127.0.0.1:${port}/${repo}@${dg} docker://${mirror}/${repo}@${dg}`), 'one line per distinct image');
  assert.match(moved.stderr, new RegExp(`^copy the images to ${mirror.replace(/\./g, '\\.')} before applying`, 'm'));

  // the lines work as printed (plus what this test's destination, Skiff itself over plain HTTP, needs),
  // and the rewritten export then deploys to Skiff with the digest it had
  if (requireTool('skopeo', 'skopeo') === undefined) {
    // (asynchronously: the daemon answering skopeo runs in this process)
    for (const line of copies) await promisify(execFile)('sh', ['-c', line.replace('skopeo copy ', 'skopeo copy --dest-tls-verify=false --dest-creds "skiff:$SKIFF_TOKEN" ')], { env: { ...process.env, SKIFF_TOKEN: d.token }, timeout: 60_000 });
    const before = await client.serviceDocument('api');
    const r = await skiffSucceeds(d, ['deploy', '-f', file('api-moved.yaml', YAML.stringify(movedDocs.find((m) => m.metadata.name === 'api')))]);
    assert.match(r.stderr, /^warning: spec\.template\.spec\.imagePullSecrets: /m);
    assert.deepEqual(await client.serviceDocument('api'), { ...before, image: `mirror/${repo}@${v1.digest}` });
  }
});
