// knative/import and knative/export: a Knative Service as it is becomes a deploy document and a traffic
// list, every field not honoured is named (warning) or refused (FIELD_UNSUPPORTED); an export validates
// against Knative's own CRD schema (../shared/schemas) with nothing an API server would prune, and
// deploys back to the same document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import YAML from 'yaml';
import { fromKnative, isKnativeService } from '../../src/cli/knative/import.ts';
import { toKnative } from '../../src/cli/knative/export.ts';
import { SkiffError } from '../../src/core/errors.ts';
import type { DeployDocument } from '../../src/core/documents.ts';
import { normaliseDeployDocument } from '../../src/serving/spec.ts';
import { assertValidKnativeService, knativeValidator, prunedFields } from '../helpers/schemas.ts';

const HELLO = `
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: hello
spec:
  template:
    spec:
      containers:
        - image: team/hello:v1
          ports:
            - containerPort: 8080
          env:
            - name: TARGET
              value: "Go Sample v1"
`;

const FULL = `
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: shop
  labels:
    app.kubernetes.io/name: shop
    networking.knative.dev/visibility: cluster-local
spec:
  template:
    metadata:
      annotations:
        autoscaling.knative.dev/class: kpa.autoscaling.knative.dev
        autoscaling.knative.dev/metric: rps
        autoscaling.knative.dev/target: "150"
        autoscaling.knative.dev/target-utilization-percentage: "80"
        autoscaling.knative.dev/min-scale: "1"
        autoscaling.knative.dev/max-scale: "7"
        autoscaling.knative.dev/initial-scale: "1"
        autoscaling.knative.dev/window: 1m30s
        autoscaling.knative.dev/panic-window-percentage: "20"
        autoscaling.knative.dev/panic-threshold-percentage: "300"
        autoscaling.knative.dev/scale-down-delay: 45s
    spec:
      containerConcurrency: 25
      timeoutSeconds: 120
      containers:
        - image: team/shop:v2
          command: ["/bin/shop"]
          args: ["--serve"]
          ports: [{ containerPort: 3000, name: http1 }]
          env:
            - { name: MODE, value: prod }
            - name: DB_PASSWORD
              valueFrom: { secretKeyRef: { name: db, key: password } }
          envFrom:
            - secretRef: { name: common }
          resources:
            limits: { memory: 512Mi, cpu: 500m, ephemeral-storage: 1Gi }
          readinessProbe:
            httpGet: { path: /healthz, port: 3000 }
            periodSeconds: 2
            timeoutSeconds: 1
            failureThreshold: 5
          livenessProbe:
            tcpSocket: { port: 3000 }
            periodSeconds: 15
          securityContext:
            capabilities: { add: [NET_RAW] }
            readOnlyRootFilesystem: true
          volumeMounts:
            - { name: tls, mountPath: /run/tls, readOnly: true }
            - { name: data, mountPath: /var/lib/shop }
      volumes:
        - name: tls
          secret: { secretName: shop-tls }
        - name: data
          persistentVolumeClaim: { claimName: shop-data }
  traffic:
    - { latestRevision: true, percent: 80 }
    - { revisionName: shop-00001, percent: 20 }
    - { revisionName: shop-00001, tag: old }
`;

test('isKnativeService tells a Knative Service from a skiff.yaml deploy document', () => {
  assert.equal(isKnativeService(YAML.parse(HELLO)), true);
  assert.equal(isKnativeService({ name: 'hello', image: 'team/hello:v1' }), false);
  assert.equal(isKnativeService({ apiVersion: 'serving.knative.dev/v1', kind: 'Route' }), false);
  assert.equal(isKnativeService(null), false);
});

test('import: the Knative hello world is a plain deploy document, nothing reported', () => {
  const r = fromKnative(YAML.parse(HELLO));
  assert.deepEqual(r.document, { name: 'hello', image: 'team/hello:v1', port: 8080, env: { TARGET: 'Go Sample v1' } });
  assert.deepEqual(r.traffic, [{ percent: 100 }]);
  assert.deepEqual(r.warnings, []);
});

test('import: every mapped field of a Knative Service lands in the deploy document', () => {
  const r = fromKnative(YAML.parse(FULL));
  assert.deepEqual(r.document, {
    name: 'shop',
    image: 'team/shop:v2',
    ingress: 'internal',
    labels: { 'app.kubernetes.io/name': 'shop' },
    command: ['/bin/shop'],
    args: ['--serve'],
    port: 3000,
    env: { MODE: 'prod' },
    timeout: '120s',
    resources: { memory: '512Mi', cpu: '500m', disk: '1Gi' },
    readiness: { path: '/healthz', period: '2s', timeout: '1s', failureThreshold: 5 },
    liveness: { period: '15s' },
    capabilities: ['NET_RAW'],
    readOnlyRoot: true,
    volumes: [{ volume: 'shop-data', path: '/var/lib/shop' }],
    secrets: { env: { DB_PASSWORD: { secret: 'db', key: 'password' } }, envFrom: [{ secret: 'common' }], mounts: { '/run/tls': { secret: 'shop-tls' } } },
    scaling: { concurrency: 25, metric: 'rps', target: 150, utilization: 80, min: 1, max: 7, window: '90s', panicWindowPercent: 20, panicThreshold: 3, scaleToZeroGrace: '45s' },
  });
  assert.deepEqual(r.traffic, [{ percent: 80 }, { revision: 'shop-00001', percent: 20 }, { revision: 'shop-00001', percent: 0, tag: 'old' }]);
  // what is said only in part is said
  assert.deepEqual(r.warnings, [
    'spec.template.metadata.annotations["autoscaling.knative.dev/scale-down-delay"]: partly honoured: it delays the scale to zero (scaling.scaleToZeroGrace); other scale-downs are not delayed',
    'spec.traffic[0].latestRevision: set on the revision this deploy makes; it does not follow later revisions (a later `skiff deploy` takes all traffic, tags stay put)',
  ]);
  // and the document is one the daemon takes
  assert.equal(normaliseDeployDocument(r.document).spec.port, 3000);
});

test('import: fields Skiff cannot honour are reported by their JSON path, never dropped silently', () => {
  const svc = YAML.parse(HELLO);
  svc.metadata.namespace = 'default';
  svc.status = { url: 'http://hello.default.example.com' };
  const c = svc.spec.template.spec.containers[0];
  c.name = 'user-container';
  c.lifecycle = { preStop: { exec: { command: ['sleep', '5'] } } };
  c.imagePullPolicy = 'Always';
  c.resources = { requests: { cpu: '100m' }, limits: { memory: '128Mi' } };
  c.readinessProbe = { httpGet: { path: '/', httpHeaders: [{ name: 'X', value: 'y' }] }, initialDelaySeconds: 3 };
  c.securityContext = { runAsNonRoot: true, capabilities: { drop: ['ALL'] } };
  svc.spec.template.spec.serviceAccountName = 'robot';
  svc.spec.template.metadata = { name: 'hello-v2', annotations: { 'autoscaling.knative.dev/max-scale': '0', 'autoscaling.knative.dev/initial-scale': '3', 'features.knative.dev/queueproxy-podinfo': 'enabled' } };
  const r = fromKnative(svc);
  const paths = r.warnings.map((w) => w.slice(0, w.indexOf(': ')));
  assert.deepEqual(paths.sort(), [
    'metadata.namespace',
    'spec.template.metadata.annotations["autoscaling.knative.dev/initial-scale"]',
    'spec.template.metadata.annotations["autoscaling.knative.dev/max-scale"]',
    'spec.template.metadata.annotations["features.knative.dev/queueproxy-podinfo"]',
    'spec.template.metadata.name',
    'spec.template.spec.containers[0].imagePullPolicy',
    'spec.template.spec.containers[0].lifecycle',
    'spec.template.spec.containers[0].name',
    'spec.template.spec.containers[0].readinessProbe.httpGet.httpHeaders',
    'spec.template.spec.containers[0].readinessProbe.initialDelaySeconds',
    'spec.template.spec.containers[0].resources.requests',
    'spec.template.spec.containers[0].securityContext.capabilities.drop',
    'spec.template.spec.containers[0].securityContext.runAsNonRoot',
    'spec.template.spec.serviceAccountName',
    'status',
  ]);
  assert.ok(r.warnings.includes('spec.template.spec.containers[0].lifecycle: not supported, ignored'));
  assert.equal(r.document.scaling?.max, 1000, 'max-scale 0 (unlimited) is the largest bound, and said so');
  assert.equal(r.revisionName, 'hello-v2');
});

test('import: what would change what the app does is refused with FIELD_UNSUPPORTED naming the field', () => {
  const cases: Array<[string, (svc: any) => void, RegExp]> = [
    ['hpa class', (s) => (s.spec.template.metadata = { annotations: { 'autoscaling.knative.dev/class': 'hpa.autoscaling.knative.dev' } }), /annotations\["autoscaling.knative.dev\/class"\]: "hpa/],
    ['config map env', (s) => s.spec.template.spec.containers[0].env.push({ name: 'A', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } }), /containers\[0\]\.env\[1\]\.valueFrom\.configMapKeyRef/],
    ['field ref env', (s) => s.spec.template.spec.containers[0].env.push({ name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }), /env\[1\]\.valueFrom\.fieldRef/],
    ['envFrom prefix', (s) => (s.spec.template.spec.containers[0].envFrom = [{ prefix: 'X_', secretRef: { name: 'db' } }]), /envFrom\[0\]\.prefix/],
    ['sidecar', (s) => s.spec.template.spec.containers.push({ image: 'proxy' }), /containers\[1\]: sidecars/],
    ['capability', (s) => (s.spec.template.spec.containers[0].securityContext = { capabilities: { add: ['SYS_ADMIN'] } }), /capabilities\.add\[0\]: SYS_ADMIN/],
    ['h2c', (s) => (s.spec.template.spec.containers[0].ports[0].name = 'h2c'), /ports\[0\]\.name: "h2c"/],
    ['config map volume', (s) => {
      s.spec.template.spec.volumes = [{ name: 'cfg', configMap: { name: 'c' } }];
      s.spec.template.spec.containers[0].volumeMounts = [{ name: 'cfg', mountPath: '/etc/cfg' }];
    }, /volumes\[0\]\.configMap: configMap volumes/],
    ['secret items', (s) => {
      s.spec.template.spec.volumes = [{ name: 's', secret: { secretName: 'db', items: [{ key: 'a', path: 'b' }] } }];
      s.spec.template.spec.containers[0].volumeMounts = [{ name: 's', mountPath: '/run/s' }];
    }, /volumes\[0\]\.secret\.items/],
    ['gpu', (s) => (s.spec.template.spec.containers[0].resources = { limits: { 'nvidia.com/gpu': 1 } }), /limits\.nvidia\.com\/gpu/],
    ['workingDir', (s) => (s.spec.template.spec.containers[0].workingDir = '/app'), /workingDir/],
  ];
  for (const [what, change, message] of cases) {
    const svc = YAML.parse(HELLO);
    change(svc);
    assert.throws(() => fromKnative(svc), (err: unknown) => err instanceof SkiffError && err.code === 'FIELD_UNSUPPORTED' && message.test(err.message), what);
  }
  // malformed is BAD_REQUEST with the path
  const bad = YAML.parse(HELLO);
  bad.spec.traffic = [{ latestRevision: true, percent: 60 }];
  assert.throws(() => fromKnative(bad), /spec\.traffic: percents add up to 60, not 100/);
  bad.spec.traffic = [{ revisionName: 'hello-00001', latestRevision: true, percent: 100 }];
  assert.throws(() => fromKnative(bad), /spec\.traffic\[0\]: revisionName and latestRevision/);
  const mem = YAML.parse(HELLO);
  mem.spec.template.spec.containers[0].resources = { limits: { memory: 'lots' } };
  assert.throws(() => fromKnative(mem), /containers\[0\]\.resources\.limits\.memory: expected a memory size/);
});

test('import: a traffic entry naming the template\'s revision name is the revision this deploy makes', () => {
  const svc = YAML.parse(HELLO);
  svc.spec.template.metadata = { name: 'hello-green' };
  svc.spec.traffic = [{ revisionName: 'hello-green', percent: 10, tag: 'green' }, { revisionName: 'hello-00001', percent: 90 }];
  const r = fromKnative(svc);
  assert.deepEqual(r.traffic, [{ percent: 10, tag: 'green' }, { revision: 'hello-00001', percent: 90 }]);
});

const EVERYTHING: DeployDocument = {
  name: 'full',
  image: 'team/full@sha256:' + 'a'.repeat(64),
  port: 9000,
  command: ['/bin/app'],
  args: ['serve', '--fast'],
  env: { A: '1', EMPTY: '' },
  resources: { memory: '256Mi', cpu: '500m', pids: 128, disk: '1Gi' },
  capabilities: ['NET_RAW'],
  readOnlyRoot: true,
  ingress: 'internal',
  labels: { team: 'payments', 'app.kubernetes.io/part-of': 'shop' },
  volumes: [{ volume: 'data', path: '/data', readOnly: true }, { volume: 'cache', path: '/cache' }],
  timeout: '60s',
  queueLimit: 50,
  drainGrace: '20s',
  scaling: {
    min: 1,
    max: 8,
    concurrency: 10,
    target: 7,
    utilization: 90,
    metric: 'custom',
    customMetric: { path: '/metrics', name: 'queue_depth' },
    window: '2m',
    panicWindowPercent: 15,
    panicThreshold: 2.5,
    idle: '90s',
    scaleToZeroGrace: '10s',
    freezeIdle: true,
    keepAlive: 'fixed',
  },
  readiness: { path: '/ready', period: '3s', timeout: '2s', failureThreshold: 4 },
  liveness: { period: '20s' },
  secrets: { envFrom: [{ secret: 'common', version: 2 }], env: { PW: { secret: 'db', key: 'password', version: 3 } }, mounts: { '/run/tls': { secret: 'tls' } } },
  placement: { constraints: ['node.labels.zone==edge', 'node.role!=manager'], spread: ['node.labels.rack'] },
};

test('export: the Knative Service validates against the CRD schema, with nothing an API server would prune', () => {
  for (const doc of [EVERYTHING, { name: 'hello', image: 'team/hello:v1' }, fromKnative(YAML.parse(FULL)).document]) {
    const { manifest } = toKnative(doc, [{ revision: `${doc.name}-00002`, percent: 90 }, { revision: `${doc.name}-00001`, percent: 10 }, { revision: `${doc.name}-00001`, percent: 0, tag: 'old' }], `${doc.name}-00002`);
    assertValidKnativeService(JSON.parse(JSON.stringify(YAML.parse(YAML.stringify(manifest)))));
  }
  // and the validation does catch a bad one
  const { manifest } = toKnative({ name: 'x', image: 'i' });
  (manifest.spec as any).template.spec.containers[0].ports = [{ containerPort: 'eighty' }];
  assert.equal(knativeValidator()(manifest), false);
  assert.deepEqual(prunedFields({ spec: { template: { spec: { containers: [{ image: 'i', bogus: 1 }] } } } }), ['.spec.template.spec.containers[0].bogus']);
});

test('round trip: export then import gives the identical deploy document and traffic', () => {
  const traffic = [{ revision: 'full-00003', percent: 70 }, { revision: 'full-00002', percent: 30, tag: 'blue' }, { revision: 'full-00003', percent: 0, tag: 'green' }];
  for (const doc of [EVERYTHING, { name: 'hello', image: 'team/hello:v1' }, fromKnative(YAML.parse(FULL)).document, fromKnative(YAML.parse(HELLO)).document]) {
    const out = toKnative(doc, traffic, 'full-00003');
    const back = fromKnative(YAML.parse(YAML.stringify(out.manifest)));
    assert.deepEqual(back.document, doc, doc.name);
    assert.deepEqual(back.traffic, [{ percent: 70 }, { revision: 'full-00002', percent: 30, tag: 'blue' }, { percent: 0, tag: 'green' }]);
  }
  // placement: the label equality is the pod's nodeSelector as well; a Knative file's nodeSelector alone is label constraints
  assert.deepEqual((toKnative(EVERYTHING).manifest as { spec: { template: { spec: { nodeSelector?: unknown } } } }).spec.template.spec.nodeSelector, { zone: 'edge' });
  const selected = YAML.parse(HELLO);
  selected.spec.template.spec.nodeSelector = { zone: 'edge', disk: 'ssd' };
  assert.deepEqual(fromKnative(selected).document.placement, { constraints: ['node.labels.zone==edge', 'node.labels.disk==ssd'] });
  // a hello world exports without a warning
  assert.deepEqual(toKnative({ name: 'hello', image: 'team/hello:v1', port: 8080 }).warnings, []);
});

test('round trip: documents written another way come back in Knative\'s units, meaning the same', () => {
  const doc: DeployDocument = { name: 'odd', image: 'i', timeout: '5m', resources: { cpu: 0.5, memory: 268435456 }, scaling: { window: 90, idle: '1500ms' }, readiness: { period: 2 } };
  const out = toKnative(doc);
  const back = fromKnative(YAML.parse(YAML.stringify(out.manifest))).document;
  assert.deepEqual(back, { ...doc, timeout: '300s', resources: { cpu: '0.5', memory: 268435456 }, scaling: { window: '90s', idle: '1500ms' }, readiness: { period: '2s' } });
  assert.deepEqual(normaliseDeployDocument(back), normaliseDeployDocument(doc));
  // a duration Knative cannot say in whole seconds is rounded up, and said
  const ms = toKnative({ name: 'ms', image: 'i', timeout: '1500ms' });
  assert.deepEqual(ms.warnings, ['timeout: "1500ms" is not whole seconds; timeoutSeconds is 2']);
});
