// web/service-charts: the service's last hour — requests/s, p50/p99 latency, instances by phase, and
// the cold-start breakdown histogram — from GET /api/v1/services/NAME/stats?window=1h, read again every
// 10 s while the tab is shown and the browser tab visible. No answer yet (a daemon without the route,
// or a quiet service) is "No data yet", never an error page.
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { ServiceStatsView } from '../../src/core/views.ts';
import type { TabProps } from './pages/service.tsx';
import { Chart, barOptions, timeOptions } from './charts.tsx';
import { coldStartBars, hasData, instancesByPhase, latency, requestRates, stagesOf, summary } from './charts-model.ts';
import { getStats } from './service-api.ts';

const REFRESH_MS = 10_000;

type State = { kind: 'loading' } | { kind: 'none'; why: string } | { kind: 'data'; stats: ServiceStatsView; at: number } | { kind: 'error'; message: string };

export function ChartsTab(props: TabProps) {
  const name = props.service.name;
  const [state, setState] = useState<State>({ kind: 'loading' });

  useEffect(() => {
    const ac = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      timer = undefined;
      if (document.visibilityState === 'visible') {
        try {
          const r = await getStats(name, ac.signal);
          if (r.ok) setState(hasData(r.value) ? { kind: 'data', stats: r.value, at: Date.now() } : { kind: 'none', why: 'No requests, instances or cold starts in the last hour.' });
          else if (r.signedOut) return props.onSignedOut();
          // a daemon that does not have the stats route yet answers 404: nothing to draw, not a fault
          else if (r.status === 404 || r.status === 501) setState({ kind: 'none', why: 'This daemon does not report statistics yet.' });
          else setState((s) => (s.kind === 'data' ? s : { kind: 'error', message: r.message }));
        } catch {
          return; // aborted: the tab closed
        }
      }
      timer = setTimeout(() => void tick(), REFRESH_MS);
    };
    void tick();
    // coming back to a hidden browser tab: read now rather than up to 10 s later
    const onVisible = () => {
      if (document.visibilityState === 'visible' && timer) {
        clearTimeout(timer);
        void tick();
      }
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      ac.abort();
      if (timer) clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [name]);

  if (state.kind === 'loading') return <p class="muted" role="status">Loading charts…</p>;
  if (state.kind === 'error') return <p class="error" role="alert">{state.message}</p>;
  if (state.kind === 'none') return <div class="charts" data-has-data="false"><p class="empty"><strong>No data yet.</strong> {state.why} Send the service some requests; the charts refresh every 10 seconds.</p></div>;
  return <ChartsOf stats={state.stats} at={state.at} />;
}

function ChartsOf(props: { stats: ServiceStatsView; at: number }) {
  const s = props.stats;
  const data = useMemo(() => ({ rates: requestRates(s), latency: latency(s), instances: instancesByPhase(s), cold: coldStartBars(s), sum: summary(s) }), [s]);
  const stageOpts = useMemo(() => barOptions(data.cold.labels, data.cold.buckets, 'cold starts', data.cold.short), [data.cold.labels.join(), data.cold.buckets.join()]);
  const rateOpts = useMemo(() => timeOptions(data.rates.labels, 'per second'), []);
  const latOpts = useMemo(() => timeOptions(data.latency.labels, 'ms'), []);
  const instOpts = useMemo(() => timeOptions(data.instances.labels, 'instances', { stepped: true }), [data.instances.labels.join()]);
  const { sum } = data;
  const stages = stagesOf(s);
  return (
    <div class="charts" data-has-data="true">
      <p class="muted" role="status">
        Last hour, {s.stepSeconds}-second steps: {sum.requests} {sum.requests === 1 ? 'request' : 'requests'} ({sum.errors} 5xx), {sum.coldStarts} cold {sum.coldStarts === 1 ? 'start' : 'starts'}
        {sum.worstP99Ms !== undefined && `, worst p99 ${Math.round(sum.worstP99Ms)} ms`}. Updated {new Date(props.at).toLocaleTimeString()}.
      </p>
      <div class="chart-grid">
        <figure>
          <figcaption>Requests per second</figcaption>
          <Chart options={rateOpts} data={data.rates} label={`Requests per second over the last hour: ${sum.requests} requests, ${sum.errors} answered 5xx`} />
        </figure>
        <figure>
          <figcaption>Latency, p50 and p99 (ms)</figcaption>
          <Chart options={latOpts} data={data.latency} label={`Latency percentiles over the last hour${sum.worstP99Ms !== undefined ? `; worst p99 ${Math.round(sum.worstP99Ms)} ms` : ''}`} />
        </figure>
        <figure>
          <figcaption>Instances by phase</figcaption>
          <Chart options={instOpts} data={data.instances} label={`Instances over the last hour by phase: ${data.instances.labels.join(', ') || 'none'}`} />
        </figure>
        <figure>
          <figcaption>Cold-start breakdown: how long each stage took</figcaption>
          <Chart options={stageOpts} data={data.cold} label="Cold starts by stage duration; the table below has the counts" />
          <details>
            <summary>Counts as a table</summary>
            <div class="scroll-x">
              <table class="svc-plain">
                <thead><tr><th scope="col">Stage</th>{data.cold.buckets.map((b) => <th scope="col">{b}</th>)}</tr></thead>
                <tbody>
                  {stages.map((k, i) => (
                    <tr><th scope="row">{data.cold.labels[i] ?? k}</th>{data.cold.buckets.map((_, b) => <td>{s.coldStartStages.counts[k]?.[b] ?? 0}</td>)}</tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
        </figure>
      </div>
    </div>
  );
}
