import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { LabelCap } from './label-cap.ts';

/**
 * The router's Prometheus metrics. Falcosidekick's names are kept where they exist so existing
 * dashboards work; Peregrine's own names cover what Falcosidekick does not count (drops, retries, queues).
 */
export class RouterMetrics {
  readonly registry = new Registry();
  readonly inputs = new Counter({
    name: 'falcosecurity_falcosidekick_inputs_total', help: 'Alerts received, by input and status.',
    labelNames: ['source', 'status'], registers: [this.registry],
  });
  readonly falcoEvents = new Counter({
    name: 'falcosecurity_falcosidekick_falco_events_total', help: 'Accepted alerts by rule, priority and source.',
    labelNames: ['rule', 'priority_raw', 'source', 'hostname'], registers: [this.registry],
  });
  readonly seriesOverflow = new Counter({
    name: 'peregrine_metric_series_overflow_total', help: 'Increments counted in the overflow series ("_overflow_" labels) of a metric past its label-set cap.',
    labelNames: ['metric'], registers: [this.registry],
  });
  /** falco_events labels come from the network (rule, hostname, source): capped. */
  readonly falcoEventsCap = new LabelCap('falcosecurity_falcosidekick_falco_events_total', this.seriesOverflow);
  readonly outputs = new Counter({
    name: 'falcosecurity_falcosidekick_outputs_total', help: 'Deliveries per destination and status (ok|error).',
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
}
