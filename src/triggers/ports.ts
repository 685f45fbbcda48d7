// triggers/ports: what the event side of Skiff needs, declared here; daemon/ plugs in the store's
// EventsRepository, the gateway (every event reaches its service as an HTTP request through it, held
// while an instance starts, like user traffic), the scheduler's pre-warm, the serving records and the
// job service (a cron trigger may start a job instead of sending a request).
import type { EventsRepository } from '../core/repositories.ts';

export type EventsRecords = EventsRepository;

export interface InvokeRequest {
  service: string;
  method: string;
  path: string;
  /** lower-case names; hop-by-hop ones are the invoker's business */
  headers: Record<string, string>;
  body: Buffer;
  signal?: AbortSignal;
}

export interface InvokeResult {
  status: number;
  headers: Record<string, string>;
  /** at most `limit` bytes of it */
  body: Buffer;
  truncated: boolean;
}

/** Sends one request to a service through the gateway. Rejects when no answer came (connection
 *  refused or reset, aborted); an answer of any status resolves. */
export interface Invoker {
  invoke(req: InvokeRequest): Promise<InvokeResult>;
}

/** The services triggers point at. */
export interface ServicesPort {
  /** the service's tenant, or undefined when there is no such service */
  tenantOf(service: string): Promise<string | undefined>;
  /** starts an instance of the service now and keeps it until `untilMs` (clock ms): a cron fire ahead */
  prewarm(service: string, untilMs: number): void;
  /** how long the service's cold starts take (a high quantile), when it has had some */
  coldStartMs(service: string): number | undefined;
  /** requests the service can take at once: its concurrency × max scale (unlimited concurrency counts 100) */
  capacity(service: string): Promise<number>;
}

/** Where a finished invocation's view is POSTed (X-Skiff-Callback). */
export interface CallbackPort {
  post(url: string, body: unknown): Promise<void>;
}

/** How an execution a trigger started ended: `running` when this daemon stopped running it (it is
 *  resumed by the next one, and watched again then); `gone` when there is no such execution any more
 *  (its job was removed, or it was pruned). */
export interface JobOutcome {
  status: 'running' | 'succeeded' | 'failed' | 'cancelled' | 'gone';
  message?: string;
}

/** The jobs cron triggers start (serving/jobs.ts JobService, adapted in daemon/events-wiring.ts). */
export interface JobsPort {
  /** the job's tenant, or undefined when there is no such job */
  tenantOf(job: string): Promise<string | undefined>;
  /** starts an execution of the job now (as `skiff job run`); rejects when it cannot (no such job, the
   *  job is being removed, the daemon is stopping) */
  run(job: string): Promise<{ execution: string }>;
  /** the job's executions running now */
  running(job: string): Promise<string[]>;
  /** resolves once the execution has ended (or this daemon stopped running it) */
  ended(job: string, execution: string): Promise<JobOutcome>;
  /** cancels a running execution (its tasks are killed; it ends `cancelled` with `reason` as its
   *  message); resolves once it has ended */
  cancel(job: string, execution: string, reason: string): Promise<void>;
}
