import type { EngineEvent } from '../engine/event.ts';
import type { CompiledRule } from '../engine/rule.ts';
import type { Logger } from '../log.ts';
import type { DetectorMetrics } from './metrics.ts';

/** The fields of a Falco JSON alert the pipeline itself reads; the rest is passed through as built. */
export interface EmittedAlert {
  output: string;
  rule: string;
  priority: string;
  source: string;
}

export interface DetectorDeps {
  evaluate(event: EngineEvent): readonly CompiledRule[];
  /** Renders one match into Falco's alert JSON (output text, output_fields, time …). */
  toAlert(rule: CompiledRule, event: EngineEvent): EmittedAlert;
  emit(alert: EmittedAlert): void;
  metrics: DetectorMetrics;
  log: Logger;
}

/**
 * Events in, alerts out. A rule or field that throws on one event costs that event only: it is counted,
 * logged at most once a minute, and evaluation goes on with the next event.
 */
export function createDetector(deps: DetectorDeps): { process(events: readonly EngineEvent[]): number } {
  let lastErrorLog = -Infinity;
  function failed(event: EngineEvent, err: unknown): void {
    deps.metrics.evaluationErrors.count++;
    const now = performance.now();
    if (now - lastErrorLog < 60_000) return;
    lastErrorLog = now;
    deps.log.error({ err: (err as Error).message, source: event.source, num: event.num,
      total: deps.metrics.evaluationErrors.count }, 'evaluating an event failed; it was skipped');
  }
  return {
    process(events) {
      let alerts = 0;
      for (const event of events) {
        deps.metrics.countEvent(event.source);
        try {
          for (const rule of deps.evaluate(event)) {
            const alert = deps.toAlert(rule, event);
            deps.metrics.countAlert(alert.rule, alert.priority, alert.source);
            deps.emit(alert);
            alerts++;
          }
        } catch (err) {
          failed(event, err);
        }
      }
      return alerts;
    },
  };
}
