// daemon/service-stats-wiring: the per-service history of GET /api/v1/services/NAME/stats (and, coarser,
// of GET /api/v1/stats/services)
// (serving/service-stats.ts) plugged into what it reads, once per step (settings.stats.stepMs, 10 s):
//   gateway pools' RequestStats (requests, 5xx, latency buckets: what skiff_gateway_request_duration_seconds shows) ─┐
//   scheduler.metrics() (each revision's service, instances by phase) ──────────────────────────────────────────────┼─► ServiceStats
//   ColdStartStats (cold starts by source, stage histograms) ────────────────────────────────────────────────────────┘
// The timer is aligned to step boundaries, so every service's columns end at the same times. In
// memory only: a restart starts the history over.
import type { Clock } from '../core/clock.ts';
import { SkiffError } from '../core/errors.ts';
import type { ServiceStatsView, ServicesStatsView } from '../core/views.ts';
import { LATENCY_BOUNDS_S, STATUS_CLASSES } from '../gateway/request-stats.ts';
import { STAGES } from '../scheduler/cold-start-stats.ts';
import { ServiceStats, type RevisionReading } from '../serving/service-stats.ts';
import { COLD_START_BOUND_INDEXES } from './metrics.ts';
import type { ServingPlane } from './serving-wiring.ts';

/** history kept per service: the longest window the API offers */
export const STATS_KEEP_MS = 6 * 3600_000;
/** the windows GET …/stats takes */
export const STATS_WINDOWS: Record<string, number> = { '15m': 15 * 60_000, '1h': 3600_000, '6h': STATS_KEEP_MS };
/** the Services list's sparklines: at most this many points per service, whatever the window (500
 *  services × 3 columns of 360 steps would be a large answer for a line 6 rem wide) */
export const SUMMARY_POINTS = 60;

const PHASES = ['ready', 'starting', 'frozen', 'draining', 'pre-created'];
const FIVE_XX = STATUS_CLASSES.indexOf('5xx');
/** the cold-start histogram's fine buckets (√2 apart, scheduler/cold-start-stats.ts) shown a factor 2 apart, 1.6 ms to 210 s, as the metrics export them */
const STAGE_BOUNDS_MS = COLD_START_BOUND_INDEXES.map((k) => Number((0.05 * Math.SQRT2 ** k).toPrecision(3)));
/** fine bucket index → the coarse bucket holding it */
const COARSE_OF = (fine: number) => {
  const j = COLD_START_BOUND_INDEXES.findIndex((k) => k >= fine);
  return j < 0 ? COLD_START_BOUND_INDEXES.length : j;
};

export interface ServiceStatsPlane {
  stats(name: string, window: string): Promise<ServiceStatsView>;
  /** the Services list's line of each of `services` (those the caller may see, with their projects) */
  summaries(services: ReadonlyArray<{ name: string; project: string }>, window: string): ServicesStatsView;
  /** takes one sample now (tests) */
  sample(): void;
  stop(): void;
}

export function startServiceStats(d: { serving: Pick<ServingPlane, 'gateway' | 'coldStarts' | 'revisionMetrics'>; exists: (service: string) => Promise<boolean>; clock: Clock; stepMs: number }): ServiceStatsPlane {
  const stats = new ServiceStats({ stepMs: d.stepMs, keepMs: STATS_KEEP_MS, latencyBoundsMs: LATENCY_BOUNDS_S.map((s) => s * 1000), stageBoundsMs: STAGE_BOUNDS_MS, phases: PHASES, stages: [...STAGES] });
  const sample = () => stats.sample(d.clock.now(), readings(d.serving));
  // At each step boundary, each wait measured from now: an interval timer would carry each tick's
  // lateness into the next and drift off the steps over hours. A sample that throws loses its step,
  // not the sampling after it.
  let stopped = false;
  const nextStep = () => d.clock.after(d.stepMs - (d.clock.now() % d.stepMs), tick);
  const tick = () => {
    try {
      sample();
    } catch {
      // a reading that fails (a revision removed mid-read) shows as a step without data
    } finally {
      if (!stopped) cancel = nextStep();
    }
  };
  let cancel = nextStep();
  return {
    async stats(name, window) {
      const windowMs = windowOf(window);
      if (!(await d.exists(name))) throw new SkiffError('NOT_FOUND', `no service named ${name}`);
      return { service: name, ...stats.view(name, d.clock.now(), windowMs) };
    },
    summaries(services, window) {
      const windowMs = windowOf(window);
      const axis = stats.summaryAxis(d.clock.now(), windowMs, SUMMARY_POINTS);
      return { stepSeconds: axis.stepSeconds, t: axis.t, services: services.map((s) => ({ name: s.name, project: s.project, ...stats.summary(s.name, axis) })) };
    },
    sample,
    stop: () => {
      stopped = true;
      cancel();
    },
  };
}

function windowOf(window: string): number {
  const windowMs = STATS_WINDOWS[window];
  if (windowMs === undefined) throw new SkiffError('BAD_REQUEST', `window: expected one of ${Object.keys(STATS_WINDOWS).join(', ')}, got ${JSON.stringify(window)}`);
  return windowMs;
}

/** Every revision the scheduler serves, with its gateway and cold-start counters. */
function* readings(serving: Pick<ServingPlane, 'gateway' | 'coldStarts' | 'revisionMetrics'>): Iterable<RevisionReading> {
  for (const r of serving.revisionMetrics()) {
    const req = serving.gateway.pool(r.revision)?.requests;
    const cold = serving.coldStarts.get(r.revision);
    let stages: Record<string, number[]> | undefined;
    if (cold) {
      stages = {};
      for (const stage of STAGES) {
        const coarse = new Array<number>(STAGE_BOUNDS_MS.length + 1).fill(0);
        cold.stages[stage].buckets.forEach((n, i) => n > 0 && (coarse[COARSE_OF(i)]! += n));
        stages[stage] = coarse;
      }
    }
    yield {
      service: r.service,
      revision: r.revision,
      requests: req?.count ?? 0,
      errors: req?.byClass[FIVE_XX] ?? 0,
      latency: req?.buckets ?? [],
      coldStarts: cold ? cold.bySource.created + cold.bySource.pool + cold.bySource.thawed : 0,
      stages,
      instances: r.phases,
    };
  }
}
