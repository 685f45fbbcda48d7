// test/scheduler/fake-clock: what the FakeClock scheduler tests (decisions, idle-freeze) share: desired
// state kept in memory, and a scheduler started over the fake driver and stopped after the test, with
// the clock moved in tick-sized steps.
import type { TestContext } from 'node:test';
import type { FakeClock } from '../../src/core/clock.ts';
import type { DeployDocument } from '../../src/core/documents.ts';
import type { RevisionRecord, ScaleBounds, ServiceRecord } from '../../src/core/service.ts';
import type { Scheduler } from '../../src/scheduler/scheduler.ts';
import type { DesiredStatePort } from '../../src/scheduler/ports.ts';
import { normaliseDeployDocument } from '../../src/serving/spec.ts';
import { revisionName } from '../../src/core/names.ts';
import type { FakeDriver } from '../helpers/fake-driver.ts';

export const TICK = 1000;

export /** Desired state in memory: one service with the revisions deployed so far. */
function desiredState() {
  const services = new Map<string, ServiceRecord>();
  const revisions = new Map<string, RevisionRecord>();
  const events: Array<{ kind: string; message: string }> = [];
  const port: DesiredStatePort = {
    services: async () => [...services.values()],
    revision: async (name) => revisions.get(name),
    recordInstance: async () => {},
    forgetInstance: async () => {},
    knownInstances: async () => [],
    event: async (_s, _r, kind, message) => void events.push({ kind, message }),
    keepAlives: async () => [],
    saveKeepAlive: async () => {},
  };
  const deploy = (doc: Omit<DeployDocument, 'image'>): RevisionRecord => {
    const { spec, scale } = normaliseDeployDocument({ image: 'app', ...doc });
    const generation = [...revisions.values()].filter((r) => r.service === doc.name).length + 1;
    const rev: RevisionRecord = { name: revisionName(doc.name, generation), service: doc.name, generation, image: { repository: 'app', digest: 'sha256:' + 'a'.repeat(64) }, spec, createdAt: 0 };
    revisions.set(rev.name, rev);
    const before = services.get(doc.name);
    const previousServing = before?.traffic.find((t) => t.percent > 0)?.revision ?? null;
    services.set(doc.name, { name: doc.name, tenant: 'default', spec, scale, traffic: [{ revision: rev.name, percent: 100 }], latestRevision: rev.name, previousServing, createdAt: 0, updatedAt: 0 });
    return rev;
  };
  const setScale = (service: string, scale: ScaleBounds) => void services.set(service, { ...services.get(service)!, scale });
  const remove = (service: string) => void services.delete(service);
  return { port, deploy, setScale, remove, events };
}

/**
 * Starts `scheduler`, stops it after the test and deletes what is left on `driver`; returns `advance`,
 * which moves the clock in tick-sized steps, letting real I/O (the fake's HTTP servers) run between.
 */
export async function startOnFakeClock(t: TestContext, scheduler: Scheduler, driver: FakeDriver, clock: FakeClock): Promise<(ms: number) => Promise<void>> {
  await scheduler.start();
  t.after(async () => {
    await scheduler.stop();
    for (const id of [...driver.live.keys()]) await driver.delete(id);
  });
  return async (ms: number) => {
    for (let left = ms; left > 0; left -= TICK) {
      await clock.advance(Math.min(TICK, left));
      await new Promise((r) => setTimeout(r, 2));
    }
  };
}
