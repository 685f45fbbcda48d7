// Scheduler + gateway + SQLite store wired as the daemon wires them, over real HTTP on loopback, with
// the fake driver's HTTP servers as instances and a 100 ms tick. Shared by the scheduler tests.
import type { TestContext } from 'node:test';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/open.ts';
import { Gateway } from '../../src/gateway/gateway.ts';
import { Scheduler, type SchedulerDeps } from '../../src/scheduler/scheduler.ts';
import { netProbes, promScrape } from '../../src/scheduler/probes.ts';
import { desiredStateFromStore, kpaScalers, routingFromGateway } from '../../src/daemon/serving-adapters.ts';
import { normaliseDeployDocument } from '../../src/serving/spec.ts';
import { trafficAfterDeploy, type DeployRouting } from '../../src/serving/traffic.ts';
import type { DeployDocument } from '../../src/core/documents.ts';
import { systemClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { FakeDriver } from '../helpers/fake-driver.ts';

/** Scheduler options a test may set (cold-start bounds, keep-alive policies, readiness deadline, tick). */
export type SetupOptions = Partial<Pick<SchedulerDeps, 'coldStart' | 'keepAlive' | 'readinessDeadlineMs' | 'tickMs' | 'backlog' | 'quotas'>>;

export async function setup(t: TestContext, instances = new FakeDriver(), opts: SetupOptions = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-sched-'));
  const db = await openStore({ dataDir: dir });
  const store = db.serving;
  let scheduler: Scheduler | undefined;
  const gateway = new Gateway({ requestCapacity: (rev) => scheduler?.requestCapacity(rev) }, silentLogger);
  const { port } = await gateway.listen('127.0.0.1', 0);
  const makeScheduler = () =>
    new Scheduler({ instances, probes: netProbes, scrape: promScrape, routing: routingFromGateway(gateway, 'test'), desired: desiredStateFromStore(store, systemClock), scalers: kpaScalers, clock: systemClock, log: silentLogger, tickMs: 100, ...opts });
  scheduler = makeScheduler();
  await scheduler.start();
  t.after(async () => {
    await scheduler!.stop();
    instances.ignoreStopSignal = false;
    for (const id of [...instances.live.keys()]) await instances.delete(id);
    await gateway.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  /** a deploy as serving/ makes it: `routing` as --no-traffic/--tag, `verify` as a deploy that waits */
  const deploy = async (doc: Partial<DeployDocument> & { name: string }, opts: { routing?: DeployRouting; verify?: boolean } = {}) => {
    const { spec, scale } = normaliseDeployDocument({ image: 'x', ...doc });
    const r = await store.deploy('default', spec, scale, { repository: 'x', digest: 'sha256:' + '0'.repeat(64) }, Date.now(), undefined, (old, rev) => trafficAfterDeploy(spec.name, old, rev, opts.routing));
    if (opts.verify) scheduler!.verify(spec.name, r.revision.name);
    await scheduler!.refresh();
    return r;
  };
  /** a traffic change as the API makes it: stored, then the scheduler told */
  const setTraffic = async (service: string, traffic: Array<{ revision: string; percent: number; tag?: string }>) => {
    await store.setTraffic(service, traffic, Date.now());
    await scheduler!.refresh();
  };
  const restartScheduler = async () => {
    await scheduler!.stop();
    scheduler = makeScheduler();
    await scheduler.start();
  };
  /** kinds (and messages) of the service's events, the write-behind queue applied first */
  const events = async (service: string) => {
    await scheduler!.flush();
    return s.store.events(service, 200);
  };
  const s = { store, gateway, instances, url: `http://127.0.0.1:${port}`, deploy, setTraffic, restartScheduler, events, scheduler: () => scheduler! };
  return s;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
export function get(url: string, host: string, path = '/'): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http.get(url + path, { headers: { host }, agent }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    }).on('error', reject);
  });
}

export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const FAST = { window: '2s', idle: '1s', scaleToZeroGrace: '0.5s' };
