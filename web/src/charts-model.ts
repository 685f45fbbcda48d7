// web/charts-model: the service charts' data, made from GET /api/v1/services/NAME/stats
// (core/views ServiceStatsView, columns oldest first) into the column arrays uPlot draws — pure, so
// test/web/service-model.test.ts checks the sums and shapes without a browser.
import type { ServiceStatsView } from '../../src/core/views.ts';

/** the order instance phases are drawn in (any other phase the API adds comes after, by name) */
const PHASE_ORDER = ['ready', 'starting', 'pre-created', 'frozen', 'draining'];
/** the cold start's stages in the order they happen (core/views ServiceStatsView.coldStartStages) */
export const STAGES = ['queued', 'created', 'started', 'ready', 'firstByte'] as const;
export const STAGE_LABELS: Record<string, string> = { queued: 'Queued', created: 'Created', started: 'Started', ready: 'Ready', firstByte: 'First byte' };

export type Column = Array<number | null>;

export interface ChartData {
  /** series labels after x, in order */
  labels: string[];
  /** [x, ...series] */
  columns: [number[], ...Column[]];
}

/** Whether the window holds anything worth a chart: any request, instance or cold start. */
export function hasData(s: ServiceStatsView | undefined): s is ServiceStatsView {
  if (!s || s.t.length === 0) return false;
  const any = (xs: ReadonlyArray<number | null>) => xs.some((x) => (x ?? 0) > 0);
  return any(s.requests) || any(s.coldStarts) || Object.values(s.instances).some(any) || Object.values(s.coldStartStages.counts).some(any);
}

/** requests and errors per second: each step's count over the step's length */
export function requestRates(s: ServiceStatsView): ChartData {
  const per = (xs: number[]) => xs.map((x) => round(x / (s.stepSeconds || 1)));
  return { labels: ['Requests/s', '5xx/s'], columns: [s.t.slice(), per(s.requests), per(s.errors)] };
}

export function latency(s: ServiceStatsView): ChartData {
  return { labels: ['p50 ms', 'p99 ms'], columns: [s.t.slice(), s.p50Ms.slice(), s.p99Ms.slice()] };
}

export function instancesByPhase(s: ServiceStatsView): ChartData {
  const phases = Object.keys(s.instances).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return { labels: phases, columns: [s.t.slice(), ...phases.map((p) => s.instances[p]!.slice())] };
}

function rank(phase: string): number {
  const i = PHASE_ORDER.indexOf(phase);
  return i < 0 ? PHASE_ORDER.length : i;
}

/** "≤ 50 ms" for each bucket, and "> last" for the overflow bucket; `short`: "50ms", ">1s" (an axis) */
export function bucketLabels(boundsMs: readonly number[], short = false): string[] {
  const sp = short ? '' : ' ';
  const ms = (x: number) => (x >= 1000 ? `${Number((x / 1000).toFixed(2))}${sp}s` : `${Number(x.toFixed(2))}${sp}ms`);
  return [...boundsMs.map((b) => `${short ? '' : '≤ '}${ms(b)}`), boundsMs.length ? `>${sp}${ms(boundsMs.at(-1)!)}` : 'all'];
}

/** the stages the API answered, known ones in the order they happen, others after */
export function stagesOf(s: ServiceStatsView): string[] {
  const known = STAGES.filter((k) => k in s.coldStartStages.counts);
  return [...known, ...Object.keys(s.coldStartStages.counts).filter((k) => !(STAGES as readonly string[]).includes(k)).sort()];
}

/**
 * The cold-start histogram as grouped bars on one x scale: bucket b's group is centred on x = b, each
 * stage's bar offset within it by `width`. uPlot shares one x column among series, so every stage has
 * a value at its own positions and null at the others' (a bar is not drawn for null).
 */
export function coldStartBars(s: ServiceStatsView, width = 0.16): ChartData & { buckets: string[]; short: string[] } {
  const stages = stagesOf(s);
  const buckets = bucketLabels(s.coldStartStages.boundsMs);
  const x: number[] = [];
  const series: Column[] = stages.map(() => []);
  for (let b = 0; b < buckets.length; b++) {
    stages.forEach((stage, k) => {
      x.push(round(b + (k - (stages.length - 1) / 2) * width));
      series.forEach((col, j) => col.push(j === k ? (s.coldStartStages.counts[stage]?.[b] ?? 0) : null));
    });
  }
  return { labels: stages.map((k) => STAGE_LABELS[k] ?? k), columns: [x, ...series], buckets, short: bucketLabels(s.coldStartStages.boundsMs, true) };
}

/** the totals a person reads beside the charts: requests and cold starts in the window, worst p99 */
export function summary(s: ServiceStatsView): { requests: number; errors: number; coldStarts: number; worstP99Ms: number | undefined } {
  const sum = (xs: number[]) => xs.reduce((n, x) => n + x, 0);
  const p99 = s.p99Ms.filter((x): x is number => x !== null);
  return { requests: sum(s.requests), errors: sum(s.errors), coldStarts: sum(s.coldStarts), worstP99Ms: p99.length ? Math.max(...p99) : undefined };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
