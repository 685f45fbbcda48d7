// Budgets with real runc instances (issue 14, "Budgets that cap scale"): a price sheet where a second
// of an instance costs 0.50 (1 per vCPU-second, 0.5 CPU, billed per instance lifetime), budgets of a
// few cents to a few units, evaluated every second.
//   (1) notify: the soft threshold and the spent budget are each POSTed once to the project's webhook
//       (a local server here) and written as service events;
//   (2) cap: once spent, load does not scale the project beyond the instances it held then (every
//       request still served, queued); raising the budget lifts the cap at once: the load scales out;
//   (3) stop: once spent, the project's instances go to zero and its service answers 402
//       BUDGET_EXHAUSTED with a body naming the project and the budget; raised, it serves again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { FAST, gatewayGet, runningCount, until } from '../helpers/serving.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;
const RUN = `b${process.pid.toString(36)}`;

test('budgets: soft threshold → webhook and event; cap holds scale where it was; stop → 402 and zero instances; raised → lifted', { skip, timeout: 300_000 }, async (t) => {
  const d = await startTestDaemon(t, {
    settings: (s) => {
      s.metering.sampleMs = 200;
      s.metering.flushIntervalMs = 500;
      s.metering.prices = { currency: 'USD', vcpuSecond: '1', gibSecond: '0', millionRequests: '0', idleDiscount: '0' };
      s.budgets.intervalSeconds = 1;
    },
  });
  const admin = new SkiffClient({ baseUrl: d.url, token: d.token });
  const hooks: Array<Record<string, string>> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      hooks.push(JSON.parse(body) as Record<string, string>);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/budget`;

  const project = async (name: string) => {
    await admin.createProject(name);
    const image = await pushHttpdImage(d, `${name}/app`, 'v1');
    return { client: new SkiffClient({ baseUrl: d.url, token: d.token, project: name }), image: image.reference };
  };
  const doc = (name: string, image: string, scaling: Record<string, unknown>) => ({ name, image, billing: 'instance' as const, resources: { memory: '64Mi', cpu: '0.5' }, scaling: { ...FAST, ...scaling } });

  await t.test('(1) notify: soft threshold and spent budget each POSTed once, and in the service events', async () => {
    const { client, image } = await project('team-a');
    const svc = `${RUN}-a`;
    await client.deploy(doc(svc, image, { min: 1, max: 1 }));
    await until('team-a instance running', async () => (await runningCount(client, svc)) === 1, 60_000);
    const set = await admin.setBudget('team-a', { monthly: '3.00', soft: ['50%'], action: 'notify', webhook: hookUrl });
    assert.equal(set.monthly, '3.00');
    assert.deepEqual(set.soft, ['50']);
    await until('both thresholds POSTed', () => hooks.filter((h) => h.project === 'team-a').length >= 2, 60_000);
    await new Promise((r) => setTimeout(r, 2500)); // a few more evaluations: nothing is told twice
    const mine = hooks.filter((h) => h.project === 'team-a');
    assert.deepEqual(mine.map((h) => h.threshold), ['50', '100']);
    assert.deepEqual(mine.map((h) => h.type), ['budget.threshold', 'budget.spent']);
    for (const h of mine) {
      assert.equal(h.budget, '3.00');
      assert.equal(h.currency, 'USD');
      assert.match(h.month!, /^\d{4}-\d{2}$/);
      assert.match(h.spent!, /^\d+\.\d{2}$/);
      assert.match(h.forecast!, /^\d+\.\d{2}$/);
    }
    const status = await client.getBudget('team-a');
    assert.equal(status.state, 'exhausted');
    assert.equal(status.enforced, 'none', 'notify only tells');
    assert.ok(Number(status.forecast) >= Number(status.spent));
    const events = (await client.service(svc)).events.filter((e) => e.kind === 'budget');
    assert.ok(events.some((e) => /budget 50% reached/.test(e.message)), JSON.stringify(events));
    assert.ok(events.some((e) => /budget spent/.test(e.message)), JSON.stringify(events));
    assert.equal(await runningCount(client, svc), 1, 'notify stops nothing');
    await client.deleteService(svc);
  });

  await t.test('(2) cap: no scale-out beyond the instances held when spent; raised → scales out', async () => {
    const { client, image } = await project('team-b');
    const svc = `${RUN}-b`;
    await client.deploy(doc(svc, image, { min: 1, max: 6, concurrency: 1 }));
    await until('team-b instance running', async () => (await runningCount(client, svc)) === 1, 60_000);
    await new Promise((r) => setTimeout(r, 1000)); // > 0.01 spent
    const capped = await admin.setBudget('team-b', { monthly: '0.01', action: 'cap' });
    assert.equal(capped.state, 'exhausted');
    assert.equal(capped.enforced, 'cap');
    assert.equal(capped.cappedAt, 1);
    const load = async () => {
      let most = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          most = Math.max(most, await runningCount(client, svc));
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const statuses: number[] = [];
      await Promise.all(Array.from({ length: 6 }, async () => {
        for (let i = 0; i < 4; i++) statuses.push((await gatewayGet(d.gatewayUrl, svc, '/cgi-bin/slow?0.5')).status);
      }));
      sampling = false;
      await sampler;
      return { most, statuses };
    };
    const held = await load();
    assert.deepEqual([...new Set(held.statuses)], [200], 'every request served by the instance held');
    assert.equal(held.most, 1, `at most ${held.most} instances while capped`);
    const events = (await client.service(svc)).events.filter((e) => e.kind === 'quota');
    assert.ok(events.some((e) => /has spent its monthly budget/.test(e.message)), JSON.stringify(events));

    const raised = await admin.setBudget('team-b', { monthly: '1000', action: 'cap' });
    assert.equal(raised.enforced, 'none');
    const free = await load();
    assert.deepEqual([...new Set(free.statuses)], [200]);
    assert.ok(free.most > 1, `scaled out to ${free.most} once raised`);
    await client.deleteService(svc);
  });

  await t.test('(3) stop: zero instances and 402 BUDGET_EXHAUSTED; raised → serves again', async () => {
    const { client, image } = await project('team-c');
    const svc = `${RUN}-c`;
    await client.deploy(doc(svc, image, { min: 1, max: 2 }));
    await until('team-c instance running', async () => (await runningCount(client, svc)) === 1, 60_000);
    assert.equal((await gatewayGet(d.gatewayUrl, svc, '/')).status, 200);
    await new Promise((r) => setTimeout(r, 1000));
    const stopped = await admin.setBudget('team-c', { monthly: '0.01', action: 'stop' });
    assert.equal(stopped.enforced, 'stop');
    await until('team-c scaled to zero', async () => (await runningCount(client, svc)) === 0, 30_000);
    const began = Date.now();
    const r = await gatewayGet(d.gatewayUrl, svc, '/');
    assert.equal(r.status, 402, r.body);
    assert.ok(Date.now() - began < 2000, 'answered at once');
    assert.equal(r.headers['x-skiff-error'], 'BUDGET_EXHAUSTED');
    const body = JSON.parse(r.body) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'BUDGET_EXHAUSTED');
    assert.match(body.error.message, /project team-c has spent its monthly budget \(\d+\.\d{2} of 0\.01 USD in \d{4}-\d{2}\): its services are stopped until the budget is raised/);
    await new Promise((r) => setTimeout(r, 1500)); // the min instance is not started again meanwhile
    assert.equal(await runningCount(client, svc), 0);

    const raised = await admin.setBudget('team-c', { monthly: '1000', action: 'stop' });
    assert.equal(raised.enforced, 'none');
    await until('team-c serves again', async () => (await gatewayGet(d.gatewayUrl, svc, '/')).status === 200, 30_000);
    await admin.deleteBudget('team-c');
  });
});
