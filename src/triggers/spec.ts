// triggers/spec: a trigger as the user states it (POST /api/v1/triggers, `skiff trigger add`) and the
// record it becomes, with every default filled in. The API's JSON schema checks shapes; this checks
// meaning (durations, names) and names the field at fault.
import { SkiffError } from '../core/errors.ts';
import type { DeliveryPolicy, TriggerDocument, TriggerRecord } from '../core/events.ts';

export type { TriggerDocument };
import { SERVICE_NAME_RE } from '../core/names.ts';
import { parseDuration } from '../core/quantity.ts';

export const TRIGGER_DEFAULTS = { timezone: 'UTC', path: '/', method: 'POST', concurrencyPolicy: 'allow', missed: 'skip', maxAttempts: 5, backoffMs: 1000, maxBackoffMs: 60_000 } as const;

export function normaliseTrigger(doc: TriggerDocument, tenant: string, now: number): TriggerRecord {
  if (!SERVICE_NAME_RE.test(doc.name)) throw new SkiffError('BAD_REQUEST', `name: must be a DNS label (lowercase letters, digits, '-'), got ${JSON.stringify(doc.name)}`);
  if (doc.cron === undefined) throw new SkiffError('BAD_REQUEST', 'cron: a trigger needs a source: --cron "SCHEDULE" (message-queue sources come next)');
  const path = doc.path ?? TRIGGER_DEFAULTS.path;
  if (!path.startsWith('/')) throw new SkiffError('BAD_REQUEST', `path: must start with '/', got ${JSON.stringify(path)}`);
  const delivery: DeliveryPolicy = {
    maxAttempts: doc.maxAttempts ?? TRIGGER_DEFAULTS.maxAttempts,
    backoffMs: doc.backoff !== undefined ? parseDuration(doc.backoff, 'backoff') : TRIGGER_DEFAULTS.backoffMs,
    maxBackoffMs: doc.maxBackoff !== undefined ? parseDuration(doc.maxBackoff, 'maxBackoff') : TRIGGER_DEFAULTS.maxBackoffMs,
  };
  if (delivery.backoffMs > delivery.maxBackoffMs) throw new SkiffError('BAD_REQUEST', `backoff: ${doc.backoff} is more than maxBackoff (${delivery.maxBackoffMs / 1000}s)`);
  return {
    name: doc.name,
    tenant,
    source: {
      kind: 'cron',
      schedule: doc.cron.trim(),
      timezone: doc.timezone ?? TRIGGER_DEFAULTS.timezone,
      concurrencyPolicy: doc.concurrencyPolicy ?? TRIGGER_DEFAULTS.concurrencyPolicy,
      missed: doc.missed ?? TRIGGER_DEFAULTS.missed,
      ...(doc.body !== undefined ? { body: doc.body } : {}),
      ...(doc.contentType !== undefined ? { contentType: doc.contentType } : doc.body !== undefined ? { contentType: guessContentType(doc.body) } : {}),
    },
    target: { service: doc.service, path, method: (doc.method ?? TRIGGER_DEFAULTS.method).toUpperCase() },
    delivery,
    paused: false,
    createdAt: now,
    updatedAt: now,
  };
}

/** A body that parses as JSON is sent as application/json, anything else as text. */
function guessContentType(body: string): string {
  try {
    JSON.parse(body);
    return 'application/json';
  } catch {
    return 'text/plain; charset=utf-8';
  }
}
