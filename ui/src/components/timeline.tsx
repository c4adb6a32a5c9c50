import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import type { Bucket } from '../api.ts';

/** Priority groups stacked in the timeline, highest first, with their colours (CSS variables). */
const GROUPS: { label: string; members: string[]; color: string }[] = [
  { label: 'critical+', members: ['emergency', 'alert', 'critical'], color: '--p-critical' },
  { label: 'error', members: ['error'], color: '--p-error' },
  { label: 'warning', members: ['warning'], color: '--p-warning' },
  { label: 'notice', members: ['notice'], color: '--p-notice' },
  { label: 'info/debug', members: ['informational', 'debug'], color: '--p-info' },
];

/**
 * Alerts over time as stacked bars per priority group (uPlot draws each series from zero, so the
 * series carry cumulative sums and the tallest is drawn first). Dragging across the chart selects a range.
 */
export function Timeline({ buckets, bucketMs, from, to, onSelect }: {
  buckets: Bucket[]; bucketMs: number; from?: number; to?: number; onSelect?: (from: number, to: number) => void;
}) {
  const el = useRef<HTMLDivElement>(null);
  const theme = useThemeName();
  useEffect(() => {
    const box = el.current;
    if (!box) return;
    const css = getComputedStyle(document.documentElement);
    const start = from !== undefined ? Math.floor(from / bucketMs) * bucketMs : buckets[0]?.t ?? Date.now() - bucketMs;
    const end = to ?? Date.now();
    const xs: number[] = [];
    for (let t = start; t <= end; t += bucketMs) xs.push(t / 1000);
    const index = new Map(buckets.map((b) => [b.t, b]));
    const stacked = GROUPS.map(() => new Array<number>(xs.length).fill(0));
    xs.forEach((x, i) => {
      const b = index.get(x * 1000);
      let sum = 0;
      for (let g = GROUPS.length - 1; g >= 0; g--) {
        sum += GROUPS[g]!.members.reduce((s, m) => s + (b?.byPriority[m] ?? 0), 0);
        stacked[g]![i] = sum;
      }
    });
    const bars = uPlot.paths.bars!({ size: [0.9, 40], align: 1 });
    const opts: uPlot.Options = {
      width: box.clientWidth,
      height: 220,
      cursor: { drag: { x: true, y: false } },
      legend: { show: true },
      scales: { x: { time: true } },
      axes: [
        { stroke: css.getPropertyValue('--muted'), grid: { stroke: css.getPropertyValue('--grid') } },
        { stroke: css.getPropertyValue('--muted'), grid: { stroke: css.getPropertyValue('--grid') }, size: 50 },
      ],
      series: [{}, ...GROUPS.map((g, i) => ({
        label: g.label, fill: css.getPropertyValue(g.color).trim(), stroke: css.getPropertyValue(g.color).trim(), width: 0,
        paths: bars, points: { show: false },
        value: (_u: uPlot, _v: number | null, _s: number, idx: number | null) =>
          idx === null ? '–' : String(stacked[i]![idx]! - (stacked[i + 1]?.[idx] ?? 0)),
      }))],
      hooks: {
        setSelect: [(u) => {
          if (!onSelect || u.select.width < 5) return;
          const a = u.posToVal(u.select.left, 'x') * 1000;
          const b = u.posToVal(u.select.left + u.select.width, 'x') * 1000;
          onSelect(Math.floor(a), Math.ceil(b));
        }],
      },
    };
    const plot = new uPlot(opts, [xs, ...stacked] as uPlot.AlignedData, box);
    const resize = new ResizeObserver(() => plot.setSize({ width: box.clientWidth, height: 220 }));
    resize.observe(box);
    return () => { resize.disconnect(); plot.destroy(); };
  }, [buckets, bucketMs, from, to, theme]);
  return <div class="timeline" data-testid="timeline" ref={el} />;
}

/** The theme in force (data-theme on <html>), so the canvas is redrawn in the new colours when it changes. */
function useThemeName(): string {
  const [theme, setTheme] = useState(document.documentElement.dataset.theme ?? '');
  useEffect(() => {
    const watch = new MutationObserver(() => setTheme(document.documentElement.dataset.theme ?? ''));
    watch.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => watch.disconnect();
  }, []);
  return theme;
}
