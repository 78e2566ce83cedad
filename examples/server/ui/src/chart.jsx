// A uPlot chart that fills its container's width and follows it. uPlot draws on a
// canvas, which screen readers cannot read: `label` names the chart, and every page
// that shows one also shows its numbers as text.
import uPlot from 'uplot';
import { useEffect, useRef } from 'preact/hooks';

export const COLORS = {
  savings: '#15803d',
  cost: '#334155',
  baseline: '#94a3b8',
  measured: '#0f766e',
  interpolated: '#d97706',
  onDemand: '#64748b',
  gap: 'rgba(220, 38, 38, 0.10)',
  filledGap: 'rgba(217, 119, 6, 0.10)',
};

// Time scales split at UTC hours and midnights, whatever the browser's zone.
export const utcDate = (seconds) => uPlot.tzDate(new Date(seconds * 1e3), 'Etc/UTC');

// UTC times on the x axis, 24-hour: the date at midnight (and for steps of a day
// or more), the time of day otherwise.
export const utcAxis = {
  values: (u, splits) => {
    const step = splits.length > 1 ? splits[1] - splits[0] : 86400;
    return splits.map((s) => {
      const iso = new Date(s * 1000).toISOString();
      return step >= 86400 || iso.slice(11, 16) === '00:00' ? iso.slice(5, 10) : iso.slice(11, 16);
    });
  },
};
export const utcTimeSeries = {
  label: 'UTC',
  value: (u, s) => (s === null ? '—' : new Date(s * 1000).toISOString().slice(0, 16).replace('T', ' ')),
};

// Dollars on the y axis, with as many decimals as the steps between the labels
// need (at least `decimals`), whole dollars from $100 on.
export const dollarsAxis = (decimals) => ({
  values: (u, splits) => {
    const step = splits.length > 1 ? Math.abs(splits[1] - splits[0]) : 1;
    const needed = Math.min(6, Math.max(decimals, Math.ceil(-Math.log10(step))));
    const digits = Math.max(...splits.map(Math.abs)) >= 100 && step >= 1 ? 0 : needed;
    const format = new Intl.NumberFormat('en-US', {
      style: 'currency',
      currency: 'USD',
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    return splits.map((v) => format.format(v));
  },
  // Wide enough for the longest label.
  size: (u, values) => 16 + 8 * Math.max(4, ...(values ?? []).map((v) => v.length)),
});

export function Chart({ label, options, data, height = 260 }) {
  const box = useRef(null);
  useEffect(() => {
    const element = box.current;
    const plot = new uPlot({ ...options, width: element.clientWidth || 640, height }, data, element);
    let width = element.clientWidth;
    // Resize on the next frame, and only when the width really changed: resizing
    // inside the observer's callback would notify it again.
    const observer = new ResizeObserver(() => {
      requestAnimationFrame(() => {
        if (element.clientWidth !== width && element.clientWidth > 0) {
          width = element.clientWidth;
          plot.setSize({ width, height });
        }
      });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [options, data, height]);
  return <div class="chart" ref={box} role="img" aria-label={label} />;
}

// Money per labelled period (days, months) on an ordinal x axis, so one bar looks
// as good as thirty. Each series: {label, color, values (dollars), bars, dash}.
export function periodChart(labels, series) {
  const n = labels.length;
  return {
    scales: { x: { time: false, range: [-0.5, Math.max(n - 0.5, 0.5)] } },
    axes: [
      {
        splits: () => labels.map((_, i) => i),
        // Label every k-th period so the labels never collide.
        values: (u, splits) => {
          const room = Math.max(1, Math.floor(u.bbox.width / devicePixelRatio / 90));
          const every = Math.ceil(n / room);
          return splits.map((i) => (i % every === 0 ? labels[i] : ''));
        },
      },
      dollarsAxis(2),
    ],
    series: [
      { label: 'Period', value: (u, i) => (i === null ? '—' : labels[i]) },
      ...series.map((s) => ({
        label: s.label,
        stroke: s.color,
        fill: s.bars ? s.color : undefined,
        width: s.bars ? 0 : 2,
        dash: s.dash,
        paths: s.bars ? uPlot.paths.bars({ size: [0.6, 64] }) : undefined,
        points: { show: !s.bars && n <= 12 },
        value: (u, v) => (v === null || v === undefined ? '—' : `$${v.toFixed(2)}`),
      })),
    ],
  };
}
