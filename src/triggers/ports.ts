// triggers/ports: what the event side of Skiff needs, declared here; daemon/ plugs in the store's
// EventsRepository, the gateway (every event reaches its service as an HTTP request through it, held
// while an instance starts, like user traffic), the scheduler's pre-warm and the serving records.
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
