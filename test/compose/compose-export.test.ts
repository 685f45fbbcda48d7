// compose/compose-export: a deploy document as a Compose file that validates against the Compose
// specification's schema (../shared/schemas/compose-spec.json); what Compose cannot say (autoscaling,
// secrets as env, the traffic split) is reported by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import YAML from 'yaml';
import { toCompose } from '../../src/cli/compose/compose-export.ts';
import type { DeployDocument } from '../../src/core/documents.ts';
import { composeValidator as validator } from '../helpers/schemas.ts';

const DOC: DeployDocument = {
  name: 'shop',
  image: 'team/shop@sha256:' + 'b'.repeat(64),
  port: 3000,
  command: ['/bin/shop'],
  args: ['--serve'],
  env: { MODE: 'prod' },
  resources: { memory: '512Mi', cpu: '0.5', pids: 256, disk: '1Gi' },
  capabilities: ['NET_RAW'],
  readOnlyRoot: true,
  labels: { team: 'payments' },
  volumes: [{ volume: 'data', path: '/var/lib/shop' }, { volume: 'ro', path: '/ro', readOnly: true }],
  placement: { constraints: ['node.labels.zone==edge'], spread: ['node.labels.rack'] },
  timeout: '120s',
  queueLimit: 10,
  drainGrace: '15s',
  scaling: { min: 2, max: 6, concurrency: 20, metric: 'rps' },
  readiness: { path: '/healthz', period: '2s', timeout: '1s', failureThreshold: 5 },
  liveness: { period: '15s' },
  secrets: { env: { PW: { secret: 'db', key: 'password' } }, envFrom: [{ secret: 'common' }], mounts: { '/run/tls': { secret: 'tls' } } },
};

test('compose export: every field Compose can express, in a file the Compose schema accepts', () => {
  const { compose, warnings } = toCompose(DOC, [{ revision: 'shop-00002', percent: 90 }, { revision: 'shop-00001', percent: 10 }]);
  const validate = validator();
  const parsed: { services: Record<string, unknown>; volumes?: unknown; secrets?: unknown } = YAML.parse(YAML.stringify(compose));
  assert.ok(validate(parsed), JSON.stringify(validate.errors, null, 2));
  assert.deepEqual(parsed.services.shop, {
    image: DOC.image,
    entrypoint: ['/bin/shop'],
    command: ['--serve'],
    environment: { MODE: 'prod' },
    ports: [{ target: 3000, protocol: 'tcp' }],
    deploy: { replicas: 2, resources: { limits: { cpus: '0.5', memory: '512m', pids: 256 } }, placement: { constraints: ['node.labels.zone==edge'], preferences: [{ spread: 'node.labels.rack' }] } },
    cap_add: ['NET_RAW'],
    read_only: true,
    labels: { team: 'payments' },
    stop_grace_period: '15s',
    healthcheck: { test: ['CMD-SHELL', 'wget -q -O /dev/null http://127.0.0.1:3000/healthz || exit 1'], interval: '2s', timeout: '1s', retries: 5 },
    volumes: [{ type: 'volume', source: 'data', target: '/var/lib/shop' }, { type: 'volume', source: 'ro', target: '/ro', read_only: true }],
    secrets: [{ source: 'tls', target: '/run/tls' }],
  });
  assert.deepEqual(parsed.volumes, { data: { external: true }, ro: { external: true } });
  assert.deepEqual(parsed.secrets, { tls: { external: true } });
  // what it cannot say is named
  const named = warnings.map((w) => w.slice(0, w.indexOf(':')));
  for (const field of ['scaling (scaling.max, scaling.concurrency, scaling.metric)', 'resources.disk', 'liveness', 'secrets.env.PW', 'secrets.envFrom (common)', 'timeout', 'queueLimit', 'traffic', 'secrets.mounts', 'readiness', 'port']) {
    assert.ok(named.includes(field), `${field} reported: ${named.join(' | ')}`);
  }
});

test('compose export: a minimal and an internal service validate too', () => {
  const validate = validator();
  const hello = toCompose({ name: 'hello', image: 'team/hello:v1' });
  assert.ok(validate(hello.compose), JSON.stringify(validate.errors));
  assert.ok(hello.warnings.some((w) => w.startsWith('scaling: Compose cannot express autoscaling or scale to zero')));
  const internal = toCompose({ name: 'db', image: 'team/db:v1', port: 5432, ingress: 'internal', resources: { memory: 1000 } });
  assert.ok(validate(internal.compose), JSON.stringify(validate.errors));
  const svc = (internal.compose.services as Record<string, Record<string, unknown>>).db!;
  assert.deepEqual(svc.expose, ['5432']);
  assert.equal(svc.ports, undefined);
  assert.deepEqual(svc.deploy, { resources: { limits: { memory: '1000b' } } });
  // the schema does refuse a broken file
  assert.equal(validate({ services: { x: { image: 'i', replicas_please: 3 } } }), false);
});
