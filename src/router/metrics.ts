import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { LabelCap } from './label-cap.ts';
import type { FalcoAlert } from '../alert/alert.ts';
import { priorityRank } from '../alert/priority.ts';
import { registerProcessMetrics } from './process-metrics.ts';

/** What decides the labels of falco_events_total, as in Falcosidekick. */
export interface FalcoEventLabelConfig {
  customfields: Record<string, string>;
  templatedfields: Record<string, string>;
  prometheus: { extralabels: string };
}

const FIXED_EVENT_LABELS = ['hostname', 'rule', 'priority', 'priority_raw', 'source', 'k8s_ns_name', 'k8s_pod_name'];
// Falcosidekick's check is ^[a-zA-Z_:][a-zA-Z0-9_:]*$; prom-client also refuses ":" in label names.
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Falcosidekick's falco_events_total labels: hostname ("unknown" if empty), rule, priority (0-8 as text),
 * priority_raw (lower-case name), source, k8s_ns_name, k8s_pod_name, then one label per custom field,
 * templated field and prometheus.extralabels entry, named with "." replaced by "_" (names that are
 * still not valid label names are left out, as there).
 */
export function falcoEventLabels(cfg: FalcoEventLabelConfig): { names: string[]; skipped: string[]; of(alert: FalcoAlert): Record<string, string> } {
  const names = [...FIXED_EVENT_LABELS];
  const skipped: string[] = [];
  const add = (field: string): string | undefined => {
    const name = field.replaceAll('.', '_');
    if (!LABEL_NAME.test(name) || name.startsWith('__')) { skipped.push(field); return undefined; }
    if (!names.includes(name)) names.push(name);
    return name;
  };
  const custom = Object.entries(cfg.customfields).flatMap(([k, v]) => { const n = add(k); return n ? [[n, v] as const] : []; });
  const templated = Object.keys(cfg.templatedfields).flatMap((k) => { const n = add(k); return n ? [[n, k] as const] : []; });
  const extra = cfg.prometheus.extralabels.split(',').map((s) => s.trim()).filter(Boolean)
    .flatMap((k) => { const n = add(k); return n ? [[n, k] as const] : []; });
  return {
    names, skipped,
    of(alert) {
      const f = alert.output_fields;
      const labels: Record<string, string> = {
        hostname: alert.hostname || 'unknown', rule: alert.rule, priority: String(priorityRank(alert.priority)),
        priority_raw: alert.priority, source: alert.source,
        k8s_ns_name: text(f['k8s.ns.name']), k8s_pod_name: text(f['k8s.pod.name']),
      };
      for (const [n, v] of custom) labels[n] = v;
      for (const [n, k] of templated) labels[n] = f[k] === undefined ? '<nil>' : String(f[k]);
      for (const [n, k] of extra) labels[n] = typeof f[k] === 'string' ? (f[k] as string) : '';
      return labels;
    },
  };
}

function text(v: unknown): string {
  return v === null || v === undefined ? '' : String(v);
}

/**
 * The router's Prometheus metrics. Falcosidekick's names are kept where they exist so existing
 * dashboards work; Peregrine's own names cover what Falcosidekick does not count (drops, retries, queues).
 */
export class RouterMetrics {
  readonly registry = new Registry();
  /** Labels of falco_events_total for one alert. */
  readonly falcoEventLabels: (alert: FalcoAlert) => Record<string, string>;
  /** Fields configured as labels that cannot be label names. */
  readonly skippedLabelFields: readonly string[];
  readonly inputs = new Counter({
    name: 'falcosecurity_falcosidekick_inputs_total', help: 'Alerts received, by input and status.',
    labelNames: ['source', 'status'], registers: [this.registry],
  });
  readonly falcoEvents: Counter;
  readonly seriesOverflow = new Counter({
    name: 'peregrine_metric_series_overflow_total', help: 'Increments counted in the overflow series ("_overflow_" labels) of a metric past its label-set cap.',
    labelNames: ['metric'], registers: [this.registry],
  });
  /** falco_events labels come from the network (rule, hostname, source): capped. */
  readonly falcoEventsCap = new LabelCap('falcosecurity_falcosidekick_falco_events_total', this.seriesOverflow);
  readonly outputs = new Counter({
    name: 'falcosecurity_falcosidekick_outputs_total', help: 'Alerts per destination: ok = delivered, error = one per alert per failed attempt.',
    labelNames: ['destination', 'status'], registers: [this.registry],
  });
  readonly alerts = new Counter({
    name: 'peregrine_output_alerts_total', help: 'Alerts per output instance by result: sent, failed (gave up), dropped (queue full).',
    labelNames: ['output', 'type', 'result'], registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'peregrine_output_retries_total', help: 'Send attempts retried after a failure.',
    labelNames: ['output', 'type'], registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'peregrine_output_queue_depth', help: 'Alerts this output has not delivered yet (in flight and in the spool).',
    labelNames: ['output', 'type'], registers: [this.registry],
  });
  readonly deadLetters = new Counter({
    name: 'peregrine_output_deadletters_total', help: 'Alerts moved to the dead-letter log (retries exhausted, or an error a retry cannot fix).',
    labelNames: ['output', 'type'], registers: [this.registry],
  });
  readonly alreadyDelivered = new Counter({
    name: 'peregrine_output_redelivery_skipped_total', help: 'Alerts not sent again after a restart: the previous run had delivered them (saved beyond its cursor).',
    labelNames: ['output', 'type'], registers: [this.registry],
  });
  readonly oldestUnsent = new Gauge({
    name: 'peregrine_output_oldest_unsent_seconds', help: 'Age of the oldest alert this output has not delivered yet (0 when caught up).',
    labelNames: ['output', 'type'], registers: [this.registry],
  });
  readonly concurrency = new Gauge({
    name: 'peregrine_output_concurrency', help: 'Sends this output may have in flight now (adaptive for HTTP outputs).',
    labelNames: ['output', 'type'], registers: [this.registry],
  });
  readonly spoolBytes = new Gauge({ name: 'peregrine_spool_bytes', help: 'Bytes the spool occupies on disk.', registers: [this.registry] });
  readonly spoolMaxBytes = new Gauge({ name: 'peregrine_spool_max_bytes', help: 'spool.maxbytes.', registers: [this.registry] });
  readonly spoolRecords = new Gauge({ name: 'peregrine_spool_records', help: 'Alerts kept in the spool.', registers: [this.registry] });
  readonly spoolRejected = new Counter({
    name: 'peregrine_spool_rejected_total', help: 'Alerts refused because the spool was full (whenfull: reject; HTTP 503).', registers: [this.registry],
  });
  readonly spoolDropped = new Counter({
    name: 'peregrine_spool_dropped_total', help: 'Alerts dropped unsent to make room in a full spool (whenfull: drop_oldest).', registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'peregrine_output_delivery_seconds', help: 'From acceptance by the router to acknowledgement by the destination.',
    labelNames: ['output', 'type'], registers: [this.registry],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  });
  /** Falcosidekick's promhttp counts scrapes of /metrics by status code (200, 500, 503 start at 0). */
  readonly scrapes = new Counter({
    name: 'promhttp_metric_handler_requests_total', help: 'Total number of scrapes by HTTP status code.',
    labelNames: ['code'], registers: [this.registry],
  });
  readonly scrapesInFlight = new Gauge({
    name: 'promhttp_metric_handler_requests_in_flight', help: 'Current number of scrapes being served.', registers: [this.registry],
  });

  /** processMetrics false: no process/GC collectors (a throwaway instance, e.g. the start-up warm-up's). */
  constructor(labels: FalcoEventLabelConfig = { customfields: {}, templatedfields: {}, prometheus: { extralabels: '' } },
    opts: { processMetrics?: boolean } = {}) {
    const event = falcoEventLabels(labels);
    this.falcoEventLabels = event.of;
    this.skippedLabelFields = event.skipped;
    this.falcoEvents = new Counter({
      name: 'falcosecurity_falcosidekick_falco_events_total', help: 'Accepted alerts, labelled as Falcosidekick labels them.',
      labelNames: event.names, registers: [this.registry],
    });
    for (const code of ['200', '500', '503']) this.scrapes.inc({ code }, 0);
    if (opts.processMetrics !== false) registerProcessMetrics(this.registry);
  }

  /** The /metrics body, counting the scrape as promhttp does. */
  async scrape(): Promise<string> {
    this.scrapesInFlight.inc();
    try {
      const text = await this.registry.metrics();
      this.scrapes.inc({ code: '200' });
      return text;
    } catch (err) {
      this.scrapes.inc({ code: '500' });
      throw err;
    } finally {
      this.scrapesInFlight.dec();
    }
  }
}
