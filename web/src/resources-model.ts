// web/resources-model: what the Triggers, Jobs, Domains, Volumes and Secrets pages show of each API
// view, and their search — pure functions of the API's answers, tested without a browser
// (test/web/resources-model.test.ts). Each row keeps a lower-cased `haystack` the search looks in.
import type { TriggerView } from '../../src/core/events.ts';
import type { ExecutionView, JobView } from '../../src/core/jobs.ts';
import type { DomainView } from '../../src/core/domains.ts';
import type { SecretView } from '../../src/core/secrets.ts';
import type { VolumeView } from '../../src/core/views.ts';

/** Rows matching every word of the query (case-insensitive, anywhere in the row's haystack). */
export function search<R extends { haystack: string }>(rows: readonly R[], query: string): R[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return words.length === 0 ? [...rows] : rows.filter((r) => words.every((w) => r.haystack.includes(w)));
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
/** by name (then project), so the order never depends on the API's */
export function byName<R extends { name: string; project?: string }>(rows: readonly R[]): R[] {
  return [...rows].sort((a, b) => collator.compare(a.name, b.name) || collator.compare(a.project ?? '', b.project ?? ''));
}

const hay = (...parts: Array<string | number | undefined | null>) => parts.filter((p) => p !== undefined && p !== null && p !== '').join('\n').toLowerCase();

/** "1.5 GiB": binary units, one decimal under 10 */
export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** "2026-12-07 01:56 UTC": one unambiguous form whatever the browser's locale (ISO in, UTC out) */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** "1m 5s", "350 ms" */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

// ---------------------------------------------------------------- triggers

export interface TriggerRow {
  name: string;
  project: string;
  kind: string;
  /** "service web POST /hook" or "job nightly" */
  target: string;
  /** cron: "0 * * * * (Europe/Paris)"; a broker: what it reads (subject, queue, stream, topic) */
  schedule: string;
  /** "paused", or the broker connection's state, or "active" */
  status: string;
  paused: boolean;
  nextFire: string;
  deliveries: number;
  failures: number;
  deadLetters: number;
  backlog: number;
  lastError?: string;
  haystack: string;
}

export function triggerRow(t: TriggerView): TriggerRow {
  const s = t.source as unknown as Record<string, string | number | undefined>;
  const target = t.target as unknown as { service?: string; job?: string; path?: string; method?: string };
  const targetText = target.job ?? t.job ? `job ${target.job ?? t.job}` : `service ${target.service ?? t.service ?? '?'}${target.method || target.path ? ` ${target.method ?? 'POST'} ${target.path ?? '/'}` : ''}`;
  let schedule: string;
  if (t.kind === 'cron') schedule = `${s.schedule ?? ''}${s.timezone && s.timezone !== 'UTC' ? ` (${s.timezone})` : ''}`;
  else {
    // what the trigger reads: a broker's credentials are never shown (the API masks the URL's password)
    const reads = [s.subject && `subject ${s.subject}`, s.queue && `queue ${s.queue}`, s.stream && `stream ${s.stream}`, s.consumer && `consumer ${s.consumer}`, s.group && `group ${s.group}`, s.topic && `topic ${s.topic}`].filter(Boolean);
    schedule = reads.join(', ');
  }
  const status = t.paused ? 'paused' : t.state ? t.state.status : 'active';
  const lastError = t.stats.lastErrors.at(-1)?.message ?? t.state?.error;
  return {
    name: t.name,
    project: t.project,
    kind: t.kind,
    target: targetText,
    schedule,
    status,
    paused: t.paused,
    nextFire: t.paused ? '—' : formatTime(t.nextFireAt),
    deliveries: t.stats.deliveries,
    failures: t.stats.failures,
    deadLetters: t.stats.deadLetters,
    backlog: t.stats.backlog,
    ...(lastError ? { lastError } : {}),
    haystack: hay(t.name, t.project, t.kind, targetText, schedule, status),
  };
}

// ---------------------------------------------------------------- jobs

export interface ExecutionRow {
  id: string;
  status: string;
  /** "3 succeeded, 1 failed of 4" */
  tasks: string;
  started: string;
  duration: string;
  message?: string;
}

export function executionRow(e: ExecutionView): ExecutionRow {
  const total = Object.values(e.counts).reduce((n, c) => n + c, 0);
  const parts = (['succeeded', 'running', 'failed', 'pending', 'cancelled'] as const).filter((k) => (e.counts[k] ?? 0) > 0).map((k) => `${e.counts[k]} ${k}`);
  return {
    id: e.id,
    status: e.status,
    tasks: `${parts.join(', ') || 'none'} of ${total}`,
    started: formatTime(e.createdAt),
    duration: e.durationMs !== undefined ? formatDuration(e.durationMs) : e.status === 'running' ? 'running' : '—',
    ...(e.message ? { message: e.message } : {}),
  };
}

export interface JobRow {
  name: string;
  project: string;
  image: string;
  /** "4 tasks, 2 at a time, 1 retry" */
  shape: string;
  latest?: ExecutionRow;
  haystack: string;
}

export function jobRow(j: JobView): JobRow {
  const latest = j.executions[0];
  const shape = `${j.tasks} ${j.tasks === 1 ? 'task' : 'tasks'}, ${j.parallelism} at a time, ${j.retries} ${j.retries === 1 ? 'retry' : 'retries'}`;
  return {
    name: j.name,
    project: j.project,
    image: j.image,
    shape,
    ...(latest ? { latest: executionRow(latest) } : {}),
    haystack: hay(j.name, j.project, j.image, latest?.status, latest?.id),
  };
}

// ---------------------------------------------------------------- domains

export interface DomainRow {
  name: string;
  project: string;
  service: string;
  status: string;
  source: string;
  issuer: string;
  expires: string;
  /** days until the certificate expires (negative: expired); undefined without one */
  daysLeft?: number;
  renews: string;
  lastError?: string;
  url: string | null;
  haystack: string;
}

export function domainRow(d: DomainView, now: number): DomainRow {
  const daysLeft = d.not_after ? Math.floor((Date.parse(d.not_after) - now) / 86_400_000) : undefined;
  return {
    name: d.host,
    project: d.tenant,
    service: d.service,
    status: d.status,
    source: d.source === 'acme' ? 'ACME' : 'uploaded',
    issuer: d.issuer ?? '—',
    expires: d.not_after ? `${formatTime(d.not_after)}${daysLeft !== undefined ? ` (${daysLeft < 0 ? 'expired' : `${daysLeft} ${daysLeft === 1 ? 'day' : 'days'} left`})` : ''}` : '—',
    ...(daysLeft !== undefined ? { daysLeft } : {}),
    renews: formatTime(d.renews_at),
    ...(d.last_error ? { lastError: d.last_error } : {}),
    url: d.url,
    haystack: hay(d.host, d.tenant, d.service, d.status, d.issuer),
  };
}

// ---------------------------------------------------------------- volumes

export interface VolumeRow {
  name: string;
  size: string;
  used: string;
  /** 0–100, for the meter; undefined when the node cannot tell */
  usedPercent?: number;
  usedBy: string[];
  shared: boolean;
  mounted: string;
  created: string;
  haystack: string;
}

export function volumeRow(v: VolumeView): VolumeRow {
  const usedPercent = v.usedBytes !== undefined && v.sizeBytes > 0 ? Math.min(100, Math.round((v.usedBytes / v.sizeBytes) * 100)) : undefined;
  return {
    name: v.name,
    size: formatBytes(v.sizeBytes),
    used: v.usedBytes === undefined ? 'unknown' : `${formatBytes(v.usedBytes)}${usedPercent !== undefined ? ` (${usedPercent}%)` : ''}`,
    ...(usedPercent !== undefined ? { usedPercent } : {}),
    usedBy: [...v.usedBy].sort(),
    shared: v.shared,
    mounted: v.mounted === undefined ? 'unknown' : v.mounted ? 'yes' : 'no',
    created: formatTime(v.createdAt),
    haystack: hay(v.name, ...v.usedBy),
  };
}

// ---------------------------------------------------------------- secrets

/** Names and versions only: the API never sends a value, and a row has no field that could hold one. */
export interface SecretRow {
  name: string;
  version: number;
  /** the latest version's key names (names, not values) */
  keys: string[];
  updated: string;
  haystack: string;
}

export function secretRow(s: SecretView): SecretRow {
  return {
    name: s.name,
    version: s.version,
    keys: [...s.keys].sort(),
    updated: formatTime(s.updatedAt),
    haystack: hay(s.name, ...s.keys),
  };
}
