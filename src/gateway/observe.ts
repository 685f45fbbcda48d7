// gateway/observe: what the gateway records per request beyond forwarding it — a trace span
// (OpenTelemetry, exported over OTLP/HTTP) and an access-log line. Both are off by default; then no
// Observer exists, both gateway paths only pass a `traceparent` on (trace-context.ts), and nothing of
// this file runs per request.
//
// The request span is a SERVER span named `METHOD service`, child of the client's traceparent when it
// sent a valid one (so the trace id is kept), else the root of a new trace. Its own span id is the
// parent id the instance gets. A request that waited for an instance gets a `cold start` child span
// for the wait and, when it was the request the instance was started for, one child per stage the
// scheduler measured (queued → created → started → ready: scheduler/cold-start-stats.ts), laid end
// to end so that `ready` ends when the wait did.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, createTraceState, trace, type Span, type Tracer } from '@opentelemetry/api';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { Logger } from '../core/logger.ts';
import { parseTraceparent, propagatedTraceparent } from './trace-context.ts';

/** The scheduler's stages of the cold start a request waited for (scheduler/cold-start-stats.ts). */
export interface ColdStartBreakdown {
  instance: string;
  source: string;
  queuedMs: number;
  createdMs: number;
  startedMs: number;
  readyMs: number;
}

export interface ObserveOptions {
  tracing?: {
    /** OTLP/HTTP collector: a base URL (…:4318, /v1/traces appended) or the full traces URL */
    otlpEndpoint: string;
    /** share of new traces recorded, 0–1; a client's sampled flag decides for its own traces */
    sampleRatio: number;
    /** the resource's service.name */
    serviceName?: string;
  };
  /** access-log lines go to this logger (info, message "request"); undefined: no access log */
  accessLog?: Logger;
}

/** One request as observed, from its arrival to its end. */
export class RequestRecord {
  span: Span | undefined;
  /** the traceparent / tracestate the instance gets */
  traceparent = '';
  tracestate: string | undefined;
  instance = '';
  waitedMs = 0;
  /** response status; 0 until the instance answered or the gateway did */
  status = 0;
  /** response body bytes sent to the client */
  bytes = 0;

  constructor(
    readonly method: string,
    /** the request path without its query (which may carry tokens) */
    readonly path: string,
    readonly service: string,
    readonly revision: string,
    /** performance.now() at arrival */
    readonly arrived: number,
  ) {}

  /** The trace headers as header lines for a raw request head. */
  headerLines(): string {
    return this.tracestate === undefined ? `traceparent: ${this.traceparent}\r\n` : `traceparent: ${this.traceparent}\r\ntracestate: ${this.tracestate}\r\n`;
  }
}

export class Observer {
  private readonly provider: TracerProvider | undefined;
  private readonly tracer: Tracer | undefined;
  private readonly accessLog: Logger | undefined;

  private constructor(opts: ObserveOptions) {
    this.accessLog = opts.accessLog;
    const t = opts.tracing;
    if (t && t.otlpEndpoint !== '') {
      const url = /\/v1\/traces\/?$/.test(t.otlpEndpoint) ? t.otlpEndpoint : `${t.otlpEndpoint.replace(/\/+$/, '')}/v1/traces`;
      this.provider = new TracerProvider({
        resource: resourceFromAttributes({ 'service.name': t.serviceName ?? 'skiff-gateway' }),
        sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(t.sampleRatio) }),
        spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url }), scheduledDelayMillis: 1000 })],
      });
      this.tracer = this.provider.getTracer('skiff-gateway');
    }
  }

  /** undefined when tracing and the access log are both off: the gateway then records nothing. */
  static create(opts: ObserveOptions): Observer | undefined {
    const tracing = opts.tracing !== undefined && opts.tracing.otlpEndpoint !== '';
    return tracing || opts.accessLog ? new Observer(opts) : undefined;
  }

  get tracing(): boolean {
    return this.tracer !== undefined;
  }

  /** A request routed to `revision`: its span starts (at its arrival) and its trace headers are chosen. */
  begin(traceparent: string | undefined, tracestate: string | undefined, method: string, target: string, service: string, revision: string, arrived: number): RequestRecord {
    const q = target.indexOf('?');
    const rec = new RequestRecord(method, q < 0 ? target : target.slice(0, q), service, revision, arrived);
    const parent = parseTraceparent(traceparent);
    // tracestate means nothing without the traceparent it goes with (W3C: not parsed then)
    if (parent && tracestate !== undefined && tracestate !== '') rec.tracestate = tracestate;
    if (!this.tracer) {
      rec.traceparent = propagatedTraceparent(parent);
      return rec;
    }
    let ctx = ROOT_CONTEXT;
    if (parent) {
      ctx = trace.setSpanContext(ROOT_CONTEXT, {
        traceId: parent.traceId,
        spanId: parent.parentId,
        traceFlags: parseInt(parent.flags, 16) & 1,
        isRemote: true,
        ...(rec.tracestate === undefined ? {} : { traceState: createTraceState(rec.tracestate) }),
      });
    }
    const span = this.tracer.startSpan(
      `${method} ${service}`,
      {
        kind: SpanKind.SERVER,
        startTime: performance.timeOrigin + arrived,
        attributes: { 'http.request.method': method, 'url.path': rec.path, 'skiff.service': service, 'skiff.revision': revision },
      },
      ctx,
    );
    rec.span = span;
    const sc = span.spanContext();
    rec.traceparent = `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags & 1}`;
    return rec;
  }

  /** The request waited `rec.waitedMs` for an instance; `stages` when it was the one the instance was started for. */
  coldStart(rec: RequestRecord, stages: ColdStartBreakdown | undefined | void): void {
    const span = rec.span;
    if (!span || !span.isRecording()) return;
    const tracer = this.tracer!;
    const start = performance.timeOrigin + rec.arrived;
    const end = start + rec.waitedMs;
    span.setAttribute('skiff.cold_start_ms', Math.round(rec.waitedMs));
    const wait = tracer.startSpan('cold start', { startTime: start, attributes: stages ? { 'skiff.instance': stages.instance, 'skiff.cold_start.source': stages.source } : {} }, trace.setSpan(ROOT_CONTEXT, span));
    if (stages) {
      const inWait = trace.setSpan(ROOT_CONTEXT, wait);
      let at = end - stages.readyMs - stages.startedMs - stages.createdMs - stages.queuedMs;
      for (const [name, ms] of [['queued', stages.queuedMs], ['created', stages.createdMs], ['started', stages.startedMs], ['ready', stages.readyMs]] as const) {
        tracer.startSpan(name, { startTime: at }, inWait).end(at + ms);
        at += ms;
      }
    }
    wait.end(end);
  }

  /** The request is over (answered, failed or abandoned by its client). */
  end(rec: RequestRecord): void {
    const now = performance.now();
    const span = rec.span;
    if (span) {
      if (rec.status !== 0) span.setAttribute('http.response.status_code', rec.status);
      if (rec.instance !== '') span.setAttribute('skiff.instance', rec.instance);
      if (rec.status >= 500 || rec.status === 0) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end(performance.timeOrigin + now);
    }
    this.accessLog?.info(
      {
        service: rec.service,
        revision: rec.revision,
        instance: rec.instance || undefined,
        method: rec.method,
        path: rec.path,
        status: rec.status,
        bytes: rec.bytes,
        durationMs: Math.round((now - rec.arrived) * 100) / 100,
        coldStartMs: rec.waitedMs > 0 ? Math.round(rec.waitedMs) : undefined,
        traceId: rec.traceparent.slice(3, 35),
      },
      'request',
    );
  }

  /** Exports what is still buffered, then stops. */
  async shutdown(): Promise<void> {
    await this.provider?.shutdown().catch(() => {});
  }

  /** Exports what is buffered now (tests). */
  async flush(): Promise<void> {
    await this.provider?.forceFlush();
  }
}
