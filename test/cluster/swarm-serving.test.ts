// test/cluster/swarm-serving.test: Skiff serving on a real three-node Docker Swarm (test/helpers/
// swarm-lab.ts) with the swarm driver, end to end through the API, the CLI and the gateway: deploy from
// zero (the nodes pull from Skiff's registry), a burst spread over nodes with no errors, a traffic split,
// scale to zero, a node's dockerd killed under load, a Skiff restart that re-adopts every instance,
// placement constraints, and nothing left on the swarm after `skiff rm` and `skiff down`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { SkiffClient } from '../../src/api/client.ts';
import type { Settings } from '../../src/config/settings.ts';
import { skiffFails, skiffOk } from '../helpers/cli.ts';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { FAST, gatewayGet, readyCount, runningCount, until } from '../helpers/serving.ts';
import { useSwarmLab } from '../helpers/swarm-lab.ts';

const lab = useSwarmLab({ insecureRegistries: ['10.77.0.0/16'], labels: { 1: { zone: 'core' }, 2: { zone: 'edge' }, 3: { zone: 'edge' } } });

const swarmSettings = (s: Settings) => {
  const l = lab();
  s.listen = { host: l.hostAddress, port: 0 };
  s.runtime.driver = 'swarm';
  s.runtime.swarm = { ...s.runtime.swarm, dockerHost: l.manager.host, nodeHosts: l.nodes.map((n) => `${n.name}=${n.host}`), stopGraceMs: 2000 };
  s.metering.sampleMs = 200;
  s.metering.flushIntervalMs = 500;
};

const ownerOf = (d: TestDaemon) => readFileSync(path.join(d.dataDir, 'swarm-owner'), 'utf8').trim();

/** The swarm services of a daemon (optionally of one Skiff service), as `docker service ls` on the manager sees them. */
async function swarmServices(d: TestDaemon, service?: string): Promise<string[]> {
  const filters = ['--filter', `label=skiff.owner=${ownerOf(d)}`, ...(service ? ['--filter', `label=skiff.service=${service}`] : [])];
  const out = await lab().docker(1, ['service', 'ls', '-q', ...filters]);
  return out.stdout.split('\n').filter(Boolean);
}

interface Inst { id: string; phase: string; node?: string; address?: string }
async function instances(client: SkiffClient, name: string): Promise<Inst[]> {
  const s = await client.service(name);
  return s.revisions.flatMap((r) => r.instances as Inst[]);
}

describe('serving on a swarm', { skip: lab.skip }, () => {
  test('deploy from zero, a burst over several nodes with no errors, a split, scale to zero, rm leaves nothing', async (t) => {
    const d = await startTestDaemon(t, { settings: swarmSettings });
    const client = new SkiffClient({ baseUrl: d.url, token: d.token });
    const t0 = Date.now();
    const mark = (what: string) => t.diagnostic(`${what} at ${Date.now() - t0} ms`);
    const repo = uniqueRepo('swarm');
    const v1 = await pushHttpdImage(d, repo, 'v1');
    const v2 = await pushHttpdImage(d, repo, 'v2');
    await client.deploy({ name: 'hello', image: v1.reference, port: 8080, scaling: { ...FAST, concurrency: 2, max: 6 } });
    assert.equal(await runningCount(client, 'hello'), 0, 'deployed scaled to zero');

    const first = await gatewayGet(d.gatewayUrl, 'hello');
    assert.equal(first.status, 200, first.body);
    assert.equal(first.body, 'hello from v1\n');
    const cold = Number(first.headers['x-skiff-cold-start']);
    assert.ok(cold > 0, 'a cold start on the swarm is reported');
    t.diagnostic(`cold start on the swarm: ${cold} ms`);
    const [running] = (await instances(client, 'hello')).filter((i) => i.phase === 'ready');
    assert.ok(running?.node && lab().nodes.some((n) => n.name === running.node), JSON.stringify(running));
    assert.match(await skiffOk(d, ['describe', 'hello']), new RegExp(`on ${running.node}`));

    // a burst: 24 requests of 1 s at 2 per instance wants several instances, wherever the swarm puts them
    const nodesSeen = new Set<string>();
    const watching = (async () => {
      for (let i = 0; i < 60 && nodesSeen.size < 2; i++) {
        for (const inst of await instances(client, 'hello')) if (inst.node && inst.phase === 'ready') nodesSeen.add(inst.node);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const burst = await Promise.all(Array.from({ length: 24 }, () => gatewayGet(d.gatewayUrl, 'hello', '/cgi-bin/slow?1')));
    await watching;
    const failures = burst.filter((r) => r.status !== 200);
    assert.equal(failures.length, 0, `errors: ${JSON.stringify(failures.slice(0, 3))}`);
    assert.ok(nodesSeen.size >= 2, `instances on ${[...nodesSeen].join(', ')} only`);

    mark('burst done');

    // a 50/50 split between two revisions
    const r1 = (await client.service('hello')).traffic[0]!.revision;
    const r2 = (await client.deploy({ name: 'hello', image: v2.reference, port: 8080, scaling: { ...FAST, concurrency: 2, max: 6, min: 1 } })).revision;
    await client.setTraffic('hello', [{ revision: r1, percent: 50 }, { revision: r2, percent: 50 }]);
    const split = await Promise.all(Array.from({ length: 40 }, () => gatewayGet(d.gatewayUrl, 'hello')));
    assert.ok(split.every((r) => r.status === 200), JSON.stringify(split.find((r) => r.status !== 200)));
    const v2hits = split.filter((r) => r.body === 'hello from v2\n').length;
    assert.ok(v2hits > 0 && v2hits < 40, `v2 answered ${v2hits} of 40`);

    mark('split done');
    // back to zero: no task runs on any node
    await client.deploy({ name: 'hello', image: v2.reference, port: 8080, scaling: { ...FAST, concurrency: 2, max: 6, min: 0 } });
    await until('scale to zero', async () => (await runningCount(client, 'hello')) === 0, 60_000);
    await until('no container of hello on any node', async () => {
      for (const n of lab().nodes) {
        const ps = await lab().docker(n.index, ['ps', '-q', '--filter', `label=skiff.owner=${ownerOf(d)}`]);
        if (ps.stdout.trim()) return false;
      }
      return true;
    }, 30_000);

    mark('scaled to zero');
    await client.deleteService('hello');
    await until('rm removed every swarm service of hello', async () => (await swarmServices(d, 'hello')).length === 0, 30_000).catch(async (err: Error) => {
      const left = await lab().docker(1, ['service', 'ls', '--filter', `label=skiff.owner=${ownerOf(d)}`, '--format', '{{.Name}} {{.Replicas}}']);
      throw new Error(`${err.message}; left: ${left.stdout}`);
    });
  });

  test('a node\'s dockerd killed under load: requests keep being answered, failures bounded, instances replaced elsewhere', async (t) => {
    const d = await startTestDaemon(t, { settings: swarmSettings });
    const client = new SkiffClient({ baseUrl: d.url, token: d.token });
    const img = await pushHttpdImage(d, uniqueRepo('swarm-kill'), 'v1');
    await client.deploy({ name: 'sturdy', image: img.reference, port: 8080, scaling: { ...FAST, min: 3, max: 6, idle: '60s' } });
    await until('3 ready', async () => (await readyCount(client, 'sturdy')) >= 3, 60_000);
    const placed = await instances(client, 'sturdy');

    // `skiff nodes`: the three nodes, their labels, and where this daemon's instances are
    const listed = JSON.parse(await skiffOk(d, ['nodes', '-o', 'json'])) as { nodes: Array<{ name: string; role: string; state: string; labels: Record<string, string>; instances: number; reservedMemoryBytes: number; cpus: number }> };
    assert.deepEqual(listed.nodes.map((n) => [n.name, n.role, n.state, n.labels.zone]), lab().nodes.map((n) => [n.name, n.index === 1 ? 'manager' : 'worker', 'ready', n.index === 1 ? 'core' : 'edge']));
    const live = (await instances(client, 'sturdy')).filter((i) => i.node);
    for (const n of listed.nodes) {
      assert.equal(n.instances, live.filter((i) => i.node === n.name).length, `${n.name}: ${JSON.stringify(live)}`);
      assert.equal(n.reservedMemoryBytes, n.instances * 256 * 1024 ** 2, 'each instance reserves its memory limit');
      assert.ok(n.cpus > 0);
    }
    assert.match(await skiffOk(d, ['nodes']), new RegExp(`${lab().nodes[1]!.name}\\s+worker\\s+ready`));
    // the victim: a worker with an instance of ours (never the manager, which Skiff talks to)
    const victim = lab().nodes.find((n) => n.index > 1 && placed.some((i) => i.node === n.name));
    assert.ok(victim, `no instance on a worker: ${JSON.stringify(placed)}`);

    let stop = false;
    const results: Array<{ at: number; status: number }> = [];
    const load = Promise.all(Array.from({ length: 4 }, async () => {
      while (!stop) {
        const r = await gatewayGet(d.gatewayUrl, 'sturdy').catch(() => ({ status: 0 }));
        results.push({ at: Date.now(), status: r.status });
      }
    }));
    await new Promise((r) => setTimeout(r, 1000));
    const killedAt = Date.now();
    await lab().killNode(victim.index);
    t.after(() => lab().restartNode(victim.index));
    await until('no instance on the killed node', async () => !(await instances(client, 'sturdy')).some((i) => i.node === victim.name && i.phase === 'ready'), 30_000);
    const goneAfter = Date.now() - killedAt;
    await until('3 ready again', async () => (await readyCount(client, 'sturdy')) >= 3, 60_000);
    await new Promise((r) => setTimeout(r, 2000));
    stop = true;
    await load;
    const after = results.filter((r) => r.at > killedAt);
    const failed = after.filter((r) => r.status !== 200);
    t.diagnostic(`node ${victim.name} killed: its instances left the routes in ${goneAfter} ms; ${failed.length} of ${after.length} requests after the kill failed`);
    assert.ok(after.length > 20, `only ${after.length} requests after the kill`);
    assert.ok(failed.length <= after.length / 4, `${failed.length} of ${after.length} failed`);
    const tail = after.slice(-20);
    assert.ok(tail.every((r) => r.status === 200), `the last requests: ${tail.map((r) => r.status).join(',')}`);
    assert.ok(!(await instances(client, 'sturdy')).some((i) => i.node === victim.name), 'nothing routed to the dead node');
    // the node's loss is not the app's failure: no crash loop's back-off
    const kinds = (await client.service('sturdy')).events.map((e) => e.kind);
    assert.ok(kinds.includes('node-lost'), kinds.join(','));
    assert.ok(!kinds.includes('back-off'), kinds.join(','));
  });

  test('placement: instances only on the nodes a constraint names; one no node satisfies fails the deploy with Swarm\'s reason', async (t) => {
    const d = await startTestDaemon(t, { settings: swarmSettings });
    const client = new SkiffClient({ baseUrl: d.url, token: d.token });
    const img = await pushHttpdImage(d, uniqueRepo('swarm-place'), 'v1');
    const edge = lab().nodes.filter((n) => n.index > 1).map((n) => n.name);
    await skiffOk(d, ['deploy', 'edgy', '--image', img.reference, '--port', '8080', '--min', '3', '--max', '3', '--placement', 'node.labels.zone==edge', '--spread', 'node.labels.zone']);
    await until('3 ready', async () => (await readyCount(client, 'edgy')) >= 3, 60_000);
    const placed = (await instances(client, 'edgy')).filter((i) => i.phase === 'ready');
    assert.ok(placed.every((i) => edge.includes(i.node!)), JSON.stringify(placed));
    assert.match(await skiffOk(d, ['describe', 'edgy']), /placement node\.labels\.zone==edge/);

    const t0 = Date.now();
    await skiffFails(d, ['deploy', 'nowhere', '--image', img.reference, '--port', '8080', '--min', '1', '--placement', 'node.labels.zone==mars'], /cannot be placed on the swarm: .*no suitable node/);
    t.diagnostic(`an unplaceable deploy failed in ${Date.now() - t0} ms`);
    assert.ok(Date.now() - t0 < 60_000, 'the deploy failed on the cause, not at a timeout');
  });

  test('hybrid: a cold start is answered by a runc instance here, a burst spreads onto the swarm', async (t) => {
    const d = await startTestDaemon(t, { settings: (s) => {
      swarmSettings(s);
      s.runtime.driver = 'hybrid';
    } });
    const client = new SkiffClient({ baseUrl: d.url, token: d.token });
    const img = await pushHttpdImage(d, uniqueRepo('hybrid'), 'v1');
    await client.deploy({ name: 'both', image: img.reference, port: 8080, scaling: { ...FAST, concurrency: 2, max: 5, idle: '60s' } });
    const first = await gatewayGet(d.gatewayUrl, 'both');
    assert.equal(first.status, 200, first.body);
    const cold = Number(first.headers['x-skiff-cold-start']);
    const [local] = (await instances(client, 'both')).filter((i) => i.phase === 'ready');
    assert.ok(local && local.node === undefined, `the first instance runs here, under runc: ${JSON.stringify(local)}`);
    const burst = await Promise.all(Array.from({ length: 16 }, () => gatewayGet(d.gatewayUrl, 'both', '/cgi-bin/slow?1')));
    assert.deepEqual(burst.filter((r) => r.status !== 200), []);
    const placed = (await instances(client, 'both')).filter((i) => i.phase === 'ready');
    assert.ok(placed.some((i) => i.node !== undefined), `the burst reached the swarm: ${JSON.stringify(placed)}`);
    const here = placed.filter((i) => i.node === undefined).length;
    assert.ok(here >= 1 && here <= 2, `the first responder and at most one started spare run here: ${here}`);
    t.diagnostic(`hybrid cold start ${cold} ms; ${placed.length} instances, ${placed.filter((i) => i.node).length} on the swarm`);
  });

  test('a Skiff restart re-adopts every instance on the swarm; `skiff down` leaves nothing behind', async (t) => {
    const d1 = await startTestDaemon(t, { settings: swarmSettings });
    const c1 = new SkiffClient({ baseUrl: d1.url, token: d1.token });
    const img = await pushHttpdImage(d1, uniqueRepo('swarm-adopt'), 'v1');
    await c1.deploy({ name: 'kept', image: img.reference, port: 8080, scaling: { ...FAST, min: 2, max: 4, idle: '60s' } });
    await until('2 ready', async () => (await readyCount(c1, 'kept')) >= 2, 60_000);
    const before = (await instances(c1, 'kept')).filter((i) => i.phase === 'ready').map((i) => i.id).sort();

    // logs and metering, as on one machine: an instance's stderr through `skiff logs`, its CPU time and
    // memory read from its node's engine
    for (let i = 0; i < 4; i++) assert.equal((await gatewayGet(d1.gatewayUrl, 'kept', '/cgi-bin/say?from-the-swarm')).status, 200);
    await until('the line in skiff logs', async () => (await skiffOk(d1, ['logs', 'kept'])).includes('said from-the-swarm'), 15_000);
    await new Promise((r) => setTimeout(r, 1200));
    const usage = (await c1.usage({ service: 'kept', by: 'service' })).lines.find((l) => l.service === 'kept');
    assert.ok(usage && usage.requests >= 4 && Number(usage.vcpuSecondsUsed) > 0 && Number(usage.gibSecondsUsed) > 0, JSON.stringify(usage));
    const servicesBefore = (await swarmServices(d1)).sort();
    await d1.daemon.stop();

    const d2 = await startTestDaemon(t, { dataDir: d1.dataDir, settings: swarmSettings });
    const c2 = new SkiffClient({ baseUrl: d2.url, token: d2.token });
    await until('re-adopted', async () => (await readyCount(c2, 'kept')) >= 2, 30_000);
    const after = (await instances(c2, 'kept')).filter((i) => i.phase === 'ready').map((i) => i.id).sort();
    assert.deepEqual(after, before, 'the same instances, not new ones');
    const r = await gatewayGet(d2.gatewayUrl, 'kept');
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-skiff-cold-start'], undefined, 'served by an adopted instance, no cold start');
    assert.deepEqual((await swarmServices(d2)).sort(), servicesBefore, 'no swarm service made or lost');

    await c2.down();
    await until('the daemon stopped', async () => !(await c2.alive()), 60_000);
    await until('no swarm service of this Skiff left', async () => (await swarmServices(d2)).length === 0, 30_000);
  });
});
