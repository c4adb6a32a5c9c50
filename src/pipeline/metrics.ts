import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * The detector's Prometheus metrics, registered in the router's registry so one /metrics shows both.
 * Hot-path counts are plain numbers copied into the metrics on scrape: a prom-client label lookup per
 * event would cost more than evaluating most rules.
 */
export class DetectorMetrics {
  /** Events evaluated, by source (syscall, k8s_audit). */
  readonly eventCounts = new Map<string, number>();
  readonly evaluationErrors = { count: 0 };
  private readonly alerts: Counter<'rule' | 'priority' | 'source'>;
  private readonly rate: Gauge<'source'>;
  private last = { at: performance.now(), counts: new Map<string, number>() };

  constructor(registry: Registry, captureStats?: () => Record<string, number> | undefined) {
    const counts = this.eventCounts;
    const errors = this.evaluationErrors;
    new Counter({
      name: 'peregrine_events_total', help: 'Events evaluated by the rule engine, by source.', labelNames: ['source'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [source, n] of counts) this.inc({ source }, n);
      },
    });
    new Counter({
      name: 'peregrine_evaluation_errors_total', help: 'Events whose evaluation threw (the event is skipped, the rest go on).',
      registers: [registry],
      collect() { this.reset(); this.inc(errors.count); },
    });
    const updateRate = () => this.updateRate();
    // Computed on scrape so an idle agent does no timer work.
    this.rate = new Gauge({
      name: 'peregrine_events_per_second', help: 'Events evaluated per second since the previous scrape, by source.',
      labelNames: ['source'], registers: [registry], collect: updateRate,
    });
    this.alerts = new Counter({ name: 'peregrine_alerts_total', help: 'Alerts raised by the detector, by rule, priority and source.', labelNames: ['rule', 'priority', 'source'], registers: [registry] });
    if (captureStats) {
      new Gauge({
        name: 'peregrine_capture_total', help: 'Kernel capture counters by kind: events sent, and drops per cause (ringbuf_full …).',
        labelNames: ['kind'], registers: [registry],
        collect() {
          const stats = captureStats();
          if (stats) for (const [kind, n] of Object.entries(stats)) this.set({ kind }, n);
        },
      });
    }
  }

  countEvent(source: string): void {
    this.eventCounts.set(source, (this.eventCounts.get(source) ?? 0) + 1);
  }

  countAlert(rule: string, priority: string, source: string): void {
    this.alerts.inc({ rule, priority, source });
  }

  private updateRate(): void {
    const now = performance.now();
    const secs = (now - this.last.at) / 1000;
    for (const [source, n] of this.eventCounts) {
      const before = this.last.counts.get(source) ?? 0;
      this.rate.set({ source }, secs > 0 ? (n - before) / secs : 0);
    }
    this.last = { at: now, counts: new Map(this.eventCounts) };
  }
}
