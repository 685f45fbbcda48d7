// Knative Services deployed as they are, and exported, with the compiled CLI against a daemon running
// real runc instances: the Knative hello world answers through the gateway; autoscaling annotations
// become the revision's scaling and the service's bounds (min-scale keeps an instance up); secrets
// reach the app as env vars; a traffic split with tags sends requests to both revisions and each tag
// to its own; what Skiff cannot honour is a warning naming the field, or a FIELD_UNSUPPORTED refusal
// that leaves no trace; `skiff export` writes a Knative Service the CRD schema accepts and a Compose
// file the Compose schema accepts, and deploying the export back gives the identical deploy document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { skiff, skiffOk as ok, skiffSucceeds } from '../helpers/cli.ts';
import { gatewayGet, readyCount, until } from '../helpers/serving.ts';
import { assertValidKnativeService, composeValidator } from '../helpers/schemas.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;

test('knative: samples deploy as they are and behave; export validates and deploys back to the same document', { skip, timeout: 150_000 }, async (t) => {
  const d = await startTestDaemon(t);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const repo = uniqueRepo('kn');
  const [v1, v2] = [await pushHttpdImage(d, repo, 'v1'), await pushHttpdImage(d, repo, 'v2')];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-knative-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const deploy = (p: string) => skiffSucceeds(d, ['deploy', '-f', p]);
  await ok(d, ['secret', 'set', 'db', 'PASSWORD=kn-s3cret', 'USER=app']);

  // 1. hello world, with secrets as env (one key, and every key of a secret)
  const hello = await deploy(file('hello.yaml', `
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: hello
spec:
  template:
    spec:
      containers:
        - image: ${v1.reference}
          ports:
            - containerPort: 8080
          env:
            - name: TARGET
              value: "Go Sample v1"
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef: { name: db, key: PASSWORD }
          envFrom:
            - secretRef: { name: db }
`));
  assert.equal(hello.stderr, '', 'nothing to report for the hello world');
  assert.match(hello.stdout, /^revision  hello-00001$/m);
  assert.equal((await gatewayGet(d.gatewayUrl, 'hello')).body, 'hello from v1\n');
  const env = (await gatewayGet(d.gatewayUrl, 'hello', '/cgi-bin/env')).body;
  for (const line of ['TARGET=Go Sample v1', 'DB_PASSWORD=kn-s3cret', 'PASSWORD=kn-s3cret', 'USER=app']) assert.match(env, new RegExp(`^${line}$`, 'm'));

  // 2. autoscaling annotations: the revision's scaling and the service's bounds; min-scale holds an instance
  await deploy(file('auto.yaml', `
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: auto
spec:
  template:
    metadata:
      annotations:
        autoscaling.knative.dev/class: kpa.autoscaling.knative.dev
        autoscaling.knative.dev/metric: concurrency
        autoscaling.knative.dev/target: "2"
        autoscaling.knative.dev/target-utilization-percentage: "80"
        autoscaling.knative.dev/min-scale: "1"
        autoscaling.knative.dev/max-scale: "3"
        autoscaling.knative.dev/window: 6s
        autoscaling.knative.dev/panic-window-percentage: "50"
        autoscaling.knative.dev/panic-threshold-percentage: "150"
        autoscaling.knative.dev/scale-to-zero-pod-retention-period: 5s
    spec:
      containerConcurrency: 4
      timeoutSeconds: 30
      containers:
        - image: ${v1.reference}
          resources:
            limits: { memory: 64Mi, cpu: 250m }
          readinessProbe:
            httpGet: { path: /index.html }
            periodSeconds: 1
`));
  const auto = await client.service('auto');
  const c = auto.revisions[0]!.config;
  assert.deepEqual([auto.scaling.min, auto.scaling.max], [1, 3]);
  assert.deepEqual(
    { concurrency: c.scaling.concurrency, metric: c.scaling.metric, target: c.scaling.target, utilization: c.scaling.targetUtilization, window: c.scaling.stableWindowMs, panic: c.scaling.panicWindowMs, threshold: c.scaling.panicThreshold, grace: c.scaling.scaleToZeroGraceMs },
    { concurrency: 4, metric: 'concurrency', target: 2, utilization: 0.8, window: 6000, panic: 3000, threshold: 1.5, grace: 5000 },
  );
  assert.deepEqual([c.timeoutMs, c.memoryBytes, c.cpus, c.readiness.path, c.readiness.periodMs], [30_000, 64 * 1024 ** 2, 0.25, '/index.html', 1000]);
  await until('min-scale 1 keeps an instance ready', async () => (await readyCount(client, 'auto')) >= 1, 30_000);
  // under load it scales out, never past max-scale, and every request is answered
  let maxSeen = 0;
  let loading = true;
  const watch = (async () => {
    while (loading) {
      maxSeen = Math.max(maxSeen, (await client.service('auto')).revisions.flatMap((r) => r.instances).filter((i) => i.phase !== 'pre-created').length);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const answers = await Promise.all(Array.from({ length: 24 }, () => gatewayGet(d.gatewayUrl, 'auto', '/cgi-bin/slow?3')));
  loading = false;
  await watch;
  assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
  assert.ok(maxSeen >= 2 && maxSeen <= 3, `scaled out within max-scale 3: saw ${maxSeen} instances`);
  assert.ok((await readyCount(client, 'auto')) >= 1, 'min-scale: still at least one');

  // 3. a traffic split with tags (the new revision named by latestRevision and by the template's name)
  const split = await deploy(file('split.yaml', `
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: hello
spec:
  template:
    metadata:
      name: hello-green
    spec:
      containers:
        - image: ${v2.reference}
          lifecycle:
            preStop: { exec: { command: [sleep, "1"] } }
  traffic:
    - { revisionName: hello-00001, percent: 50, tag: blue }
    - { revisionName: hello-green, percent: 50 }
    - { latestRevision: true, tag: green }
`));
  assert.match(split.stderr, /^warning: spec\.template\.spec\.containers\[0\]\.lifecycle: not supported, ignored$/m);
  assert.match(split.stderr, /^warning: spec\.template\.metadata\.name: hello-green not honoured; the revision is hello-00002$/m);
  const s = await client.service('hello');
  assert.deepEqual(s.traffic.map((e) => [e.revision, e.percent, e.tag]), [['hello-00001', 50, 'blue'], ['hello-00002', 50, undefined], ['hello-00002', 0, 'green']]);
  const bodies = new Set<string>();
  await until('both revisions answer', async () => {
    bodies.add((await gatewayGet(d.gatewayUrl, 'hello')).body);
    return bodies.size === 2;
  }, 30_000);
  assert.deepEqual([...bodies].sort(), ['hello from v1\n', 'hello from v2\n']);
  assert.equal((await gatewayGet(d.gatewayUrl, 'blue--hello')).body, 'hello from v1\n');
  assert.equal((await gatewayGet(d.gatewayUrl, 'green--hello')).body, 'hello from v2\n');

  // 4. refused: nothing deployed
  const hpa = await skiff(d, ['deploy', '-f', file('hpa.yaml', `
apiVersion: serving.knative.dev/v1
kind: Service
metadata: { name: hello }
spec:
  template:
    metadata:
      annotations: { autoscaling.knative.dev/class: hpa.autoscaling.knative.dev }
    spec:
      containers: [{ image: ${v1.reference} }]
`)]);
  assert.equal(hpa.code, 1);
  assert.match(hpa.stderr, /^skiff: error FIELD_UNSUPPORTED: spec\.template\.metadata\.annotations\["autoscaling\.knative\.dev\/class"\]: "hpa\.autoscaling\.knative\.dev"/);
  assert.equal((await client.service('hello')).latestRevision, 'hello-00002', 'no revision made');

  // 5. export: schema-valid Knative and Compose; the Knative export deploys back to the same document
  for (const name of ['hello', 'auto']) {
    const before = await client.serviceDocument(name);
    const exported = await skiff(d, ['export', name, '--format', 'knative']);
    assert.equal(exported.code, 0, exported.stderr);
    assertValidKnativeService(YAML.parse(exported.stdout));
    const compose = await skiff(d, ['export', name, '--format', 'compose']);
    assert.equal(compose.code, 0, compose.stderr);
    const validate = composeValidator();
    assert.ok(validate(YAML.parse(compose.stdout)), JSON.stringify(validate.errors));
    assert.match(compose.stderr, /^warning: scaling.*Compose cannot express autoscaling/m);

    const latest = (await client.service(name)).latestRevision;
    await deploy(file(`${name}-export.yaml`, exported.stdout));
    const after = await client.service(name);
    assert.notEqual(after.latestRevision, latest, 'a new revision');
    assert.deepEqual(await client.serviceDocument(name), before, `${name}: the identical deploy document`);
    if (name === 'hello') {
      // the split and the tags as they were, the new revision in place of the latest one
      assert.deepEqual(after.traffic.map((e) => [e.revision, e.percent, e.tag]), [['hello-00001', 50, 'blue'], ['hello-00003', 50, undefined], ['hello-00003', 0, 'green']]);
      assert.equal((await gatewayGet(d.gatewayUrl, 'green--hello')).body, 'hello from v2\n');
    }
  }
  const missing = await skiff(d, ['export', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /NOT_FOUND/);
});
