// web/charts: a uPlot chart as a Preact component, and the option sets the service charts use. uPlot
// draws on a canvas and sets its few styles through the CSSOM (element.style), which the daemon's CSP
// (style-src 'self', no inline <style>) allows; its stylesheet is bundled into main-HASH.css from here.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ChartData } from './charts-model.ts';

/** series colours, each at least 4.5:1 on white (the legend's text and the lines alike) */
export const COLOURS = ['#0a58ca', '#b3261e', '#1b7a3a', '#8a4b00', '#6f42c1', '#005f73'];
const AXIS = { stroke: '#505a66', grid: { stroke: '#e3e7ec', width: 1 }, ticks: { stroke: '#c9d1d9', width: 1 } };
const HEIGHT = 220;

export type Options = Omit<uPlot.Options, 'width' | 'height'>;

/** A chart filling its container's width; redrawn with new data in place, rebuilt when the series change. */
export function Chart(props: { options: Options; data: ChartData; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const shape = props.data.labels.join('\n');

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = () => Math.max(240, el.clientWidth);
    const u = new uPlot({ ...props.options, width: width(), height: HEIGHT }, props.data.columns as uPlot.AlignedData, el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: width(), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = undefined;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(props.data.columns as uPlot.AlignedData);
  }, [props.data]);

  // the canvas says nothing to a screen reader: the label (with the figure's caption) does
  return <div class="chart" ref={box} role="img" aria-label={props.label} />;
}

/** A time series chart (x: unix seconds) of the labelled series, one y axis in `unit`. */
export function timeOptions(labels: string[], unit: string, opts: { stepped?: boolean } = {}): Options {
  return {
    scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(max, min, 1) * 1.1] } },
    axes: [{ ...AXIS }, { ...AXIS, label: unit, size: 56, values: (_u, ticks) => ticks.map((t) => fmt(t)) }],
    series: [
      {},
      ...labels.map((label, i) => ({
        label,
        stroke: COLOURS[i % COLOURS.length]!,
        width: 2,
        spanGaps: false,
        value: (_u: uPlot, v: number | null) => (v === null ? '—' : fmt(v)),
        // a line needs two neighbouring values: where there are few (a service that just got its
        // first requests), each value is drawn as a dot as well
        points: { show: sparse },
        ...(opts.stepped ? { paths: uPlot.paths.stepped!({ align: 1 }) } : {}),
      })),
    ],
    cursor: { drag: { x: false, y: false } },
  };
}

/** true when the series has fewer than 30 values in view: drawn with dots */
function sparse(u: uPlot, seriesIdx: number): boolean {
  const ys = u.data[seriesIdx] ?? [];
  let n = 0;
  for (const y of ys) if (y !== null && y !== undefined && ++n >= 30) return false;
  return true;
}

/** Grouped bars on an index x scale (charts-model coldStartBars): bucket b's label under x = b, only
 *  every k-th bucket labelled when there is not room for all (a label needs about 52 px). */
export function barOptions(labels: string[], buckets: string[], unit: string, axisLabels = buckets): Options {
  const bars = uPlot.paths.bars!({ size: [0.9, 60], align: 0 });
  const idx = buckets.map((_, i) => i);
  const every = (u: uPlot) => Math.max(1, Math.ceil((buckets.length * 52) / Math.max(1, u.bbox.width / devicePixelRatio)));
  return {
    scales: { x: { time: false, range: () => [-0.5, buckets.length - 0.5] }, y: { range: (_u, _min, max) => [0, Math.max(max, 1) * 1.1] } },
    axes: [
      { ...AXIS, splits: () => idx, values: (u, ticks) => { const k = every(u); return ticks.map((t) => (Math.round(t) % k === 0 ? axisLabels[Math.round(t)] ?? '' : '')); }, grid: { show: false } },
      { ...AXIS, label: unit, size: 48, values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? String(t) : '')) },
    ],
    series: [
      { value: (_u, v) => (v === null ? '' : buckets[Math.round(v)] ?? '') },
      ...labels.map((label, i) => ({ label, fill: COLOURS[i % COLOURS.length]!, stroke: COLOURS[i % COLOURS.length]!, width: 0, paths: bars, points: { show: false } })),
    ],
    legend: { live: false },
    cursor: { drag: { x: false, y: false }, points: { show: false } },
  };
}

function fmt(v: number): string {
  if (v >= 1000) return `${Number((v / 1000).toFixed(1))}k`;
  return String(Number(v.toFixed(v < 10 ? 2 : 1)));
}
