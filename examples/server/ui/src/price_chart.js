// A pool's clean price series as a uPlot chart: measured buckets as a solid line,
// interpolated ones as amber points on a dashed line, every gap as a shaded band
// (amber where interpolation filled it, red where it was too long and stays empty),
// and the on-demand price as a dashed reference.
import uPlot from 'uplot';
import { COLORS, dollarsAxis, utcAxis, utcDate, utcTimeSeries } from './chart.jsx';
import { parseTime } from './format.js';

const seconds = (text) => parseTime(text) / 1000;

// Shades the gaps behind the series.
function gapBands(gaps) {
  return (u) => {
    const { ctx, bbox } = u;
    ctx.save();
    for (const g of gaps) {
      const from = seconds(g.after) + (seconds(g.before) - seconds(g.after)) / (g.missing_buckets + 1);
      const x0 = Math.max(bbox.left, u.valToPos(from, 'x', true));
      const x1 = Math.min(bbox.left + bbox.width, u.valToPos(seconds(g.before), 'x', true));
      if (x1 <= x0) continue;
      ctx.fillStyle = g.filled ? COLORS.filledGap : COLORS.gap;
      ctx.fillRect(x0, bbox.top, Math.max(1, x1 - x0), bbox.height);
    }
    ctx.restore();
  };
}

export function priceChart({ points, gaps, onDemandMicros }) {
  const rows = points.map((p) => ({
    x: seconds(p.bucket_start),
    price: p.price_micros / 1e6,
    interpolated: p.source === 'interpolated',
  }));
  // A gap left empty must break the measured line: a null at its first missing bucket.
  for (const g of gaps) {
    if (g.filled) continue;
    const bucket = (seconds(g.before) - seconds(g.after)) / (g.missing_buckets + 1);
    rows.push({ x: seconds(g.after) + bucket, price: null, interpolated: false });
  }
  rows.sort((a, b) => a.x - b.x);
  const data = [
    rows.map((r) => r.x),
    rows.map((r) => (r.interpolated ? null : r.price)),
    rows.map((r) => (r.interpolated ? r.price : null)),
  ];
  const price = (u, v) => (v === null || v === undefined ? '—' : `$${v.toFixed(4)}/h`);
  const series = [
    utcTimeSeries,
    // A price holds until the next one: steps, not slopes.
    {
      label: 'Measured',
      stroke: COLORS.measured,
      width: 2,
      spanGaps: false,
      value: price,
      paths: uPlot.paths.stepped({ align: 1 }),
      points: { size: 4 },
    },
    {
      label: 'Interpolated',
      stroke: COLORS.interpolated,
      width: 1.5,
      dash: [4, 3],
      spanGaps: false,
      value: price,
      points: { show: true, size: 6, fill: '#fff', stroke: COLORS.interpolated },
    },
  ];
  if (onDemandMicros !== null && onDemandMicros !== undefined) {
    data.push(rows.map(() => onDemandMicros / 1e6));
    series.push({
      label: 'On-demand',
      stroke: COLORS.onDemand,
      width: 1,
      dash: [8, 4],
      value: price,
      points: { show: false },
    });
  }
  return {
    data,
    options: {
      tzDate: utcDate,
      series,
      axes: [utcAxis, dollarsAxis(4)],
      hooks: { drawClear: [gapBands(gaps)] },
    },
  };
}
