// scheduler/metrics: a revision's scaling metric for one tick, as a total over its ready instances —
// request concurrency or rate from the gateway's sample, CPU (% of the instance's CPU limit, from the
// cgroup's CPU time since the previous tick), memory (% of the limit), or a custom gauge scraped from
// the app. The autoscaler divides it by its per-instance target.
import type { InstancePort, MetricScrapePort } from './ports.ts';
import type { RevisionState } from './revision-state.ts';

export async function metricOf(
  state: RevisionState,
  sample: { concurrency: number; arrivals: number },
  now: number,
  d: { instances: InstancePort; scrape: MetricScrapePort; tickMs: number },
): Promise<number> {
  const s = state.record.spec.scaling;
  switch (s.metric) {
    case 'concurrency':
      return sample.concurrency;
    case 'rps':
      return sample.arrivals / (d.tickMs / 1000);
    case 'custom': {
      const values = await Promise.all(state.ready().map((i) => d.scrape.scrape(i.address!, s.customMetric!.path, s.customMetric!.name)));
      return values.reduce<number>((a, v) => a + (v ?? 0), 0);
    }
    case 'cpu':
    case 'memory': {
      let total = 0;
      for (const inst of state.ready()) {
        const st = await d.instances.stats(inst.id);
        if (!st) continue;
        if (s.metric === 'memory') {
          total += (st.memoryBytes / state.record.spec.memoryBytes) * 100;
          continue;
        }
        const prev = state.cpuSeen.get(inst.id);
        state.cpuSeen.set(inst.id, { at: now, nanos: st.cpuNanos });
        if (prev && now > prev.at) total += ((st.cpuNanos - prev.nanos) / 1e6 / (now - prev.at) / state.record.spec.cpus) * 100;
      }
      return total;
    }
  }
}
