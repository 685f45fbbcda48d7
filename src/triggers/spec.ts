// triggers/spec: a trigger as the user states it (POST /api/v1/triggers, `skiff trigger add`) and the
// record it becomes, with every default filled in. The API's JSON schema checks shapes; this checks
// meaning (durations, names) and names the field at fault.
import { SkiffError } from '../core/errors.ts';
import type { DeliveryPolicy, TriggerDocument, TriggerRecord, TriggerSource, TriggerTarget } from '../core/events.ts';

export type { TriggerDocument };
import { SERVICE_NAME_RE } from '../core/names.ts';
import { parseDuration } from '../core/quantity.ts';

export const TRIGGER_DEFAULTS = { timezone: 'UTC', path: '/', method: 'POST', concurrencyPolicy: 'allow', missed: 'skip', maxAttempts: 5, backoffMs: 1000, maxBackoffMs: 60_000 } as const;

export function normaliseTrigger(doc: TriggerDocument, tenant: string, now: number): TriggerRecord {
  if (!SERVICE_NAME_RE.test(doc.name)) throw new SkiffError('BAD_REQUEST', `name: must be a DNS label (lowercase letters, digits, '-'), got ${JSON.stringify(doc.name)}`);
  const target = targetOf(doc); // first: `job` with a broker is said as such, whatever else is wrong
  const source = sourceOf(doc);
  const delivery: DeliveryPolicy = {
    maxAttempts: doc.maxAttempts ?? TRIGGER_DEFAULTS.maxAttempts,
    backoffMs: doc.backoff !== undefined ? parseDuration(doc.backoff, 'backoff') : TRIGGER_DEFAULTS.backoffMs,
    maxBackoffMs: doc.maxBackoff !== undefined ? parseDuration(doc.maxBackoff, 'maxBackoff') : TRIGGER_DEFAULTS.maxBackoffMs,
  };
  if (doc.orderedBy !== undefined) {
    if (!ORDERED_BY_RE.test(doc.orderedBy)) throw new SkiffError('BAD_REQUEST', `orderedBy: expected subject, header:NAME or json:$.field, got ${JSON.stringify(doc.orderedBy)}`);
    if (source.kind === 'cron' || source.kind === 'mqtt' || (source.kind === 'nats' && source.stream === undefined)) {
      throw new SkiffError('BAD_REQUEST', `orderedBy: only for JetStream, RabbitMQ and Redis Streams triggers (a ${source.kind === 'nats' ? 'NATS core' : source.kind} trigger's events go through Skiff's queue, which delivers them in parallel)`);
    }
    delivery.orderedBy = doc.orderedBy;
  }
  if (doc.deadLetter === 'broker') {
    if (source.kind !== 'amqp' && !(source.kind === 'nats' && source.stream !== undefined)) {
      throw new SkiffError('BAD_REQUEST', `deadLetter: broker is for RabbitMQ (the queue's dead-letter exchange) and JetStream (a terminated message's advisory); ${source.kind === 'nats' ? 'NATS core' : source.kind === 'redis' ? 'Redis Streams' : source.kind} has no dead-letter store of its own, so Skiff keeps them (deadLetter: skiff)`);
    }
    delivery.deadLetter = 'broker';
  }
  if (delivery.backoffMs > delivery.maxBackoffMs) throw new SkiffError('BAD_REQUEST', `backoff: ${doc.backoff} is more than maxBackoff (${delivery.maxBackoffMs / 1000}s)`);
  return {
    name: doc.name,
    tenant,
    source,
    target,
    delivery,
    paused: false,
    createdAt: now,
    updatedAt: now,
  };
}

/** the fields that shape the request sent to a service, or its delivery: none of a job trigger's
 *  business (a fire starts an execution, sends nothing, and the job's tasks have their own retries) */
const REQUEST_FIELDS = ['path', 'method', 'body', 'contentType', 'maxAttempts', 'backoff', 'maxBackoff', 'deadLetter'] as const;

/** Exactly one of service and job; a job only for a cron trigger, and with no request field. */
function targetOf(doc: TriggerDocument): TriggerTarget {
  if ((doc.service === undefined) === (doc.job === undefined)) {
    throw new SkiffError('BAD_REQUEST', `service, job: a trigger targets exactly one of a service (--service NAME) or a job (--job NAME, cron only), ${doc.service === undefined ? 'got neither' : 'not both'}`);
  }
  if (doc.job !== undefined) {
    if (!SERVICE_NAME_RE.test(doc.job)) throw new SkiffError('BAD_REQUEST', `job: must be a DNS label (lowercase letters, digits, '-'), got ${JSON.stringify(doc.job)}`);
    const broker = SOURCES.find((k) => k !== 'cron' && doc[k] !== undefined);
    if (broker) throw new SkiffError('BAD_REQUEST', `job: only a cron trigger can start a job (--job with --cron), not a ${broker} trigger: a ${broker} trigger feeds a service (--service)`);
    const foreign = REQUEST_FIELDS.filter((f) => doc[f] !== undefined);
    if (foreign.length) throw new SkiffError('BAD_REQUEST', `${foreign.join(', ')}: not a setting of a job trigger (a fire starts an execution of the job and sends no request; its tasks have the job's own --retries)`);
    return { job: doc.job };
  }
  const path = doc.path ?? TRIGGER_DEFAULTS.path;
  if (!path.startsWith('/')) throw new SkiffError('BAD_REQUEST', `path: must start with '/', got ${JSON.stringify(path)}`);
  return { service: doc.service!, path, method: (doc.method ?? TRIGGER_DEFAULTS.method).toUpperCase() };
}

/** subject | header:NAME | json:$.a.b */
const ORDERED_BY_RE = /^(subject|header:[A-Za-z0-9_-]{1,128}|json:\$(\.[A-Za-z0-9_]{1,128}){1,16})$/;

const SOURCES = ['cron', 'nats', 'amqp', 'redis', 'mqtt'] as const;
/** the fields each source may have (besides its own URL field) */
const FIELDS: Record<(typeof SOURCES)[number], readonly string[]> = {
  cron: ['timezone', 'concurrencyPolicy', 'missed', 'body', 'contentType'],
  nats: ['subject', 'queueGroup', 'stream', 'consumer'],
  amqp: ['queue', 'prefetch'],
  redis: ['stream', 'group'],
  mqtt: ['topic', 'qos'],
};

function sourceOf(doc: TriggerDocument): TriggerSource {
  const given = SOURCES.filter((k) => doc[k] !== undefined);
  if (given.length !== 1) throw new SkiffError('BAD_REQUEST', `${given.length ? given.join(', ') : 'source'}: a trigger has exactly one source: --cron, --nats, --amqp, --redis or --mqtt`);
  const kind = given[0]!;
  const foreign = Object.entries(FIELDS).flatMap(([k, fields]) => (k === kind ? [] : fields.filter((f) => doc[f as keyof TriggerDocument] !== undefined && !FIELDS[kind].includes(f))));
  if (foreign.length) throw new SkiffError('BAD_REQUEST', `${foreign.join(', ')}: not a setting of a ${kind} trigger`);
  const url = (scheme: RegExp, field: string) => {
    const value = doc[kind as 'nats']!;
    let u: URL;
    try {
      u = new URL(value);
    } catch {
      throw new SkiffError('BAD_REQUEST', `${field}: not a URL (e.g. ${EXAMPLES[kind]})`);
    }
    if (!scheme.test(u.protocol)) throw new SkiffError('BAD_REQUEST', `${field}: expected a ${EXAMPLES[kind].split(':')[0]}:// URL (e.g. ${EXAMPLES[kind]})`);
    return value;
  };
  switch (kind) {
    case 'cron':
      return {
        kind: 'cron',
        schedule: doc.cron!.trim(),
        timezone: doc.timezone ?? TRIGGER_DEFAULTS.timezone,
        concurrencyPolicy: doc.concurrencyPolicy ?? TRIGGER_DEFAULTS.concurrencyPolicy,
        missed: doc.missed ?? TRIGGER_DEFAULTS.missed,
        ...(doc.body !== undefined ? { body: doc.body } : {}),
        ...(doc.contentType !== undefined ? { contentType: doc.contentType } : doc.body !== undefined ? { contentType: guessContentType(doc.body) } : {}),
      };
    case 'nats': {
      const jetstream = doc.stream !== undefined || doc.consumer !== undefined;
      if (jetstream && (doc.stream === undefined || doc.consumer === undefined)) throw new SkiffError('BAD_REQUEST', 'stream, consumer: JetStream needs both (--stream S --consumer C)');
      if (jetstream === (doc.subject !== undefined)) throw new SkiffError('BAD_REQUEST', 'subject: a NATS trigger takes --subject (core NATS) or --stream and --consumer (JetStream), one of them');
      if (jetstream && doc.queueGroup !== undefined) throw new SkiffError('BAD_REQUEST', 'queueGroup: only with --subject (JetStream consumers are shared by name)');
      return { kind: 'nats', url: url(/^nats:$/, 'nats'), ...(jetstream ? { stream: doc.stream!, consumer: doc.consumer! } : { subject: doc.subject!, ...(doc.queueGroup !== undefined ? { queueGroup: doc.queueGroup } : {}) }) };
    }
    case 'amqp':
      if (doc.queue === undefined) throw new SkiffError('BAD_REQUEST', 'queue: a RabbitMQ trigger needs --queue');
      return { kind: 'amqp', url: url(/^amqps?:$/, 'amqp'), queue: doc.queue, ...(doc.prefetch !== undefined ? { prefetch: doc.prefetch } : {}) };
    case 'redis':
      if (doc.stream === undefined || doc.group === undefined) throw new SkiffError('BAD_REQUEST', 'stream, group: a Redis Streams trigger needs --stream and --group');
      return { kind: 'redis', url: url(/^rediss?:$/, 'redis'), stream: doc.stream, group: doc.group };
    case 'mqtt':
      if (doc.topic === undefined) throw new SkiffError('BAD_REQUEST', 'topic: an MQTT trigger needs --topic');
      return { kind: 'mqtt', url: url(/^mqtts?:$/, 'mqtt'), topic: doc.topic, ...(doc.qos !== undefined ? { qos: doc.qos } : {}) };
  }
}

const EXAMPLES: Record<(typeof SOURCES)[number], string> = {
  cron: '',
  nats: 'nats://127.0.0.1:4222',
  amqp: 'amqp://user:pass@127.0.0.1:5672/vhost',
  redis: 'redis://127.0.0.1:6379',
  mqtt: 'mqtt://127.0.0.1:1883',
};

/** A body that parses as JSON is sent as application/json, anything else as text. */
function guessContentType(body: string): string {
  try {
    JSON.parse(body);
    return 'application/json';
  } catch {
    return 'text/plain; charset=utf-8';
  }
}
