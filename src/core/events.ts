// core/events: what wakes a service besides an HTTP request — triggers (a schedule or a broker
// subscription feeding a service), the invocations they and async HTTP calls make (a durable queue in
// the store), and the dead letters of deliveries that kept failing. Records as the store keeps them.

/** How one event reaches its service: an HTTP request through the gateway, like user traffic. */
export interface ServiceTarget {
  service: string;
  /** request path, `/` by default */
  path: string;
  /** POST by default */
  method: string;
  job?: never;
}

/** A cron trigger's fire starts an execution of a job (as `skiff job run`); no request is sent. */
export interface JobTarget {
  job: string;
  service?: never;
  path?: never;
  method?: never;
}

/** What a trigger feeds: a service, or (cron triggers only) a job. The store keeps it as JSON:
 *  `{service, path, method}` (every trigger before jobs could be targets) or `{job}`. */
export type TriggerTarget = ServiceTarget | JobTarget;

/** At-least-once delivery: a non-2xx answer, a timeout or a failed connection is retried with
 *  exponential back-off and jitter, at most maxAttempts attempts, then dead-lettered. */
export interface DeliveryPolicy {
  /** broker triggers: events of one key are delivered one after the other, in the broker's order
   *  (`subject`, `header:NAME`, or `json:$.a.b` of the body); other keys in parallel */
  orderedBy?: string;
  maxAttempts: number;
  /** where an event goes after its last attempt: Skiff's dead-letter store (default: `skiff dlq` lists
   *  and replays it), or the broker's own (`broker`: RabbitMQ rejects it to the queue's dead-letter
   *  exchange; JetStream terminates it, which publishes a MSG_TERMINATED advisory) */
  deadLetter?: 'skiff' | 'broker';
  /** the first retry's delay; each next one doubles, up to maxBackoffMs */
  backoffMs: number;
  maxBackoffMs: number;
}

export type ConcurrencyPolicy = 'allow' | 'forbid' | 'replace';
export type MissedPolicy = 'skip' | 'run-once';

export interface CronSource {
  kind: 'cron';
  /** 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first */
  schedule: string;
  /** an IANA time zone; the schedule is in its wall-clock time, DST included */
  timezone: string;
  /** a fire still running when the next is due: run both, skip the new one, or cancel the old one */
  concurrencyPolicy: ConcurrencyPolicy;
  /** fires missed while the daemon was down: none, or the latest one once at start */
  missed: MissedPolicy;
  /** the request body of each fire (the CloudEvent's data), and its content type */
  body?: string;
  contentType?: string;
}

/** NATS: core subjects (at most once in NATS itself: a message is lost if no Skiff is subscribed), or
 *  with `stream` + `consumer` a JetStream durable pull consumer (acknowledged: at least once). */
export interface NatsSource {
  kind: 'nats';
  url: string;
  subject?: string;
  queueGroup?: string;
  stream?: string;
  consumer?: string;
}

/** RabbitMQ (AMQP 0-9-1): a queue consumed with manual acks and at most `prefetch` unacked. */
export interface AmqpSource {
  kind: 'amqp';
  url: string;
  queue: string;
  prefetch?: number;
}

/** Redis Streams: a consumer group (XREADGROUP, XACK; a dead consumer's pending entries are claimed). */
export interface RedisSource {
  kind: 'redis';
  url: string;
  stream: string;
  group: string;
}

/** MQTT 3.1.1/5: a topic filter, a persistent session (clean: false) and QoS 1 by default. */
export interface MqttSource {
  kind: 'mqtt';
  url: string;
  topic: string;
  qos?: 0 | 1 | 2;
}

export type BrokerSource = NatsSource | AmqpSource | RedisSource | MqttSource;

export type TriggerSource = CronSource | BrokerSource;

export interface TriggerRecord {
  name: string;
  tenant: string;
  source: TriggerSource;
  target: TriggerTarget;
  delivery: DeliveryPolicy;
  paused: boolean;
  createdAt: number;
  updatedAt: number;
}

/** What a trigger has done since it was added (kept in the store, flushed every few seconds). */
export interface TriggerStats {
  /** events handed to the service (each counted once, however many attempts) */
  deliveries: number;
  successes: number;
  /** attempts that failed (each retry of an event counts) */
  failures: number;
  retries: number;
  deadLettered: number;
  /** the last few errors, newest last */
  lastErrors: Array<{ at: number; message: string }>;
  /** the last scheduled fire enqueued (cron), clock ms */
  lastFireAt?: number;
  /** job triggers: the executions this trigger started that have not been seen to end yet */
  executions?: string[];
  /** job triggers: the last execution it started */
  lastExecution?: string;
}

export type InvocationStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** The request an invocation makes: the original async HTTP request, or a trigger's CloudEvent. */
export interface InvocationRequest {
  method: string;
  path: string;
  /** lower-case names */
  headers: Record<string, string>;
  /** base64 */
  body: string;
}

export interface InvocationResponse {
  status: number;
  headers: Record<string, string>;
  /** base64, at most INVOCATION_BODY_LIMIT bytes */
  body: string;
  truncated: boolean;
}

export interface InvocationRecord {
  id: string;
  service: string;
  tenant: string;
  /** the trigger that made it (a cron fire, a replayed dead letter); null for an async HTTP call */
  trigger: string | null;
  idempotencyKey: string | null;
  request: InvocationRequest;
  /** POSTed the invocation's view when it ends */
  callback: string | null;
  status: InvocationStatus;
  attempts: number;
  delivery: DeliveryPolicy;
  /** clock ms; a queued invocation is not attempted before */
  nextAttemptAt: number;
  response: InvocationResponse | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface DeadLetterRecord {
  id: string;
  trigger: string;
  /** the request as it was last attempted */
  request: InvocationRequest;
  attempts: number;
  error: string;
  createdAt: number;
}

/** Request and response bodies an invocation keeps (a bigger request is refused with 413). */
export const INVOCATION_BODY_LIMIT = 1024 * 1024;

/** A trigger as the user states it (POST /api/v1/triggers, `skiff trigger add`); triggers/spec.ts fills in the defaults. */
export interface TriggerDocument {
  name: string;
  /** the target: exactly one of service and job (a job only with cron) */
  service?: string;
  /** cron only: each fire starts an execution of this job (as `skiff job run`) */
  job?: string;
  /** the source: exactly one of cron, nats, amqp, redis, mqtt */
  cron?: string;
  timezone?: string;
  concurrencyPolicy?: ConcurrencyPolicy;
  missed?: MissedPolicy;
  /** cron: the request body of each event (text), and its content type */
  body?: string;
  contentType?: string;
  /** NATS server URL; with `subject` (and `queueGroup`), or `stream` + `consumer` (JetStream) */
  nats?: string;
  subject?: string;
  queueGroup?: string;
  /** JetStream stream (with nats) or Redis stream (with redis) */
  stream?: string;
  consumer?: string;
  /** RabbitMQ URL, with `queue` and `prefetch` */
  amqp?: string;
  queue?: string;
  prefetch?: number;
  /** Redis URL, with `stream` and `group` */
  redis?: string;
  group?: string;
  /** MQTT broker URL, with `topic` and `qos` */
  mqtt?: string;
  topic?: string;
  qos?: 0 | 1 | 2;
  path?: string;
  method?: string;
  maxAttempts?: number;
  /** the first retry's delay, e.g. `1s`; doubles each time */
  backoff?: string;
  maxBackoff?: string;
  /** per-key serial delivery: subject | header:NAME | json:$.field */
  orderedBy?: string;
  /** RabbitMQ and JetStream: `broker` leaves a failed event to the broker's own dead-lettering */
  deadLetter?: 'skiff' | 'broker';
}

/** What describe and the API show of a trigger. */
export interface TriggerView {
  name: string;
  /** the project it belongs to */
  project: string;
  /** the target: a service, or a job */
  service?: string;
  job?: string;
  kind: TriggerRecord['source']['kind'];
  source: TriggerRecord['source'];
  target: TriggerRecord['target'];
  delivery: DeliveryPolicy;
  paused: boolean;
  /** cron: the next fire (ISO), when active */
  nextFireAt?: string;
  /** a broker trigger's connection: running, or reconnecting and why (since: ISO) */
  /** disconnects: connections to the broker lost since this daemon started the consumer */
  state?: { status: 'connecting' | 'running' | 'reconnecting' | 'stopped'; error?: string; since: string; disconnects?: number };
  /** backlog: events queued in Skiff or being delivered; brokerBacklog: messages waiting in the broker
   *  (JetStream pending + unacked, Redis group lag + pending, RabbitMQ ready messages), where it tells */
  /** job triggers: backlog is the executions it started still running (`executions`) */
  stats: Omit<TriggerStats, 'lastErrors' | 'lastFireAt'> & { lastErrors: Array<{ at: string; message: string }>; lastFireAt?: string; deadLetters: number; backlog: number; brokerBacklog?: number };
  createdAt: string;
  updatedAt: string;
}

/** POST /api/v1/services/NAME/invocations. */
export interface InvokeBody {
  async?: boolean;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  bodyBase64?: string;
  idempotencyKey?: string;
  callback?: string;
}

/** What POST /api/v1/services/NAME/invocations answers: the service's response, or (async) where to
 *  read the queued invocation back. */
export type InvokeAnswer = { id: string; status: string; location: string; duplicate?: boolean } | { status: number; headers: Record<string, string>; body: string; bodyBase64: string; truncated: boolean };

/** What GET /api/v1/invocations/ID (and the gateway at an invocation's Location, and a callback) show. */
export interface InvocationView {
  id: string;
  service: string;
  trigger?: string;
  status: InvocationStatus;
  attempts: number;
  maxAttempts: number;
  nextAttemptAt?: string;
  lastError?: string;
  response?: { status: number; headers: Record<string, string>; body: string; bodyBase64: string; truncated: boolean };
  createdAt: string;
  updatedAt: string;
}

export interface DeadLetterView {
  id: string;
  attempts: number;
  error: string;
  createdAt: string;
  request: { method: string; path: string; headers: Record<string, string>; body: string; bodyBase64: string };
}
