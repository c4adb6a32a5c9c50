/**
 * Falco's JSON alert for one rule match (ENGINE_SEMANTICS.md §8): hostname, output (time, priority, text),
 * output_fields (with the time field), priority, rule, source, tags, time (UTC, 9 fraction digits, Z).
 */
import { exactInteger } from '../alert/json.ts';
import { priorityTitle } from '../alert/priority.ts';
import type { EngineEvent } from './event.ts';
import { iso8601, localTime } from './fields/syscall.ts';
import type { CompiledRule, FormattedOutput } from './rule.ts';

export interface FalcoAlert {
  hostname: string;
  output: string;
  output_fields: FormattedOutput['fields'];
  priority: string;
  rule: string;
  source: string;
  tags: string[];
  time: string;
}

export interface AlertOptions {
  hostname: string;
  /** Falco's time_format_iso_8601: the output prefix is evt.time.iso8601 instead of local evt.time. */
  iso8601: boolean;
}

export function buildAlert(rule: CompiledRule, event: EngineEvent, formatted: FormattedOutput, options: AlertOptions): FalcoAlert {
  const timeKey = options.iso8601 ? 'evt.time.iso8601' : 'evt.time';
  const timeText = options.iso8601 ? iso8601(event.ts, '+0000') : localTime(event.ts);
  const priority = priorityTitle(rule.priority);
  // evt.time in ns does not fit a number (1470327477881781397 would print as …500): kept exact.
  const fields: FormattedOutput['fields'] = { [timeKey]: exactInteger(event.ts), ...formatted.fields };
  const sorted = Object.fromEntries(Object.keys(fields).sort().map((k) => [k, fields[k]!]));
  return {
    hostname: options.hostname,
    output: `${timeText}: ${priority} ${formatted.text}`,
    output_fields: sorted,
    priority,
    rule: rule.name,
    source: rule.source,
    tags: rule.tags,
    time: iso8601(event.ts, 'Z'),
  };
}
