// test/runtime/driver-fixture: what the instance-driver contract (driver-contract.ts) needs from a
// driver's test file — the fixture type, and how it expresses test processes (Step) — plus the
// contract's helpers: specs with unique ids whose deletion is registered, HTTP gets, log polling.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { TestContext } from 'node:test';
import type { InstanceAddress, InstanceSpec, LogLine } from '../../src/core/instance.ts';
import type { PinnedImage } from '../../src/core/service.ts';
import type { InstanceDriver } from '../../src/core/instance.ts';
import { collect } from '../helpers/collect.ts';
import { retrying } from '../helpers/tools.ts';

/** One step of a test process: print a line, sleep, exit with a code, or run until stopped — either
 *  ending with exit 0 on the stop signal ('stopped'), or ignoring it until SIGKILL ('killed'). */
export type Step = { out: string } | { err: string } | { sleepMs: number } | { exit: number } | { until: 'stopped' | 'killed' }
  /** write `text` to the file at `write`, then print `wrote`, or `write failed` when it cannot */
  | { write: string; text: string }
  /** print the file's one line of text, or `missing` */
  | { cat: string };

export interface DriverFixture {
  driver: InstanceDriver;
  /** a second driver on the same state, as a restarted daemon builds it */
  reopen(): Promise<InstanceDriver>;
  /** an image whose default process serves HTTP on $PORT; GET `envPath` answers its environment as KEY=VALUE lines */
  server: PinnedImage;
  envPath: string;
  /** an image nothing has prepared yet */
  freshImage(): Promise<PinnedImage>;
  /** an image (a digest) the driver's registry does not have */
  missingImage: PinnedImage;
  /** the image and command of a process that runs `steps` in order (exit 0 after the last) */
  program(steps: Step[]): Pick<InstanceSpec, 'image' | 'command' | 'args'>;
  /** a command the image does not have */
  missingCommand: Pick<InstanceSpec, 'image' | 'command'>;
  /** a new, empty volume the driver can mount (InstanceSpec.mounts), removed after the test */
  volume(t: TestContext): Promise<string>;
  /** unique prefix for instance ids of this run */
  idPrefix: string;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
let seq = 0;

export function newId(f: DriverFixture): string {
  return `${f.idPrefix}-${++seq}`;
}

export function specOf(f: DriverFixture, over: Partial<InstanceSpec> = {}): InstanceSpec {
  return {
    image: f.server,
    service: 'svc-a',
    revision: 'svc-a-00001',
    port: 8080,
    env: {},
    readOnlyRoot: false,
    limits: { memoryBytes: 64 * 1024 * 1024, cpus: 0.5, pids: 64 },
    ...over,
  };
}

/** Creates an instance whose deletion is registered with the test. */
export async function create(t: TestContext, f: DriverFixture, over: Partial<InstanceSpec> = {}): Promise<string> {
  const id = newId(f);
  t.after(() => f.driver.delete(id));
  await f.driver.create(id, specOf(f, over));
  return id;
}

export async function launch(t: TestContext, f: DriverFixture, over: Partial<InstanceSpec> = {}): Promise<{ id: string; address: InstanceAddress }> {
  const id = await create(t, f, over);
  return { id, address: await f.driver.start(id) };
}

export function get(a: InstanceAddress, path: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: a.host, port: a.port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout'))).on('error', reject);
  });
}

/** GET that retries connection errors while the server starts listening (bounded: 200 × 25 ms). */
export function getWhenUp(a: InstanceAddress, path: string) {
  return retrying(() => get(a, path), { tries: 201, pauseMs: 25 });
}

export function envOf(body: string): Map<string, string> {
  return new Map(body.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** Logs once `n` lines are there (a process's last lines may reach the log a moment after its exit). */
export async function logsOf(f: DriverFixture, id: string, n: number): Promise<LogLine[]> {
  for (let i = 0; i < 200; i++) {
    const lines = await collect(f.driver.logs(id));
    if (lines.length >= n) return lines;
    await sleep(25);
  }
  return collect(f.driver.logs(id));
}

export async function untilLogged(f: DriverFixture, id: string, line: string): Promise<void> {
  for (let i = 0; i < 400 && !(await collect(f.driver.logs(id))).some((l) => l.line === line); i++) await sleep(25);
  assert.ok((await collect(f.driver.logs(id))).some((l) => l.line === line), `${id} never printed ${line}`);
}

export const settled = (p: Promise<unknown>) => Promise.race([p.then(() => true, () => true), sleep(0).then(() => false)]);
