// test/triggers/harness: the triggers service, its cron scheduler and the invocation worker wired as
// the daemon wires them, on a fake clock and a real SQLite store, with an in-process service end.
// Shared by the trigger tests (service targets and job targets).
import type { TestContext } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/repositories.ts';
import { TriggersService } from '../../src/triggers/service.ts';
import { InvocationWorker } from '../../src/triggers/invocation-worker.ts';
import type { InvokeRequest, InvokeResult, Invoker, JobsPort } from '../../src/triggers/ports.ts';

/** The service's side: every request it gets, answered by `answer` (which may wait). */
export class FakeService implements Invoker {
  readonly requests: InvokeRequest[] = [];
  answer: (req: InvokeRequest) => Promise<number> | number = () => 200;
  async invoke(req: InvokeRequest): Promise<InvokeResult> {
    this.requests.push(req);
    const status = await Promise.race([
      Promise.resolve(this.answer(req)),
      new Promise<never>((_, reject) => req.signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true })),
    ]);
    return { status, headers: {}, body: Buffer.from(`status ${status}`), truncated: false };
  }
}

/** Services `report` and `other` exist (tenant default); `jobs` plugs in the job side. */
export async function setupTriggers(t: TestContext, startAt: string, o: { store?: Store; dir?: string; jobs?: JobsPort } = {}) {
  const dir = o.dir ?? mkdtempSync(path.join(os.tmpdir(), 'skiff-triggers-'));
  const store = o.store ?? (await openStore({ dataDir: dir }));
  const clock = new FakeClock(Date.parse(startAt));
  const app = new FakeService();
  const prewarms: Array<{ service: string; at: number }> = [];
  const triggers = new TriggersService({
    records: store.events,
    services: { tenantOf: async (s) => (s === 'report' || s === 'other' ? 'default' : undefined), prewarm: (service) => void prewarms.push({ service, at: clock.now() }), coldStartMs: () => 2000, capacity: async () => 10 },
    invoker: app,
    ...(o.jobs ? { jobs: o.jobs } : {}),
    clock,
    log: silentLogger,
  });
  const worker = new InvocationWorker({ records: store.events, invoker: app, callbacks: { post: async () => {} }, clock, log: silentLogger, random: () => 0.5, onSettled: (inv, s) => triggers.settled(inv, s) });
  triggers.attach(worker);
  await worker.start();
  await triggers.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    worker.stop();
    await triggers.stop();
  };
  t.after(async () => {
    await stop();
    if (!o.store) {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  return { dir, store, clock, app, prewarms, triggers, worker, stop };
}
