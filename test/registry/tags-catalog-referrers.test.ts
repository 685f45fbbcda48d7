// Listing endpoints: tags and _catalog with n/last pagination and Link headers, and the referrers API.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon } from '../helpers/daemon.ts';
import {
  v2, expectOciError, pushBlob, pushImage, putManifest, imageManifest, indexManifest, uniqueRepo, MEDIA,
  type Descriptor, type RegistryTarget,
} from '../helpers/oci.ts';
import { digestOf } from '../../src/core/digest.ts';

/** Follows `Link: <...>; rel="next"` from `first`, returning every page's items and the links seen. */
async function allPages(reg: RegistryTarget, first: string, key: 'tags' | 'repositories'): Promise<{ pages: string[][]; links: string[] }> {
  const pages: string[][] = [];
  const links: string[] = [];
  let next: string | undefined = first;
  while (next) {
    const res = await v2(reg, next);
    assert.equal(res.status, 200);
    pages.push(((await res.json()) as Record<string, string[]>)[key]!);
    const link = res.headers.get('link');
    if (link) links.push(link);
    next = link ? /^<([^>]+)>; rel="next"$/.exec(link)![1] : undefined;
    assert.ok(pages.length < 50, 'pagination does not end');
  }
  return { pages, links };
}

test('tags list', async (t) => {
  const d = await startTestDaemon(t);
  const repo = uniqueRepo('tags');
  const img = await pushImage(d, repo, 'latest');
  const tags = ['latest', ...Array.from({ length: 7 }, (_, i) => `v${i}`), 'A-upper', '_under'];
  for (const tag of tags.slice(1)) await putManifest(d, repo, tag, img.bytes);
  const sorted = [...tags].sort();

  await t.test('without n every tag comes in one sorted page without Link', async () => {
    const res = await v2(d, `/v2/${repo}/tags/list`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('link'), null);
    assert.deepEqual(await res.json(), { name: repo, tags: sorted });
  });

  for (const n of [1, 3, 4, sorted.length - 1, sorted.length, sorted.length + 5]) {
    await t.test(`n=${n} pages through every tag with Link headers`, async () => {
      const { pages, links } = await allPages(d, `/v2/${repo}/tags/list?n=${n}`, 'tags');
      assert.deepEqual(pages.flat(), sorted);
      assert.ok(pages.every((p) => p.length <= n));
      assert.equal(links.length, Math.ceil(sorted.length / n) - 1, 'a Link on every page but the last');
      assert.equal(links[0], links.length ? `</v2/${repo}/tags/list?n=${n}&last=${encodeURIComponent(sorted[n - 1]!)}>; rel="next"` : undefined);
    });
  }

  const queries = [
    { q: 'last=v3', tags: sorted.filter((x) => x > 'v3') },
    { q: 'n=2&last=latest', tags: sorted.filter((x) => x > 'latest').slice(0, 2) },
    { q: 'last=zzz', tags: [] },
    { q: 'n=0', tags: [] },
  ];
  for (const c of queries) {
    await t.test(`?${c.q} lists ${JSON.stringify(c.tags)}`, async () => {
      const res = await v2(d, `/v2/${repo}/tags/list?${c.q}`);
      assert.deepEqual(((await res.json()) as { tags: string[] }).tags, c.tags);
    });
  }

  for (const q of ['n=-1', 'n=abc', 'n=1.5']) {
    await t.test(`?${q} is 400`, async () => {
      await expectOciError(await v2(d, `/v2/${repo}/tags/list?${q}`), 400, 'BAD_REQUEST');
    });
  }

  await t.test('a repository with only untagged manifests lists no tags', async () => {
    const r = uniqueRepo('tags');
    await pushImage(d, r, undefined);
    assert.deepEqual(await (await v2(d, `/v2/${r}/tags/list`)).json(), { name: r, tags: [] });
  });
});

test('catalog', async (t) => {
  const d = await startTestDaemon(t);
  const repos = ['alpha', 'beta/one', 'beta/two', 'gamma', 'zeta/x/y'];
  for (const r of repos) await pushImage(d, r, 'v1');
  // A session alone does not make a repository appear.
  assert.equal((await v2(d, '/v2/only-upload/blobs/uploads/', { method: 'POST' })).status, 202);

  await t.test('lists every repository with content, sorted', async () => {
    const res = await v2(d, '/v2/_catalog');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { repositories: repos });
  });

  for (const n of [1, 2, 5]) {
    await t.test(`n=${n} pages through the catalog with Link headers`, async () => {
      const { pages, links } = await allPages(d, `/v2/_catalog?n=${n}`, 'repositories');
      assert.deepEqual(pages.flat(), repos);
      assert.equal(links.length, Math.ceil(repos.length / n) - 1, 'a Link on every page but the last');
      if (n < repos.length) assert.equal(links[0], `</v2/_catalog?n=${n}&last=${encodeURIComponent(repos[n - 1]!)}>; rel="next"`);
    });
  }

  await t.test('?last= starts after the named repository', async () => {
    assert.deepEqual(await (await v2(d, '/v2/_catalog?last=beta/two')).json(), { repositories: ['gamma', 'zeta/x/y'] });
  });
});

test('referrers API', async (t) => {
  const d = await startTestDaemon(t);
  const repo = uniqueRepo('refs');
  const subject = await pushImage(d, repo, 'app');
  const empty = await pushBlob(d, repo, '{}', 'application/vnd.oci.empty.v1+json');
  const payload = await pushBlob(d, repo, 'an sbom', 'application/spdx+json');

  const sbom = imageManifest(empty, [payload], {
    artifactType: 'application/vnd.example.sbom',
    subject: subject.descriptor,
    annotations: { 'org.opencontainers.image.created': '2026-11-25T00:00:00Z' },
  });
  const sigConfig = await pushBlob(d, repo, '{"sig":1}', 'application/vnd.example.sig.config+json');
  const sig = imageManifest(sigConfig, [payload], { subject: subject.descriptor });
  const bundle = indexManifest([subject.descriptor], { artifactType: 'application/vnd.example.bundle', subject: subject.descriptor });

  const pushed: Descriptor[] = [];
  for (const doc of [sbom, sig, bundle]) {
    const { digest, bytes, response } = await putManifest(d, repo, digestOf(JSON.stringify(doc)), doc);
    assert.equal(response.headers.get('oci-subject'), subject.digest, 'PUT with a subject answers OCI-Subject');
    pushed.push({ mediaType: doc.mediaType, digest, size: bytes.length });
  }
  const expected = [
    { ...pushed[0]!, artifactType: 'application/vnd.example.sbom', annotations: { 'org.opencontainers.image.created': '2026-11-25T00:00:00Z' } },
    { ...pushed[1]!, artifactType: 'application/vnd.example.sig.config+json' },
    { ...pushed[2]!, artifactType: 'application/vnd.example.bundle' },
  ];
  const byDigest = (a: { digest: string }, b: { digest: string }) => a.digest.localeCompare(b.digest);

  async function referrers(path: string) {
    const res = await v2(d, path);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), MEDIA.ociIndex);
    const body = (await res.json()) as { schemaVersion: number; mediaType: string; manifests: Descriptor[] };
    assert.equal(body.schemaVersion, 2);
    assert.equal(body.mediaType, MEDIA.ociIndex);
    return { body, filters: res.headers.get('oci-filters-applied') };
  }

  await t.test('a PUT without a subject has no OCI-Subject header', async () => {
    const img = await pushImage(d, repo, 'plain');
    const again = await putManifest(d, repo, 'plain2', img.bytes);
    assert.equal(again.response.headers.get('oci-subject'), null);
  });

  await t.test('lists every manifest with that subject, with artifactType and annotations', async () => {
    const { body, filters } = await referrers(`/v2/${repo}/referrers/${subject.digest}`);
    assert.equal(filters, null);
    assert.deepEqual([...body.manifests].sort(byDigest), [...expected].sort(byDigest));
  });

  const filters = [
    { artifactType: 'application/vnd.example.sbom', want: [expected[0]!] },
    { artifactType: 'application/vnd.example.sig.config+json', want: [expected[1]!] },
    { artifactType: 'application/vnd.example.none', want: [] },
  ];
  for (const f of filters) {
    await t.test(`artifactType=${f.artifactType} filters and says OCI-Filters-Applied`, async () => {
      const { body, filters: applied } = await referrers(`/v2/${repo}/referrers/${subject.digest}?artifactType=${encodeURIComponent(f.artifactType)}`);
      assert.equal(applied, 'artifactType');
      assert.deepEqual(body.manifests, f.want);
    });
  }

  await t.test('a digest with no referrers, or never pushed, gives an empty index', async () => {
    for (const digest of [pushed[0]!.digest, digestOf('never pushed')]) {
      assert.deepEqual((await referrers(`/v2/${repo}/referrers/${digest}`)).body.manifests, []);
    }
  });

  await t.test('a referrer may arrive before its subject', async () => {
    const r = uniqueRepo('refs');
    const future = { mediaType: MEDIA.ociManifest, digest: digestOf('future subject'), size: 14 };
    const cfg = await pushBlob(d, r, '{}', 'application/vnd.oci.empty.v1+json');
    const { digest } = await putManifest(d, r, 'early', imageManifest(cfg, [], { artifactType: 'application/vnd.example.early', subject: future }));
    const { body } = await referrers(`/v2/${r}/referrers/${future.digest}`);
    assert.deepEqual(body.manifests.map((m) => m.digest), [digest]);
  });

  await t.test('referrers are per repository and disappear when deleted', async () => {
    assert.deepEqual((await referrers(`/v2/${uniqueRepo('refs')}/referrers/${subject.digest}`)).body.manifests, []);
    assert.equal((await v2(d, `/v2/${repo}/manifests/${pushed[0]!.digest}`, { method: 'DELETE' })).status, 202);
    const { body } = await referrers(`/v2/${repo}/referrers/${subject.digest}`);
    assert.deepEqual(body.manifests.map((m) => m.digest).sort(), [pushed[1]!.digest, pushed[2]!.digest].sort());
  });

  await t.test('an invalid digest is 400 DIGEST_INVALID', async () => {
    await expectOciError(await v2(d, `/v2/${repo}/referrers/sha256:short`), 400, 'DIGEST_INVALID');
  });
});
