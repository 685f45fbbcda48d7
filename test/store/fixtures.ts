// test/store/fixtures: what the store contract needs in every part: the target under test (how to get
// a fresh database of one dialect), a store opened on it and closed after the test, digests, specs.
import { createHash } from 'node:crypto';
import type { TestContext } from 'node:test';
import type { ServiceSpec } from '../../src/core/service.ts';
import { openStore, type StoreOptions } from '../../src/store/open.ts';
import type { Store } from '../../src/store/repositories.ts';

export interface StoreTarget {
  kind: Store['kind'];
  /** options naming a new, empty database; whatever it made is removed after the test */
  fresh(t: TestContext): Promise<StoreOptions>;
  /** how many stores on one database this process may drive at once. SQLite: one (better-sqlite3
   *  waits for another connection's lock synchronously, blocking the event loop the holder needs). */
  clients: number;
}

export type Open = (t: TestContext, o: StoreOptions) => Promise<Store>;

/** opens a store that is closed after the test */
export const open: Open = async (t, o) => {
  const store = await openStore(o);
  t.after(() => store.close());
  return store;
};

export function digest(seed: string): string {
  return 'sha256:' + createHash('sha256').update(seed).digest('hex');
}

export function sha256hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** a complete spec in today's shape (no scale bounds, scaling.concurrency) */
export function serviceSpec(name: string, over: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name,
    image: `team/${name}:v1`,
    port: 8080,
    command: ['/bin/app'],
    env: { GREETING: 'hello', EMPTY: '' },
    memoryBytes: 134217728,
    cpus: 0.5,
    pids: 128,
    readOnlyRoot: true,
    timeoutMs: 30000,
    queueLimit: 100,
    scaling: {
      concurrency: 10,
      target: 7,
      targetUtilization: 0.7,
      metric: 'concurrency',
      stableWindowMs: 60000,
      panicWindowMs: 6000,
      panicThreshold: 2,
      idleWindowMs: 30000,
      scaleToZeroGraceMs: 30000,
      freezeIdle: false,
      keepAlive: 'adaptive',
    },
    readiness: { path: '/healthz', periodMs: 1000, timeoutMs: 500, failureThreshold: 3 },
    drainGraceMs: 5000,
    ...over,
  };
}

export function image(repository: string, seed = repository): { repository: string; digest: string } {
  return { repository, digest: digest(seed) };
}
