// cli/compose: the Compose → Skiff mapping (plan.ts), interpolation and .env files (interpolate.ts) and
// loading (load.ts), on real Compose text validated against the vendored Compose schema — every
// mapped, reported and refused case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { SkiffError, type ErrorCode } from '../../src/core/errors.ts';
import { interpolateString, interpolateTree, parseDotenv } from '../../src/cli/compose/interpolate.ts';
import { findComposeFile, loadCompose, validateCompose } from '../../src/cli/compose/load.ts';
import { normaliseProjectName, planCompose, skiffImage, type ComposePlan } from '../../src/cli/compose/plan.ts';
import { composeBytes, composeDuration, dnsName, parsePort, shellWords } from '../../src/cli/compose/words.ts';

const FIXTURES = path.join(import.meta.dirname, 'fixtures');

/** The plan of a Compose text, validated against the schema first, as `compose up` does. */
async function planOf(text: string, o: { env?: Record<string, string>; files?: Record<string, string>; project?: string; profiles?: string[] } = {}): Promise<ComposePlan> {
  const unset = new Set<string>();
  const model = interpolateTree(YAML.parse(text), o.env ?? {}, unset) as Record<string, unknown>;
  await validateCompose(model, 'compose.yaml');
  return planCompose({ model, project: o.project ?? 'proj', dir: '/srv/app', env: o.env ?? {}, readFile: (f) => o.files?.[f], ...(o.profiles ? { profiles: o.profiles } : {}) });
}

async function refused(text: string, code: ErrorCode, message: RegExp, o: Parameters<typeof planOf>[1] = {}): Promise<void> {
  await assert.rejects(planOf(text, o), (err: unknown) => {
    assert.ok(err instanceof SkiffError, String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}

const svc = (body: string) => `services:\n  web:\n    image: team/web:v1\n${body.replace(/^/gm, '    ')}\n`;
const doc = (p: ComposePlan, name = 'web') => p.services.find((s) => s.name === name)!.document;

test('interpolation: ${VAR}, $VAR, defaults, alternatives, $$, nesting, required, unset', () => {
  const unset = new Set<string>();
  const vars = { A: 'a', EMPTY: '', B: 'b' };
  const i = (t: string) => interpolateString(t, vars, 'x', unset);
  assert.equal(i('${A}-$A-$${A}'), 'a-a-${A}');
  assert.equal(i('${EMPTY:-d}|${EMPTY-d}|${NOPE-d}|${NOPE:-d}'), 'd||d|d');
  assert.equal(i('${A:+alt}|${EMPTY:+alt}|${EMPTY+alt}|${NOPE+alt}'), 'alt||alt|');
  assert.equal(i('${NOPE:-${B:-x}}/${NOPE:-${NOPE2:-deep}}'), 'b/deep');
  assert.equal(i('cost $5 and $'), 'cost $5 and $');
  assert.equal(i('${MISSING}x'), 'x');
  assert.deepEqual([...unset], ['MISSING']);
  assert.throws(() => i('${NOPE:?set NOPE please}'), /x: required variable NOPE is missing a value: set NOPE please/);
  assert.throws(() => i('${EMPTY:?}'), (e: SkiffError) => e.code === 'COMPOSE_INVALID' && /EMPTY is empty/.test(e.message));
  assert.equal(i('${EMPTY?fine}'), '');
  assert.throws(() => i('${A'), /a "\$\{" without its "\}"/);
  assert.throws(() => i('${1A}'), /does not start with a variable name/);
  assert.deepEqual(interpolateTree({ a: ['$A', { b: '${B}' }], n: 3, k: null }, vars, unset), { a: ['a', { b: 'b' }], n: 3, k: null });
});

test('.env files: export, comments, quotes, escapes, interpolation, KEY alone from the environment', () => {
  const env = parseDotenv(
    ['# comment', '', 'export A=1', 'B = two words # a comment', "C='${A} raw # kept'", 'D="line\\nnext ${A}"', 'E=${A}${A}', 'FROM_SHELL', 'NOT_SET', "M='multi", "line'"].join('\n'),
    '.env',
    { FROM_SHELL: 'sh' },
  );
  assert.deepEqual(env, { A: '1', B: 'two words', C: '${A} raw # kept', D: 'line\nnext 1', E: '11', FROM_SHELL: 'sh', M: 'multi\nline' });
  assert.throws(() => parseDotenv('not a line', 'x.env'), /x.env line 1: not KEY=VALUE/);
});

test('words: shell words, durations, sizes, ports, DNS names', () => {
  assert.deepEqual(shellWords(`sh -c 'echo "$HOME"' a\\ b "c \\"d\\""`, 'x'), ['sh', '-c', 'echo "$HOME"', 'a b', 'c "d"']);
  assert.throws(() => shellWords('a "b', 'w'), /w: unterminated " quote/);
  assert.equal(composeDuration('1m30s', 'x'), 90_000);
  assert.equal(composeDuration('250ms', 'x'), 250);
  assert.equal(composeDuration(5, 'x'), 5000);
  assert.throws(() => composeDuration('soon', 'h.interval'), /h.interval: expected a duration/);
  assert.equal(composeBytes('512m', 'x'), 512 * 1024 ** 2);
  assert.equal(composeBytes('1.5GB', 'x'), 1.5 * 1024 ** 3);
  assert.deepEqual(parsePort('127.0.0.1:8080:80/tcp', 'p'), { target: 80, published: '8080', hostIp: '127.0.0.1', protocol: 'tcp' });
  assert.deepEqual(parsePort('3000', 'p'), { target: 3000, protocol: 'tcp' });
  assert.deepEqual(parsePort(9000, 'p'), { target: 9000, protocol: 'tcp' });
  assert.deepEqual(parsePort({ target: 80, published: '8080', protocol: 'udp' }, 'p'), { target: 80, published: '8080', protocol: 'udp' });
  assert.deepEqual(parsePort('[::1]:8080:80', 'p'), { target: 80, published: '8080', hostIp: '[::1]', protocol: 'tcp' });
  assert.equal(dnsName('My_App', 'web.front'), 'my-app-web-front');
  const long = dnsName('p'.repeat(40), 's'.repeat(40), 'secrets');
  assert.ok(long.length <= 63 && /^[a-z0-9-]+$/.test(long));
  assert.notEqual(long, dnsName('p'.repeat(40), 's'.repeat(41), 'secrets'));
  assert.equal(normaliseProjectName('My.Project 2'), 'myproject2');
  assert.equal(normaliseProjectName('__x'), 'x');
});

test('image references: Skiff\'s registry host, docker.io and library/ are dropped; a tag defaults to latest', () => {
  assert.equal(skiffImage('team/app', 'i'), 'team/app:latest');
  assert.equal(skiffImage('127.0.0.1:5000/team/app:v2', 'i'), 'team/app:v2');
  assert.equal(skiffImage('docker.io/library/redis:7', 'i'), 'redis:7');
  assert.equal(skiffImage('localhost:5000/a@sha256:' + 'a'.repeat(64), 'i'), 'a@sha256:' + 'a'.repeat(64));
  assert.throws(() => skiffImage('Team/App', 'services.x.image'), /services.x.image: "Team\/App" is not an image reference/);
});

test('the three-service fixture: ports → public, expose → internal, TCP store with a volume and a secret, order by depends_on', async () => {
  const l = await loadCompose({ file: path.join(FIXTURES, 'app', 'compose.yaml'), env: { GREETING: 'hi' } });
  assert.equal(l.project, 'shop'); // the file's name:
  const p = planCompose({ model: l.model, project: l.project, dir: l.dir, env: l.env, readFile: () => 'LOG_LEVEL=debug\nQUOTED="a b"\n' });
  assert.deepEqual(p.services.map((s) => s.name), ['store', 'api', 'web']);
  const web = doc(p);
  assert.equal(web.image, 'team/web:v1'); // ${WEB_TAG:-v1}
  assert.deepEqual(web.env, { API_URL: 'http://api/', GREETING: 'hi' });
  assert.equal(web.ingress, 'all');
  assert.equal(web.protocol, 'http');
  assert.equal(web.port, 8080);
  assert.deepEqual(web.readiness, { period: '2000ms', timeout: '1000ms', failureThreshold: 3, path: '/healthz' });
  assert.deepEqual(web.resources, { memory: '128Mi', cpu: 0.5 });
  assert.deepEqual(web.scaling, { min: 2, max: 10 }); // replicas 2 → at least 2
  assert.deepEqual(web.labels, { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web' });
  assert.deepEqual(p.services.find((s) => s.name === 'web')!.waitFor, ['api']);
  const api = doc(p, 'api');
  assert.equal(api.image, 'team/api:v1'); // Skiff's registry host dropped
  assert.equal(api.ingress, 'internal');
  assert.deepEqual(api.args, ['/bin/app', '--verbose']);
  assert.deepEqual(api.env, { LOG_LEVEL: 'debug', QUOTED: 'a b' });
  assert.deepEqual(api.secrets, { mounts: { '/run/secrets': { secret: 'shop-api-secrets' } } });
  const store = doc(p, 'store');
  assert.equal(store.protocol, 'tcp'); // 6379
  assert.equal(store.ingress, 'internal');
  assert.deepEqual(store.volumes, [{ volume: 'shop-kv', path: '/data' }]);
  assert.deepEqual(store.scaling, { min: 1, max: 1 });
  assert.deepEqual(p.volumes, [{ name: 'shop-kv', compose: 'kv', external: false, shared: false }]);
  assert.deepEqual(p.secrets.map((s) => [s.name, Object.keys(s.data)]), [['shop-api-secrets', ['store_token']], ['shop-store-secrets', ['store_token']]]);
  assert.deepEqual(p.secrets[0]!.data.store_token, { file: path.join(FIXTURES, 'app', 'token.txt') });
  assert.deepEqual(p.warnings, [
    "services.web.ports[0]: host port 8080 is not opened: the service answers at its URL on Skiff's gateway",
    'services.store.restart: on-failure: not honoured: Skiff replaces an instance that exits (as restart: always), with back-off',
  ]);
});

test('loading: default file names up the tree, .env under the shell, project from the directory, -p, COMPOSE_PROJECT_NAME', async (t) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'skiff-compose-load-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = path.join(root, 'My.Shop');
  mkdirSync(path.join(dir, 'sub'), { recursive: true });
  writeFileSync(path.join(dir, 'docker-compose.yml'), 'services:\n  web:\n    image: team/web:${TAG}\n    environment: ["FROM_DOTENV=${ONLY_DOTENV}"]\n');
  writeFileSync(path.join(dir, 'compose.yaml'), 'services:\n  web:\n    image: team/web:${TAG}\n    environment: ["FROM_DOTENV=${ONLY_DOTENV}", "X=${UNSET_ONE}"]\n');
  writeFileSync(path.join(dir, '.env'), 'TAG=fromdotenv\nONLY_DOTENV=yes\n');
  assert.equal(findComposeFile(undefined, path.join(dir, 'sub')), path.join(dir, 'compose.yaml')); // compose.yaml before docker-compose.yml
  const l = await loadCompose({ cwd: path.join(dir, 'sub'), env: { TAG: 'fromshell' } });
  assert.equal(l.project, 'myshop');
  const web = (l.model.services as Record<string, { image: string; environment: string[] }>).web!;
  assert.equal(web.image, 'team/web:fromshell');
  assert.deepEqual(web.environment, ['FROM_DOTENV=yes', 'X=']);
  assert.deepEqual(l.unset, ['UNSET_ONE']);
  assert.equal((await loadCompose({ cwd: dir, env: {}, project: 'other' })).project, 'other');
  assert.equal((await loadCompose({ cwd: dir, env: { COMPOSE_PROJECT_NAME: 'fromenv' } })).project, 'fromenv');
  await assert.rejects(loadCompose({ cwd: dir, env: {}, project: 'Bad Name' }), /project name "Bad Name" must be lowercase/);
  await assert.rejects(loadCompose({ cwd: root, file: 'nope.yaml', env: {} }), /-f nope.yaml: no such file/);
  await assert.rejects(loadCompose({ cwd: '/', env: {} }), (e: SkiffError) => e.code === 'NOT_FOUND' && /no Compose file/.test(e.message));
});

test('a file that does not match the Compose schema is COMPOSE_INVALID naming the path', async () => {
  await refused('services:\n  web:\n    image: a\n    privilegd: true\n', 'COMPOSE_INVALID', /services\.web\.privilegd: unknown field/);
  await refused('services:\n  web:\n    image: a\n    ports: {a: 1}\n', 'COMPOSE_INVALID', /services\.web\.ports: must be array/);
  await refused('services: []\n', 'COMPOSE_INVALID', /services: must be object/);
});

test('refused: what would change what the app does (COMPOSE_UNSUPPORTED or COMPOSE_INVALID, naming the path)', async () => {
  await refused(svc('volumes: ["./data:/data"]'), 'COMPOSE_UNSUPPORTED', /services\.web\.volumes\[0\]: bind mount \.\/data:\/data: Skiff instances cannot see the host's files/);
  await refused(svc('volumes: [{type: bind, source: /srv, target: /srv}]'), 'COMPOSE_UNSUPPORTED', /services\.web\.volumes\[0\]: bind mount \/srv:\/srv/);
  await refused(svc('volumes: ["/var/lib/data"]'), 'COMPOSE_UNSUPPORTED', /services\.web\.volumes\[0\]: anonymous volume \/var\/lib\/data/);
  await refused(svc('volumes: [{type: volume, source: d, target: /d, volume: {subpath: x}}]') + 'volumes:\n  d: {}\n', 'COMPOSE_UNSUPPORTED', /subpath/);
  await refused(svc('volumes: ["undeclared:/d"]'), 'COMPOSE_INVALID', /services\.web\.volumes\[0\]: volume "undeclared" is not declared/);
  await refused(svc('network_mode: host'), 'COMPOSE_UNSUPPORTED', /services\.web\.network_mode: host/);
  await refused(svc('network_mode: "service:db"'), 'COMPOSE_UNSUPPORTED', /services\.web\.network_mode: service:db/);
  await refused(svc('pid: host'), 'COMPOSE_UNSUPPORTED', /services\.web\.pid: host/);
  await refused(svc('ipc: host'), 'COMPOSE_UNSUPPORTED', /services\.web\.ipc/);
  await refused(svc('volumes_from: [other]'), 'COMPOSE_UNSUPPORTED', /services\.web\.volumes_from/);
  await refused(svc('uts: host'), 'COMPOSE_UNSUPPORTED', /services\.web\.uts: host/);
  await refused(svc('userns_mode: host'), 'COMPOSE_UNSUPPORTED', /services\.web\.userns_mode: host/);
  await refused(svc('use_api_socket: true'), 'COMPOSE_UNSUPPORTED', /services\.web\.use_api_socket/);
  await refused(svc('provider: {type: model}'), 'COMPOSE_UNSUPPORTED', /services\.web\.provider/);
  await refused(svc('extends: {service: base}'), 'COMPOSE_UNSUPPORTED', /services\.web\.extends/);
  await refused('include: [other.yaml]\n' + svc(''), 'COMPOSE_UNSUPPORTED', /^include: /);
  await refused(svc('ports: ["53:53/udp"]'), 'COMPOSE_UNSUPPORTED', /services\.web\.ports\[0\]: udp/);
  await refused(svc('ports: ["8000-8010:8000-8010"]'), 'COMPOSE_UNSUPPORTED', /services\.web\.ports\[0\]: .*not a range/);
  await refused('services:\n  Web_1:\n    image: a\n', 'COMPOSE_UNSUPPORTED', /services\.Web_1: Skiff service names are DNS labels/);
  await refused('services:\n  web:\n    build: .\n    image: a\n    depends_on: {migrate: {condition: service_completed_successfully}}\n  migrate:\n    image: m\n', 'COMPOSE_UNSUPPORTED', /services\.web\.depends_on\.migrate\.condition: service_completed_successfully/);
  await refused(svc('depends_on: [ghost]'), 'COMPOSE_INVALID', /services\.web\.depends_on\.ghost: no service named ghost/);
  await refused('services:\n  a:\n    image: a\n    depends_on: [b]\n  b:\n    image: b\n    depends_on: [a]\n', 'COMPOSE_INVALID', /dependency cycle: a → b → a/);
  await refused(svc('configs: [cfg]') + 'configs:\n  cfg: {file: ./c.conf}\n', 'COMPOSE_UNSUPPORTED', /services\.web\.configs\[0\]: \/cfg: Skiff mounts files by directory, and \/ cannot be one/);
  await refused(svc('configs: [{source: cfg, target: /tmp/c.conf}]') + 'configs:\n  cfg: {file: ./c.conf}\n', 'COMPOSE_UNSUPPORTED', /\/tmp\/c\.conf: the directory must be not under \/tmp/);
  await refused(svc('secrets: [db]') + 'secrets:\n  db: {external: true}\n', 'COMPOSE_UNSUPPORTED', /secrets\.db: external secrets/);
  await refused(svc('secrets: [nope]'), 'COMPOSE_INVALID', /services\.web\.secrets\[0\]: secret "nope" is not declared/);
  await refused(svc('secrets: [{source: s, target: 1st}]') + 'secrets:\n  s: {file: ./s}\n', 'COMPOSE_UNSUPPORTED', /\/run\/secrets\/1st: a file name here is letters/);
  await refused(svc('configs: [{source: a, target: /etc/app/a.conf}, {source: b, target: /etc/app/sub/b.conf}]') + 'configs:\n  a: {content: x}\n  b: {content: y}\n', 'COMPOSE_UNSUPPORTED', /\/etc\/app\/sub is inside \/etc\/app/);
  await refused(svc('env_file: missing.env'), 'COMPOSE_INVALID', /services\.web\.env_file: env file \/srv\/app\/missing\.env not found/);
  await refused('services:\n  web:\n    environment: {A: 1}\n', 'COMPOSE_INVALID', /services\.web: needs image: or build:/);
  await refused('services:\n  web:\n    image: a\n    profiles: [debug]\n', 'COMPOSE_INVALID', /^services: no service to run/);
  await refused('name: x\n' + svc(''), 'COMPOSE_INVALID', /project name/, { project: 'Bad!' });
});

test('reported: what Skiff does not honour is a warning naming its path, never dropped silently', async () => {
  const p = await planOf(
    'version: "3.9"\n' +
      svc(
        [
          'container_name: my-web',
          'privileged: true',
          'hostname: h',
          'user: "1000"',
          'working_dir: /app',
          'restart: "no"',
          'ports: ["8080:80", "9090:90"]',
          'cap_add: [NET_RAW, SYS_ADMIN]',
          'tmpfs: /cache',
          'labels: {team: shop, "bad label": "x", "com.docker.compose.oneoff": "False"}',
          'networks: {front: {aliases: [www]}, back: {}}',
          'links: ["db:database"]',
          'healthcheck: {test: ["CMD-SHELL", "pg_isready"], start_period: 10s}',
          'deploy: {resources: {reservations: {memory: 64m}, limits: {memory: 1g, pids: 100}}, placement: {constraints: ["node.labels.zone==edge"], max_replicas_per_node: 2}, restart_policy: {condition: any}}',
          'configs: [{source: cfg, target: /etc/app/app.conf, mode: 0440}]',
          'environment: {"a.b": "1", OK: "2"}',
          'volumes: [{type: volume, source: d, target: /d, volume: {nocopy: true}}]',
          'devices: ["/dev/fuse:/dev/fuse"]',
          'stop_signal: SIGINT',
        ].join('\n'),
      ) +
      '  db:\n    image: d\nnetworks:\n  front: {driver: overlay}\n  back: {}\nconfigs:\n  cfg: {content: "x=1"}\nvolumes:\n  d: {driver: nfs, labels: {a: b}}\n',
  );
  const w = p.warnings.join('\n');
  for (const expected of [
    'version: obsolete, ignored',
    'services.web.container_name: not supported: the Skiff service is named web',
    'services.web.privileged: not supported',
    'services.web.hostname: not supported',
    'services.web.user: not supported',
    'services.web.working_dir: not supported',
    'services.web.restart: no: not honoured',
    'services.web.ports[1]: port 90 is not reachable: a Skiff service has one port (80)',
    'services.web.ports[0]: host port 8080 is not opened',
    'services.web.cap_add: SYS_ADMIN: not supported (only NET_RAW may be added)',
    'services.web.tmpfs: /cache: not mounted separately',
    'services.web.labels.bad label: not kept',
    'services.web.labels.com.docker.compose.oneoff: reserved for Compose',
    'services.web.networks.front.aliases: not supported',
    'services.web.links[0]: alias database: not supported',
    'services.web.healthcheck.start_period: not supported',
    'services.web.healthcheck.test: "pg_isready" is not run: Skiff probes TCP port 80 instead',
    'services.web.deploy.resources.reservations: not supported',
    'services.web.deploy.placement.max_replicas_per_node: not supported',
    'services.web.deploy.restart_policy: not supported',
    'services.web.configs[0].mode: not supported',
    'services.web.configs[0]: /etc/app/app.conf: Skiff mounts the directory /etc/app',
    'services.web.environment.a.b: not passed',
    'networks: back, default, front: not isolated from one another',
    'networks.front.driver: not supported',
    'services.web.volumes[0]: option volume.nocopy: not supported',
    'services.web.devices: not supported',
    'services.web.stop_signal: not supported',
    'volumes.d.driver: not supported',
    'volumes.d.labels: not supported',
  ]) {
    assert.ok(w.includes(expected), `missing warning ${JSON.stringify(expected)} in:\n${w}`);
  }
  const web = doc(p);
  assert.equal(web.port, 80);
  assert.deepEqual(web.capabilities, ['NET_RAW']);
  assert.deepEqual(web.labels, { team: 'shop', 'com.docker.compose.project': 'proj', 'com.docker.compose.service': 'web' });
  assert.deepEqual(web.resources, { memory: '1024Mi', pids: 100 });
  assert.deepEqual(web.placement, { constraints: ['node.labels.zone==edge'] });
  assert.ok(!/deploy\.placement: not supported/.test(w), w);
  assert.deepEqual(web.env, { OK: '2' });
  assert.deepEqual(web.secrets, { mounts: { '/etc/app': { secret: 'proj-web-files-etc-app' } } });
  assert.deepEqual(p.secrets, [{ name: 'proj-web-files-etc-app', service: 'web', data: { 'app.conf': { content: 'x=1' } } }]);
  assert.deepEqual(web.readiness, {}); // TCP: Skiff's default probe
});

test('deploy.placement: constraints and preferences[].spread → placement (Swarm\'s syntax, checked); a bad one is COMPOSE_INVALID naming its path', async () => {
  const p = await planOf(svc('ports: ["80"]\ndeploy:\n  placement:\n    constraints: ["node.labels.zone == edge", node.role!=manager]\n    preferences: [{spread: node.labels.rack}, {spread: engine.labels.dc}]'));
  assert.deepEqual(doc(p).placement, { constraints: ['node.labels.zone==edge', 'node.role!=manager'], spread: ['node.labels.rack', 'engine.labels.dc'] });
  assert.ok(!p.warnings.some((w) => w.includes('placement')), p.warnings.join('\n'));
  assert.equal(doc(await planOf(svc('ports: ["80"]\ndeploy: {placement: {constraints: []}}'))).placement, undefined);
  await refused(svc('deploy: {placement: {constraints: [node.role==manager, "zone=edge"]}}'), 'COMPOSE_INVALID', /^services\.web\.deploy\.placement\.constraints\[1\]: "zone=edge": expected DESCRIPTOR==VALUE/);
  await refused(svc('deploy: {placement: {preferences: [{spread: node.labels.a}, {spread: node.hostname}]}}'), 'COMPOSE_INVALID', /^services\.web\.deploy\.placement\.preferences\[1\]\.spread: "node\.hostname"/);
});

test('protocol: a well-known port, the skiff.protocol label or x-skiff make a TCP service (internal; ports not published)', async () => {
  for (const port of [6379, 5432, 3306, 27017, 11211, 4222, 5672, 1883, 9092]) {
    const p = await planOf(svc(`expose: ["${port}"]`));
    assert.equal(doc(p).protocol, 'tcp', String(port));
  }
  const published = await planOf(svc('ports: ["5432:5432"]'));
  assert.equal(doc(published).ingress, 'internal');
  assert.match(published.warnings.join('\n'), /services\.web\.ports: not published: a TCP service is reached only by the project's other services, as web:5432/);
  assert.equal(doc(await planOf(svc('expose: ["7000"]\nlabels: {skiff.protocol: tcp}'))).protocol, 'tcp');
  assert.equal(doc(await planOf(svc('expose: ["7000"]\nx-skiff: {protocol: tcp}'))).protocol, 'tcp');
  assert.equal(doc(await planOf(svc('expose: ["6379"]\nx-skiff: {protocol: http}'))).protocol, 'http');
  assert.equal(doc(await planOf(svc('expose: ["7000"]'))).protocol, 'http');
  await refused(svc('x-skiff: {protocol: udp}'), 'COMPOSE_INVALID', /x-skiff\.protocol: expected http or tcp/);
  const none = await planOf(svc(''));
  assert.equal(doc(none).ingress, 'internal');
  assert.equal(doc(none).port, undefined);
  assert.match(none.warnings.join('\n'), /services\.web: no ports: or expose: — Skiff probes and routes to port 8080/);
});

test('scaling: replicas N → min N; one instance with a read-write volume unless replicas says more (then the volume is shared)', async () => {
  const vol = 'volumes:\n  d: {x-skiff: {size: 2Gi}}\n';
  assert.deepEqual(doc(await planOf(svc('ports: ["80"]'))).scaling, { min: 0, max: 10 });
  assert.deepEqual(doc(await planOf(svc('ports: ["80"]\nscale: 3'))).scaling, { min: 3, max: 10 });
  assert.deepEqual(doc(await planOf(svc('ports: ["80"]\ndeploy: {replicas: 20}'))).scaling, { min: 20, max: 20 });
  const one = await planOf(svc('ports: ["80"]\nvolumes: ["d:/d"]') + vol);
  assert.deepEqual(doc(one).scaling, { min: 0, max: 1 });
  assert.deepEqual(one.volumes, [{ name: 'proj-d', compose: 'd', external: false, shared: false, size: '2Gi' }]);
  const three = await planOf(svc('ports: ["80"]\nvolumes: ["d:/d"]\ndeploy: {replicas: 3}') + vol);
  assert.deepEqual(doc(three).scaling, { min: 3, max: 3 });
  assert.equal(three.volumes[0]!.shared, true);
  const ro = await planOf(svc('ports: ["80"]\nvolumes: ["d:/d:ro"]') + vol);
  assert.deepEqual(doc(ro).scaling, { min: 0, max: 10 });
  assert.deepEqual(doc(ro).volumes, [{ volume: 'proj-d', path: '/d', readOnly: true }]);
  const ext = await planOf(svc('volumes: [{type: volume, source: d, target: /d}]') + 'volumes:\n  d: {external: true, name: shared-data}\n');
  assert.deepEqual(ext.volumes, [{ name: 'shared-data', compose: 'd', external: true, shared: false }]);
  const x = await planOf(svc('ports: ["80"]\nx-skiff: {min: 1, max: 4}'));
  assert.deepEqual(doc(x).scaling, { min: 1, max: 4 });
});

test('commands, environment, env_file, build, profiles, secrets from the environment', async () => {
  const p = await planOf(
    'services:\n' +
      '  web:\n    build: {context: ./web, dockerfile: Containerfile, args: [V=1, FROM_ENV], target: prod, cache_from: [x]}\n' +
      '    entrypoint: /bin/sh -c\n    command: "echo \'hello world\'"\n' +
      '    env_file: [a.env, {path: b.env, required: false}]\n    environment: [B=from-environment, HOME_DIR, UNSET_VAR]\n' +
      '    secrets: [{source: token, target: api_token}]\n' +
      '  tool:\n    image: t\n    profiles: [debug]\n' +
      'secrets:\n  token: {environment: TOKEN}\n',
    { env: { FROM_ENV: 'e', HOME_DIR: '/home/x' }, files: { '/srv/app/a.env': 'A=1\nB=from-file\n' } },
  );
  assert.deepEqual(p.services.map((s) => s.name), ['web']); // tool: profile not active
  const web = doc(p);
  assert.equal(web.image, 'proj-web:latest');
  assert.deepEqual(web.command, ['/bin/sh', '-c']);
  assert.deepEqual(web.args, ['echo', 'hello world']); // split as shell words, as compose does
  assert.deepEqual(web.env, { A: '1', B: 'from-environment', HOME_DIR: '/home/x' });
  assert.deepEqual(p.builds, [{ service: 'web', context: '/srv/app/web', dockerfile: 'Containerfile', target: 'prod', args: { V: '1', FROM_ENV: 'e' }, image: 'proj-web:latest' }]);
  assert.match(p.warnings.join('\n'), /services\.web\.build\.cache_from: not supported/);
  assert.deepEqual(p.secrets, [{ name: 'proj-web-secrets', service: 'web', data: { api_token: { env: 'TOKEN' } } }]);
  const withProfile = await planOf('services:\n  web:\n    image: w\n  tool:\n    image: t\n    profiles: [debug]\n', { profiles: ['debug'] });
  assert.deepEqual(withProfile.services.map((s) => s.name), ['web', 'tool']);
});

test('healthchecks: curl/wget on http://localhost → an HTTP probe of that path; another port is reported; disabled is reported', async () => {
  const curl = await planOf(svc('expose: ["3000"]\nhealthcheck: {test: "curl -fsS http://127.0.0.1:3000/ready?full=1 || exit 1", retries: 500}'));
  assert.deepEqual(doc(curl).readiness, { failureThreshold: 100, path: '/ready?full=1' });
  const other = await planOf(svc('expose: ["3000"]\nhealthcheck: {test: ["CMD", "wget", "-qO-", "http://localhost/"]}'));
  assert.deepEqual(doc(other).readiness, { path: '/' });
  assert.match(other.warnings.join('\n'), /healthcheck\.test: probes port 80, Skiff probes GET \/ on the service's port 3000/);
  const off = await planOf(svc('expose: ["3000"]\nhealthcheck: {disable: true}'));
  assert.equal(doc(off).readiness, undefined);
  assert.match(off.warnings.join('\n'), /services\.web\.healthcheck: disabled: Skiff still probes TCP port 3000/);
  const tcp = await planOf(svc('expose: ["6379"]\nhealthcheck: {test: ["CMD", "curl", "http://localhost:6379/"]}'));
  assert.deepEqual(doc(tcp).readiness, {});
  assert.match(tcp.warnings.join('\n'), /is not run: Skiff probes TCP port 6379 instead/);
});
