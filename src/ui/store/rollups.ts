/**
 * Pre-aggregated alert counts. Each rollup counts alerts per time bucket of `grainMs` and per value of its
 * dimensions; a count or histogram whose filter and grouping use only those dimensions reads the rollup
 * (a few thousand rows) instead of the alerts (millions). Ordered smallest first: the first one that fits
 * a query answers it.
 */
export interface Rollup {
  table: string;
  grainMs: number;
  /** Columns of `alerts` kept (`tag` comes from alert_tags: one row per tag of an alert). */
  dims: readonly Dim[];
}

export type Dim = 'p' | 'rule' | 'source' | 'host' | 'container' | 'tag';

const MINUTE = 60_000;
const HOUR = 3_600_000;

export const ROLLUPS: readonly Rollup[] = [
  { table: 'rollup_hour_p', grainMs: HOUR, dims: ['p'] },
  { table: 'rollup_hour_tag', grainMs: HOUR, dims: ['p', 'tag'] },
  { table: 'rollup_hour', grainMs: HOUR, dims: ['p', 'rule', 'source', 'host'] },
  // Histograms of a few hours use 5-minute bars; shorter ranges read the alerts (a few thousand rows).
  { table: 'rollup_5min_p', grainMs: 5 * MINUTE, dims: ['p'] },
];

export function rollupDdl(): string {
  return ROLLUPS.map((r) => `CREATE TABLE IF NOT EXISTS ${r.table} (b INTEGER NOT NULL, ${r.dims.map((d) => `${d} INTEGER NOT NULL`).join(', ')},
  n INTEGER NOT NULL, PRIMARY KEY (b, ${r.dims.join(', ')})) WITHOUT ROWID;`).join('\n');
}

/**
 * The first rollup holding every dimension the query filters on or groups by, whose buckets fit the
 * histogram's (when there is one); undefined when only the alerts can answer.
 */
export function chooseRollup(needed: ReadonlySet<Dim>, bucketMs?: number): Rollup | undefined {
  return ROLLUPS.find((r) => [...needed].every((d) => r.dims.includes(d)) && (bucketMs === undefined || bucketMs % r.grainMs === 0));
}

/**
 * Splits a time range into whole buckets of `grainMs` (answered by a rollup) and the partial buckets at its
 * ends (answered by the alerts themselves).
 */
export function rangeParts(from: number | undefined, to: number | undefined, grainMs: number):
  { edges: { from: number; to: number }[]; bFrom?: number; bTo?: number } {
  const edges: { from: number; to: number }[] = [];
  let bFrom: number | undefined;
  let bTo: number | undefined;
  if (from !== undefined) {
    bFrom = Math.ceil(from / grainMs);
    const end = Math.min(bFrom * grainMs, to ?? Infinity);
    if (end > from) edges.push({ from, to: end });
  }
  if (to !== undefined) {
    bTo = Math.floor(to / grainMs);
    if (bFrom !== undefined && bTo < bFrom) return { edges, bFrom, bTo: bFrom }; // inside one bucket: the first edge covers it
    const start = bTo * grainMs;
    if (to > start) edges.push({ from: start, to });
  }
  return { edges, bFrom, bTo };
}
