// Project quotas with real runc instances (issue 14, "Projects"): a project team-a with a quota of 4
// instances, 1 GiB and 2 CPUs, and a deploy token of its own.
//   (a) six concurrent deploys with --min 1 of 256 MiB / 0.5 CPU: four fit, two are refused with
//       QUOTA_EXCEEDED naming --min and the quota, and nothing of theirs is stored; a --min raise and
//       an instance too big for the quota are refused the same way;
//   (b) load on a service with concurrency 1 scales it out only to the quota (sampled while the load
//       runs), every request is answered; meanwhile a cold service of the project answers 429
//       QUOTA_EXCEEDED at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { FAST, gatewayGet, runningCount, until } from '../helpers/serving.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { SkiffClient } from '../../src/api/client.ts';
import { SkiffError } from '../../src/core/errors.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;
const RUN = `q${process.pid.toString(36)}`;

test('project quotas: concurrent --min deploys and scale-out under load never pass them; a cold service at the quota gets 429 at once', { skip, timeout: 240_000 }, async (t) => {
  const d = await startTestDaemon(t);
  const admin = new SkiffClient({ baseUrl: d.url, token: d.token });
  await admin.createProject('team-a', { instances: 4, memory: '1Gi', cpu: 2 });
  const { secret } = await admin.createToken('team-a-ci', 'deploy', 'team-a');
  const team = new SkiffClient({ baseUrl: d.url, token: secret });
  const image = await pushHttpdImage(d, 'team-a/app', 'v1');
  const usage = async () => (await admin.getProject('team-a')).usage;
  const doc = (name: string, extra: Record<string, unknown> = {}, memory = '256Mi') => ({ name, image: image.reference, resources: { memory, cpu: '0.5' }, ...extra });

  // (a) six concurrent deploys of min 1: 4 × (256Mi, 0.5 CPU) is exactly the quota
  const names = Array.from({ length: 6 }, (_, i) => `${RUN}-m${i}`);
  const results = await Promise.allSettled(names.map((name) => team.deploy(doc(name, { scaling: { min: 1, max: 1 } }))));
  const refused = results.flatMap((r, i) => (r.status === 'rejected' ? [{ name: names[i]!, err: r.reason as SkiffError }] : []));
  assert.equal(refused.length, 2, JSON.stringify(results.map((r) => (r.status === "rejected" ? String(r.reason) : "ok"))));
  for (const { err } of refused) {
    assert.equal(err.code, 'QUOTA_EXCEEDED', err.message);
    assert.match(err.message, /^--min 1: project team-a's quota would be exceeded: (instances: 5 would exceed the quota of 4|memory: 1280Mi would exceed the quota of 1Gi)/);
  }
  const listed = (await team.listServices()).services.map((s) => s.name);
  for (const { name } of refused) assert.ok(!listed.includes(name), `refused ${name} stored nothing`);
  const kept = names.filter((n) => listed.includes(n));
  assert.equal(kept.length, 4);
  await until('the four min instances ready', async () => (await usage()).instances === 4, 60_000);
  // more min instances, or one instance bigger than the whole quota: refused, nothing changed
  await assert.rejects(team.scale(kept[0]!, { min: 2, max: 2 }), (err: SkiffError) => err.code === 'QUOTA_EXCEEDED' && /^--min 2: project team-a's quota/.test(err.message));
  assert.equal((await team.service(kept[0]!)).scaling.min, 1);
  await assert.rejects(team.deploy(doc(`${RUN}-big`, {}, '2Gi')), (err: SkiffError) => err.code === 'QUOTA_EXCEEDED' && /cannot fit project team-a's quota at all: memory: 2Gi would exceed the quota of 1Gi/.test(err.message));

  // (b) one min instance stays; three are left for a service under load
  for (const name of kept.slice(1)) await team.deleteService(name);
  await until('three min services gone', async () => (await usage()).instances === 1, 30_000);
  const web = `${RUN}-web`;
  await team.deploy(doc(web, { scaling: { ...FAST, concurrency: 1, max: 10 } }));
  assert.equal((await gatewayGet(d.gatewayUrl, web, '/')).status, 200);
  let most = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const u = await usage();
      let running = 0;
      for (const s of [kept[0]!, web]) running += await runningCount(team, s);
      most = Math.max(most, u.instances, running);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const statuses: number[] = [];
  let coldAnswer: { status: number; body: string; ms: number } | undefined;
  const cold = `${RUN}-cold`;
  await team.deploy(doc(cold, { scaling: { ...FAST } }));
  const load = Promise.all(
    Array.from({ length: 12 }, async () => {
      for (let i = 0; i < 3; i++) statuses.push((await gatewayGet(d.gatewayUrl, web, '/cgi-bin/slow?1')).status);
    }),
  );
  await until('web scaled out to the quota', async () => (await usage()).instances === 4, 30_000);
  const began = Date.now();
  const r = await gatewayGet(d.gatewayUrl, cold, '/');
  coldAnswer = { status: r.status, body: r.body, ms: Date.now() - began };
  await load;
  sampling = false;
  await sampler;
  assert.deepEqual([...new Set(statuses)], [200], 'every request under load was served (queued for the instances there are)');
  assert.equal(most, 4, `at most ${most} instances at once (quota 4)`);
  assert.equal(coldAnswer.status, 429, coldAnswer.body);
  assert.ok(coldAnswer.ms < 2000, `the cold service answered after ${coldAnswer.ms} ms`);
  const body = JSON.parse(coldAnswer.body) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'QUOTA_EXCEEDED');
  assert.match(body.error.message, /project team-a is at its quota: instances: 5 would exceed the quota of 4 \(4 in use\)/);
  const events = (await team.service(web)).events.filter((e) => e.kind === 'quota');
  assert.ok(events.length > 0, 'the refused scale-out is in the service events');
});
