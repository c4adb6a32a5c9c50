import { randomUUID } from 'node:crypto';
import type { FalcoAlert, OutputFieldValue } from '../alert/alert.ts';
import { parsePriority, type Priority } from '../alert/priority.ts';
import { describeAlertError, validateFalcoAlert } from '../alert/schema.ts';

const TEST_RULE = 'Test rule';

export type ParseResult = { ok: true; alert: FalcoAlert } | { ok: false; error: string };

/** Validates a decoded Falco JSON alert against the alert schema and assigns its uuid; errors name the offending key. */
export function parseAlert(body: unknown): ParseResult {
  if (!validateFalcoAlert(body)) return { ok: false, error: describeAlertError(validateFalcoAlert.errors, body) };
  return { ok: true, alert: toAlert(body) };
}

/** Builds the router's alert from a body that already passed the alert schema (the HTTP route validated it). */
export function toAlert(body: unknown): FalcoAlert {
  const b = body as Record<string, unknown>;
  return {
    uuid: randomUUID(),
    output: (b.output as string | undefined) ?? '',
    priority: parsePriority(b.priority as string) as Priority,
    rule: b.rule as string,
    time: b.time as string,
    // Kept as decoded, not copied key by key, so every key (even "__proto__") stays an own data property.
    output_fields: (b.output_fields as Record<string, OutputFieldValue> | null | undefined) ?? {},
    // Falcosidekick's rules: its test rule's source is "internal"; an empty source is "syscalls".
    source: b.rule === TEST_RULE ? 'internal' : (b.source as string | undefined) || 'syscalls',
    tags: (b.tags as string[] | null | undefined) ?? [],
    hostname: (b.hostname as string | undefined) ?? '',
  };
}
