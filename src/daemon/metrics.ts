// daemon/metrics: the daemon's Prometheus metrics (prom-client), served at GET /metrics on the API
// listener (a metrics:read token) and, when `metrics.listen` names an address, on a listener of its
// own without a token. Almost everything is read from state the modules already keep, at scrape
// time: the gateway's pools (requests by status class, latency, in flight, queued), the scheduler's
// revisions (desired, ready, panic, instances by phase), the cold-start breakdowns, the triggers'
// counters and backlogs. Nothing here runs per request; the gateway's own per-request work is one
// RequestStats.record() (gateway/request-stats.ts).
//
// Labels are bounded by what the operator configured, never by what clients send: service, revision,
// trigger, and fixed words (code_class, state, stage, source, operation). No instance id, path, host
// or user input is ever a label. METRICS below is the catalogue; docs/metrics.md lists it and
// test/metrics/registry.test.ts holds the two, and every scrape, to it.
import http from 'node:http';
import client from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { LATENCY_BOUNDS_S, STATUS_CLASSES, type RequestStats } from '../gateway/request-stats.ts';
import { STAGES, type ColdStartSource, type Histogram, type Stage } from '../scheduler/cold-start-stats.ts';
import type { TriggerStats } from '../core/events.ts';

type Labels = Record<string, string>;
type MetricType = 'counter' | 'gauge' | 'histogram';

/** Every metric Skiff exports (besides prom-client's process and Node.js metrics), with its labels. */
export const METRICS = {
  skiff_gateway_requests_total: { type: 'counter', labels: ['service', 'revision', 'code_class'], help: 'Requests the gateway finished for a revision, by status class of the answer (none: cut off before a status was sent).' },
  skiff_gateway_request_duration_seconds: { type: 'histogram', labels: ['service', 'revision'], help: 'Time from a request head arriving at the gateway to its response ending, including any wait for an instance.' },
  skiff_gateway_requests_in_flight: { type: 'gauge', labels: ['service', 'revision'], help: 'Requests holding a slot on an instance of the revision now.' },
  skiff_gateway_requests_queued: { type: 'gauge', labels: ['service', 'revision'], help: 'Requests held by the activator waiting for an instance of the revision now.' },
  skiff_gateway_open_connections: { type: 'gauge', labels: [], help: 'Open client connections to the gateway.' },
  skiff_gateway_refused_connections_total: { type: 'counter', labels: [], help: 'Client connections refused by the gateway connection limits.' },
  skiff_cold_starts_total: { type: 'counter', labels: ['service', 'revision', 'source'], help: 'Cold starts (an instance started for a waiting request), by how the instance came to be: created, pool (pre-created) or thawed.' },
  skiff_cold_start_stage_seconds: { type: 'histogram', labels: ['service', 'revision', 'stage'], help: 'The cold-start breakdown: queued, created, started, ready (readiness probe) and firstByte (request arrival to response head).' },
  skiff_instances: { type: 'gauge', labels: ['service', 'state'], help: 'Instances per service by state: pre-created, starting, ready, draining, frozen.' },
  skiff_autoscaler_desired_instances: { type: 'gauge', labels: ['service', 'revision'], help: 'Instances the autoscaler last decided the revision should have.' },
  skiff_autoscaler_actual_instances: { type: 'gauge', labels: ['service', 'revision'], help: 'Ready instances of the revision.' },
  skiff_autoscaler_panic: { type: 'gauge', labels: ['service', 'revision'], help: '1 while the revision is in panic mode (the short window decides; no scale-down).' },
  skiff_revision_failures_total: { type: 'counter', labels: ['service', 'revision'], help: 'Instances of the revision that failed to start or crashed, since the daemon started.' },
  skiff_revision_consecutive_failures: { type: 'gauge', labels: ['service', 'revision'], help: 'Failed starts and crashes of the revision in a row (0 once an instance stays ready).' },
  skiff_trigger_deliveries_total: { type: 'counter', labels: ['trigger'], help: 'Events a trigger handed to its target, each counted once however many attempts it took.' },
  skiff_trigger_successes_total: { type: 'counter', labels: ['trigger'], help: 'Events a trigger delivered successfully (2xx).' },
  skiff_trigger_failures_total: { type: 'counter', labels: ['trigger'], help: 'Failed delivery attempts of a trigger (each retry counts).' },
  skiff_trigger_retries_total: { type: 'counter', labels: ['trigger'], help: 'Delivery attempts of a trigger that were retried.' },
  skiff_trigger_dead_lettered_total: { type: 'counter', labels: ['trigger'], help: 'Events of a trigger given up on after their last attempt.' },
  skiff_trigger_disconnects_total: { type: 'counter', labels: ['trigger'], help: 'Connections to its broker a broker trigger lost since the daemon started.' },
  skiff_trigger_backlog_messages: { type: 'gauge', labels: ['trigger'], help: 'Messages the broker holds for a broker trigger (queue depth, stream lag), as last measured; absent when unknown.' },
  skiff_service_event_backlog: { type: 'gauge', labels: ['service'], help: 'Events waiting for a service outside the gateway (broker backlogs and due invocations), the autoscaler input.' },
  skiff_registry_operations_total: { type: 'counter', labels: ['operation', 'code_class'], help: 'Registry (/v2) requests by operation and status class.' },
  skiff_registry_received_bytes_total: { type: 'counter', labels: ['operation'], help: 'Bytes of request bodies read from registry clients (blobs, manifests), by operation.' },
  skiff_registry_sent_bytes_total: { type: 'counter', labels: ['operation'], help: 'Bytes of response bodies sent to registry clients (blobs, manifests), by operation.' },
  skiff_store_errors_total: { type: 'counter', labels: ['operation'], help: 'Store (SQLite or PostgreSQL) failures seen: readiness pings that failed (operation ping).' },
} as const satisfies Record<string, { type: MetricType; labels: readonly string[]; help: string }>;

export type MetricName = keyof typeof METRICS;

/** The label names a Skiff metric may carry: each bounded by configuration or a fixed word list. */
export const BOUNDED_LABELS = ['service', 'revision', 'code_class', 'trigger', 'state', 'stage', 'source', 'operation'] as const;

/** prom-client's default metrics that promtool's lint refuses (gauges with a _total suffix): not exported */
export const LINT_REFUSED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const;

/** The registry's words for its operations (the `operation` label). */
export const REGISTRY_OPERATIONS = ['base', 'catalog', 'tags', 'referrers', 'manifest_get', 'manifest_head', 'manifest_put', 'manifest_delete', 'blob_get', 'blob_head', 'blob_delete', 'upload_start', 'upload_monolithic', 'blob_mount', 'upload_chunk', 'upload_finish', 'upload_status', 'upload_cancel', 'other'] as const;

/** What the metrics read; each source a function, called at scrape time. */
export interface MetricsSources {
  gateway: {
    revisionPools(): Iterable<{ revision: string; requests: RequestStats; active: number; queued: number }>;
    readonly openConnections: number;
    readonly refusedConnections: number;
  };
  revisions(): Array<{ service: string; revision: string; desired: number; ready: number; panic: boolean; failures?: number; failuresTotal?: number; phases: Record<string, number> }>;
  coldStarts: { get(revision: string): { bySource: Record<ColdStartSource, number>; stages: Record<Stage, Histogram> } | undefined };
  /** set once the event side has started */
  triggers?: () => Array<{ trigger: string; stats: Readonly<TriggerStats>; brokerBacklog: number | undefined; disconnects?: number | undefined }>;
  /** events waiting per service */
  eventBacklog?: () => ReadonlyMap<string, number>;
}

interface Sample {
  labels: Labels;
  value: number;
  metricName?: string;
}

/** A metric whose samples are computed at scrape time, registered with prom-client like its own. */
class Collected {
  readonly aggregator = 'sum';
  constructor(
    readonly name: MetricName,
    private readonly read: () => Sample[],
  ) {}
  get help(): string {
    return METRICS[this.name].help;
  }
  get type(): MetricType {
    return METRICS[this.name].type;
  }
  async get() {
    return { name: this.name, help: this.help, type: this.type, values: this.read(), aggregator: this.aggregator };
  }
}

/** The bucket upper bounds (ms) of scheduler/cold-start-stats.ts's Histogram: √2 apart from 50 µs. */
const COLD_BOUND_MS = (k: number) => 0.05 * Math.SQRT2 ** k;
/** which of its 62 bounds are exported as `le` (every other one, 1.6 ms to 210 s: a factor 2 apart) */
export const COLD_START_BOUND_INDEXES = Array.from({ length: 18 }, (_, i) => 10 + 2 * i);
const leOf = (seconds: number) => String(Number(seconds.toPrecision(6)));

/** Histogram samples (cumulative buckets, +Inf, sum, count) from per-bucket counts. */
function histogramSamples(name: string, labels: Labels, bounds: readonly number[], cumulativeAt: (i: number) => number, count: number, sum: number): Sample[] {
  const out: Sample[] = bounds.map((le, i) => ({ metricName: `${name}_bucket`, labels: { ...labels, le: leOf(le) }, value: cumulativeAt(i) }));
  out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: count });
  out.push({ metricName: `${name}_sum`, labels, value: sum });
  out.push({ metricName: `${name}_count`, labels, value: count });
  return out;
}

/** The service of a revision named `<service>-<5 digits>` (core/names.ts revisionName), for a pool the scheduler no longer knows. */
function serviceOfRevision(revision: string): string {
  return /^(.+)-\d{5}$/.exec(revision)?.[1] ?? revision;
}

export class SkiffMetrics {
  readonly registry = new client.Registry();
  private readonly storeErrors: client.Counter<'operation'>;
  private readonly registryOps = new Map<string, { byClass: number[]; received: number; sent: number }>();

  constructor(private readonly s: MetricsSources) {
    client.collectDefaultMetrics({ register: this.registry });
    // gauges named *_total, which Prometheus' own lint (promtool check metrics) refuses; the same numbers
    // are the sums of nodejs_active_handles / _requests / _resources, by type
    for (const name of LINT_REFUSED_DEFAULTS) this.registry.removeSingleMetric(name);
    this.storeErrors = new client.Counter({ name: 'skiff_store_errors_total', help: METRICS.skiff_store_errors_total.help, labelNames: ['operation'], registers: [this.registry] });
    const add = (name: MetricName, read: () => Sample[]) => this.registry.registerMetric(new Collected(name, read) as unknown as client.Metric);

    const pools = () => {
      const serviceOf = new Map(this.s.revisions().map((r) => [r.revision, r.service]));
      return [...this.s.gateway.revisionPools()].map((p) => ({ pool: p, labels: { service: serviceOf.get(p.revision) ?? serviceOfRevision(p.revision), revision: p.revision } }));
    };
    add('skiff_gateway_requests_total', () =>
      pools().flatMap(({ pool, labels }) => STATUS_CLASSES.flatMap((c, i) => (pool.requests.byClass[i]! > 0 || c === '2xx' ? [{ labels: { ...labels, code_class: c }, value: pool.requests.byClass[i]! }] : []))),
    );
    add('skiff_gateway_request_duration_seconds', () =>
      pools().flatMap(({ pool, labels }) => {
        const r = pool.requests;
        let acc = 0;
        const cumulative = r.buckets.slice(0, LATENCY_BOUNDS_S.length).map((n) => (acc += n));
        return histogramSamples('skiff_gateway_request_duration_seconds', labels, LATENCY_BOUNDS_S, (i) => cumulative[i]!, r.count, r.sumSeconds);
      }),
    );
    add('skiff_gateway_requests_in_flight', () => pools().map(({ pool, labels }) => ({ labels, value: pool.active })));
    add('skiff_gateway_requests_queued', () => pools().map(({ pool, labels }) => ({ labels, value: pool.queued })));
    add('skiff_gateway_open_connections', () => [{ labels: {}, value: this.s.gateway.openConnections }]);
    add('skiff_gateway_refused_connections_total', () => [{ labels: {}, value: this.s.gateway.refusedConnections }]);

    add('skiff_cold_starts_total', () =>
      this.s.revisions().flatMap(({ service, revision }) => {
        const cs = this.s.coldStarts.get(revision);
        return cs ? (Object.entries(cs.bySource) as Array<[ColdStartSource, number]>).map(([source, value]) => ({ labels: { service, revision, source }, value })) : [];
      }),
    );
    const coldBounds = COLD_START_BOUND_INDEXES.map((k) => COLD_BOUND_MS(k) / 1000);
    add('skiff_cold_start_stage_seconds', () =>
      this.s.revisions().flatMap(({ service, revision }) => {
        const cs = this.s.coldStarts.get(revision);
        if (!cs) return [];
        return STAGES.flatMap((stage) => {
          const h = cs.stages[stage];
          let acc = 0;
          const cumulative = h.buckets.map((n) => (acc += n));
          return histogramSamples('skiff_cold_start_stage_seconds', { service, revision, stage }, coldBounds, (i) => cumulative[COLD_START_BOUND_INDEXES[i]!]!, h.count, h.sumMs / 1000);
        });
      }),
    );

    add('skiff_instances', () => {
      const per = new Map<string, Record<string, number>>();
      for (const r of this.s.revisions()) {
        const into = per.get(r.service) ?? {};
        for (const [state, n] of Object.entries(r.phases)) into[state] = (into[state] ?? 0) + n;
        per.set(r.service, into);
      }
      return [...per].flatMap(([service, states]) => Object.entries(states).map(([state, value]) => ({ labels: { service, state }, value })));
    });
    const perRevision = (value: (r: ReturnType<MetricsSources['revisions']>[number]) => number) => () => this.s.revisions().map((r) => ({ labels: { service: r.service, revision: r.revision }, value: value(r) }));
    add('skiff_autoscaler_desired_instances', perRevision((r) => r.desired));
    add('skiff_autoscaler_actual_instances', perRevision((r) => r.ready));
    add('skiff_autoscaler_panic', perRevision((r) => (r.panic ? 1 : 0)));
    add('skiff_revision_consecutive_failures', perRevision((r) => r.failures ?? 0));
    add('skiff_revision_failures_total', perRevision((r) => r.failuresTotal ?? 0));

    const perTrigger = (value: (t: Readonly<TriggerStats>) => number) => () => (this.s.triggers?.() ?? []).map((t) => ({ labels: { trigger: t.trigger }, value: value(t.stats) }));
    add('skiff_trigger_deliveries_total', perTrigger((t) => t.deliveries));
    add('skiff_trigger_successes_total', perTrigger((t) => t.successes));
    add('skiff_trigger_failures_total', perTrigger((t) => t.failures));
    add('skiff_trigger_retries_total', perTrigger((t) => t.retries));
    add('skiff_trigger_dead_lettered_total', perTrigger((t) => t.deadLettered));
    add('skiff_trigger_disconnects_total', () => (this.s.triggers?.() ?? []).flatMap((t) => (t.disconnects === undefined ? [] : [{ labels: { trigger: t.trigger }, value: t.disconnects }])));
    add('skiff_trigger_backlog_messages', () => (this.s.triggers?.() ?? []).flatMap((t) => (t.brokerBacklog === undefined ? [] : [{ labels: { trigger: t.trigger }, value: t.brokerBacklog }])));
    add('skiff_service_event_backlog', () => [...(this.s.eventBacklog?.() ?? new Map<string, number>())].map(([service, value]) => ({ labels: { service }, value })));

    add('skiff_registry_operations_total', () => [...this.registryOps].flatMap(([operation, o]) => STATUS_CLASSES.flatMap((c, i) => (o.byClass[i]! > 0 ? [{ labels: { operation, code_class: c }, value: o.byClass[i]! }] : []))));
    add('skiff_registry_received_bytes_total', () => [...this.registryOps].map(([operation, o]) => ({ labels: { operation }, value: o.received })));
    add('skiff_registry_sent_bytes_total', () => [...this.registryOps].map(([operation, o]) => ({ labels: { operation }, value: o.sent })));
  }

  /** The event side started: its triggers and backlog are read from then on. */
  setTriggers(triggers: NonNullable<MetricsSources['triggers']>, eventBacklog: NonNullable<MetricsSources['eventBacklog']>): void {
    this.s.triggers = triggers;
    this.s.eventBacklog = eventBacklog;
  }

  storeError(operation: 'ping'): void {
    this.storeErrors.inc({ operation });
  }

  /** One registry request finished. */
  registryOperation(operation: string, status: number, received: number, sent: number): void {
    let o = this.registryOps.get(operation);
    if (!o) this.registryOps.set(operation, (o = { byClass: [0, 0, 0, 0, 0, 0], received: 0, sent: 0 }));
    o.byClass[status >= 100 && status < 600 ? (status / 100) | 0 : 0]!++;
    o.received += received;
    o.sent += sent;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * Counts the registry's requests on the API listener: operation and status, and the body bytes
   * each moved (Content-Length, or for a streamed body what its connection moved meanwhile).
   */
  countRegistry(app: FastifyInstance): void {
    const start = new WeakMap<object, { read: number; written: number }>();
    app.addHook('onRequest', async (req) => {
      if (!req.url.startsWith('/v2')) return;
      const sock = req.raw.socket;
      start.set(req.raw, { read: sock.bytesRead, written: sock.bytesWritten });
    });
    app.addHook('onResponse', async (req, reply) => {
      const at = start.get(req.raw);
      if (!at) return;
      const sock = req.raw.socket;
      // the declared body lengths; a streamed (chunked) body has none: what its connection moved meanwhile
      const declared = (v: unknown) => (v === undefined || v === '' || !Number.isFinite(Number(v)) ? undefined : Number(v));
      const received = declared(req.headers['content-length']) ?? Math.max(0, sock.bytesRead - at.read);
      const sent = req.method === 'HEAD' ? 0 : (declared(reply.getHeader('content-length')) ?? Math.max(0, sock.bytesWritten - at.written));
      this.registryOperation(registryOperation(req.method, req.url), reply.statusCode, received, sent);
    });
  }
}

/** A /v2 request's operation, from its method and the shape of its path (read from the right: names contain '/'). */
export function registryOperation(method: string, url: string): (typeof REGISTRY_OPERATIONS)[number] {
  const [path = '', query = ''] = url.split('?');
  const m = method === 'HEAD' ? 'head' : method.toLowerCase();
  if (path === '/v2' || path === '/v2/') return 'base';
  if (path === '/v2/_catalog') return 'catalog';
  if (/\/tags\/list$/.test(path)) return 'tags';
  if (/\/referrers\/[^/]+$/.test(path)) return 'referrers';
  if (/\/blobs\/uploads\/?$/.test(path)) return m !== 'post' ? 'other' : /(^|&)mount=/.test(query) ? 'blob_mount' : /(^|&)digest=/.test(query) ? 'upload_monolithic' : 'upload_start';
  if (/\/blobs\/uploads\/[^/]+$/.test(path)) return ({ patch: 'upload_chunk', put: 'upload_finish', get: 'upload_status', delete: 'upload_cancel' } as const)[m as 'patch'] ?? 'other';
  if (/\/blobs\/[^/]+$/.test(path)) return ({ get: 'blob_get', head: 'blob_head', delete: 'blob_delete' } as const)[m as 'get'] ?? 'other';
  if (/\/manifests\/[^/]+$/.test(path)) return ({ get: 'manifest_get', head: 'manifest_head', put: 'manifest_put', delete: 'manifest_delete' } as const)[m as 'get'] ?? 'other';
  return 'other';
}

/** The unauthenticated listener of `metrics.listen`: GET /metrics, 404 for anything else. */
export async function listenMetrics(metrics: SkiffMetrics, host: string, port: number): Promise<{ address: { host: string; port: number }; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /metrics\n');
      return;
    }
    metrics.render().then(
      (text) => res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text) }).end(req.method === 'HEAD' ? undefined : text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as { port: number };
  return {
    address: { host, port: bound.port },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
