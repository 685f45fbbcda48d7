// knative/rewrite: `skiff export --registry HOST[/PREFIX] --pull-secret NAME` — images of Skiff's
// registry become HOST[/PREFIX]/repo with the digest kept, other registries' images stay, the copy is a
// printed `skopeo copy` line, and imagePullSecrets is one the CRD schema takes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import YAML from 'yaml';
import { assertPullSecretName, imageForCluster, isLoopback, parseRegistry, registryAddress, skiffImage, skopeoCopy, withPullSecret } from '../../src/cli/knative/rewrite.ts';
import { toKnative } from '../../src/cli/knative/export.ts';
import { fromKnative } from '../../src/cli/knative/import.ts';
import { SkiffError } from '../../src/core/errors.ts';
import { assertValidKnativeService } from '../helpers/schemas.ts';

const DIGEST = 'sha256:' + 'b'.repeat(64);
const SKIFF = '127.0.0.1:5000';

test('rewrite: an image of Skiff\'s registry moves to the registry given, its digest pinned', () => {
  assert.deepEqual(imageForCluster(`team/app@${DIGEST}`, { registry: 'registry.example.com', skiffRegistry: SKIFF }), {
    image: `registry.example.com/team/app@${DIGEST}`,
    copy: { from: `127.0.0.1:5000/team/app@${DIGEST}`, to: `registry.example.com/team/app@${DIGEST}` },
  });
  // a prefix goes before the repository; a port stays on the host
  assert.equal(imageForCluster(`app@${DIGEST}`, { registry: 'ghcr.io/acme/mirror', skiffRegistry: SKIFF }).image, `ghcr.io/acme/mirror/app@${DIGEST}`);
  assert.equal(imageForCluster(`team/app@${DIGEST}`, { registry: 'registry.local:5443/k8s', skiffRegistry: SKIFF }).image, `registry.local:5443/k8s/team/app@${DIGEST}`);
  // a tag (and a tag with a digest) is kept as written
  assert.equal(imageForCluster('team/app:v1', { registry: 'r.example.com/p', skiffRegistry: SKIFF }).image, 'r.example.com/p/team/app:v1');
  assert.equal(imageForCluster(`team/app:v1@${DIGEST}`, { registry: 'r.example.com', skiffRegistry: SKIFF }).image, `r.example.com/team/app:v1@${DIGEST}`);
  // Skiff's registry named by its own address, or by a loopback one, is Skiff's
  assert.equal(imageForCluster(`127.0.0.1:5000/team/app@${DIGEST}`, { registry: 'r.example.com', skiffRegistry: SKIFF }).image, `r.example.com/team/app@${DIGEST}`);
  assert.equal(imageForCluster(`localhost:5000/app@${DIGEST}`, { registry: 'r.example.com', skiffRegistry: 'skiff.example.com' }).copy?.from, `skiff.example.com/app@${DIGEST}`);
  assert.equal(imageForCluster(`SKIFF.example.com/app@${DIGEST}`, { registry: 'r.example.com', skiffRegistry: 'skiff.example.com' }).image, `r.example.com/app@${DIGEST}`);
});

test('rewrite: another registry\'s image is untouched, with or without --registry', () => {
  for (const image of [`ghcr.io/acme/app@${DIGEST}`, 'docker.io/library/nginx:1.27', `registry.example.com:5443/x/y@${DIGEST}`]) {
    assert.deepEqual(imageForCluster(image, { registry: 'r.example.com/p', skiffRegistry: SKIFF }), { image });
    assert.deepEqual(imageForCluster(image, { skiffRegistry: SKIFF }), { image });
    assert.equal(skiffImage(image, SKIFF), undefined);
  }
  assert.deepEqual(skiffImage(`team/app@${DIGEST}`, SKIFF), { repository: 'team/app', reference: `@${DIGEST}` });
});

test('rewrite: without --registry the image stays, and a warning says the cluster cannot pull it and what to do', () => {
  const r = imageForCluster(`team/app@${DIGEST}`, { skiffRegistry: SKIFF });
  assert.equal(r.image, `team/app@${DIGEST}`);
  assert.equal(r.copy, undefined);
  assert.match(r.warning!, /in Skiff's registry \(127\.0\.0\.1:5000, a loopback address\)/);
  assert.match(r.warning!, /--registry HOST\[\/PREFIX\]/);
  assert.match(r.warning!, /--pull-secret NAME/);
  assert.doesNotMatch(imageForCluster(`app@${DIGEST}`, { skiffRegistry: 'skiff.example.com' }).warning!, /loopback/);
});

test('rewrite: the skopeo copy line keeps the digest on both sides and reads the token from $SKIFF_TOKEN', () => {
  const copy = { from: `127.0.0.1:5000/team/app@${DIGEST}`, to: `r.example.com/p/team/app@${DIGEST}` };
  assert.equal(skopeoCopy(copy, { insecureSource: true }), `skopeo copy --all --src-tls-verify=false --src-creds "skiff:$SKIFF_TOKEN" docker://127.0.0.1:5000/team/app@${DIGEST} docker://r.example.com/p/team/app@${DIGEST}`);
  assert.equal(skopeoCopy(copy, { insecureSource: false }), `skopeo copy --all --src-creds "skiff:$SKIFF_TOKEN" docker://127.0.0.1:5000/team/app@${DIGEST} docker://r.example.com/p/team/app@${DIGEST}`);
  assert.deepEqual(registryAddress('http://127.0.0.1:5000'), { address: '127.0.0.1:5000', insecure: true });
  assert.deepEqual(registryAddress('https://skiff.example.com/'), { address: 'skiff.example.com', insecure: false });
  assert.deepEqual(registryAddress('http://[::1]:5000'), { address: '[::1]:5000', insecure: true });
});

test('rewrite: loopback addresses', () => {
  for (const a of ['127.0.0.1:5000', 'localhost', 'localhost:5000', '[::1]:5000', '0.0.0.0:5000', '127.1.2.3']) assert.equal(isLoopback(a), true, a);
  for (const a of ['10.0.0.5:5000', 'skiff.example.com', '[fd00::1]:5000', '192.168.1.2']) assert.equal(isLoopback(a), false, a);
});

test('rewrite: --registry and --pull-secret are checked, naming the flag', () => {
  assert.equal(parseRegistry('registry.example.com/team/'), 'registry.example.com/team');
  assert.equal(parseRegistry('localhost:5000'), 'localhost:5000');
  assert.equal(parseRegistry('[fd00::1]:5000/a'), '[fd00::1]:5000/a');
  for (const [bad, why] of [
    ['https://registry.example.com', /no scheme/],
    ['myregistry/team', /would be read as a Docker Hub repository/],
    ['registry.example.com/Team', /not a repository path/],
    ['registry.example.com//x', /not a repository path/],
    ['bad host.com', /not a host/],
    ['', /not a host/],
  ] as const) {
    assert.throws(() => parseRegistry(bad), (err: unknown) => err instanceof SkiffError && err.code === 'USAGE' && err.message.startsWith('--registry: ') && why.test(err.message), bad);
  }
  assert.equal(assertPullSecretName('regcred'), 'regcred');
  assert.equal(assertPullSecretName('ghcr.pull-1'), 'ghcr.pull-1');
  for (const bad of ['RegCred', '-x', 'a_b', 'x'.repeat(254), '']) {
    assert.throws(() => assertPullSecretName(bad), (err: unknown) => err instanceof SkiffError && err.code === 'USAGE' && err.message.startsWith('--pull-secret: '), bad);
  }
});

test('rewrite: the rewritten image and the pull secret validate against the CRD schema, and deploy back with the digest', () => {
  const doc = { name: 'web', image: imageForCluster(`team/web@${DIGEST}`, { registry: 'registry.example.com/mirror', skiffRegistry: SKIFF }).image, env: { A: '1' }, scaling: { min: 1, max: 3 } };
  const { manifest } = toKnative(doc, [{ revision: 'web-00002', percent: 100 }], 'web-00002');
  const pulled = withPullSecret(manifest, 'regcred');
  const spec = (pulled.spec as any).template.spec;
  assert.deepEqual(spec.imagePullSecrets, [{ name: 'regcred' }]);
  assert.equal(spec.containers[0].image, `registry.example.com/mirror/team/web@${DIGEST}`);
  assert.equal((manifest.spec as any).template.spec.imagePullSecrets, undefined, 'the manifest given is not changed');
  assertValidKnativeService(JSON.parse(JSON.stringify(YAML.parse(YAML.stringify(pulled)))));
  // Skiff reads it back (the pull secret is not its business, and said so); the digest is what it was
  const back = fromKnative(YAML.parse(YAML.stringify(pulled)));
  assert.equal(back.document.image, `registry.example.com/mirror/team/web@${DIGEST}`);
  assert.ok(back.warnings.some((w) => w.startsWith('spec.template.spec.imagePullSecrets: ')), back.warnings.join('\n'));
});
