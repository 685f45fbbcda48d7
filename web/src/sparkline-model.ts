// web/sparkline-model: the SVG path of a sparkline — pure, so it is tested without a browser
// (test/web/services-model.test.ts). Kept apart from sparkline.tsx, which only draws it.

/**
 * An SVG path drawing `values` left to right across `width`, 0 at the bottom and `max` at the top
 * (the largest value by default; series drawn together pass their common max). A null is a gap (a
 * step without requests has no latency): the line stops and starts again. A value alone between gaps
 * is drawn as a short flat stroke, so it shows. '' when there is nothing to draw.
 */
export function sparklinePath(values: ReadonlyArray<number | null>, width: number, height: number, max?: number): string {
  const top = max ?? Math.max(0, ...values.map((v) => v ?? 0));
  const n = values.length;
  if (n === 0) return '';
  const dx = n > 1 ? width / (n - 1) : 0;
  // a 1-unit margin keeps a line at 0 or at the max from being cut in half by the edge
  const y = (v: number) => round(top > 0 ? height - 1 - ((height - 2) * Math.min(v, top)) / top : height - 1);
  const parts: string[] = [];
  let open = false;
  values.forEach((v, i) => {
    if (v === null) {
      open = false;
      return;
    }
    const x = round(n > 1 ? i * dx : width / 2);
    const alone = !open && (i + 1 >= n || values[i + 1] === null);
    if (alone) parts.push(`M${round(Math.min(Math.max(0, x - LONE / 2), width - LONE))} ${y(v)}h${LONE}`);
    else parts.push(`${open ? 'L' : 'M'}${x} ${y(v)}`);
    open = !alone;
  });
  return parts.join('');
}

/** the length of a lone value's stroke, in the box's units */
const LONE = 3;
const round = (v: number) => Math.round(v * 10) / 10;
