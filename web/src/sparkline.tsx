// web/sparkline: a tiny inline SVG line chart for a table cell — one or more series on one scale, no
// axes. It is an image with a text alternative (`label`: what a reader should learn, e.g. "peak
// 3.2/s, now 0.5/s"), since the drawing says nothing to a screen reader. Colours come from classes
// (styles.css), not style attributes: the CSP allows no inline style.
import { sparklinePath } from './sparkline-model.ts';

const WIDTH = 96;
const HEIGHT = 24;

export function Sparkline(props: { series: ReadonlyArray<ReadonlyArray<number | null>>; label: string; classes?: readonly string[] }) {
  const max = Math.max(0, ...props.series.flatMap((s) => s.map((v) => v ?? 0)));
  return (
    <svg class="sparkline" role="img" aria-label={props.label} viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" focusable="false">
      {/* the zero line: shows the chart's extent when there is little or nothing on it */}
      <path class="spark-base" d={`M0 ${HEIGHT - 0.5}H${WIDTH}`} vector-effect="non-scaling-stroke" />
      {props.series.map((values, i) => (
        <path class={props.classes?.[i] ?? 'spark-line'} d={sparklinePath(values, WIDTH, HEIGHT, max)} vector-effect="non-scaling-stroke" />
      ))}
    </svg>
  );
}
