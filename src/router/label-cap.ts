import type { Counter } from 'prom-client';

/** Label values of the overflow series. */
export const OVERFLOW_LABEL = '_overflow_';
/**
 * Distinct label sets one metric keeps. Alerts come from the network: 50k distinct rule names would otherwise
 * be 50k series (an 8.6 MB scrape, +83 MB). Real deployments have a few hundred rules times a few hundred hosts
 * at most per scrape target; past the cap, new label sets share one overflow series.
 */
export const MAX_SERIES_PER_METRIC = 2000;

/** Caps a metric's label cardinality: the first `max` label sets as given, later new ones as one overflow series. */
export class LabelCap {
  private readonly seen = new Set<string>();
  private readonly metric: string;
  private readonly overflow: Counter<'metric'>;
  private readonly max: number;

  constructor(metric: string, overflow: Counter<'metric'>, max = MAX_SERIES_PER_METRIC) {
    this.metric = metric;
    this.overflow = overflow;
    this.max = max;
  }

  apply<L extends Record<string, string>>(labels: L): L {
    const key = Object.values(labels).join('\u0000');
    if (this.seen.has(key)) return labels;
    if (this.seen.size < this.max) {
      this.seen.add(key);
      return labels;
    }
    this.overflow.inc({ metric: this.metric });
    return Object.fromEntries(Object.keys(labels).map((k) => [k, OVERFLOW_LABEL])) as L;
  }
}
