import { randomUUID } from 'node:crypto';
import type { FalcoAlert, OutputFieldValue } from '../alert/alert.ts';
import { parsePriority } from '../alert/priority.ts';

export type ParseResult = { ok: true; alert: FalcoAlert } | { ok: false; error: string };

// RFC 3339 with optional fractional seconds (Falco writes nanoseconds).
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** Validates a decoded Falco JSON alert and assigns its uuid; errors name the offending key. */
export function parseAlert(body: unknown): ParseResult {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return fail('body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.rule !== 'string' || b.rule === '') return fail('missing "rule" (a non-empty string)');
  if (typeof b.priority !== 'string') return fail('missing "priority"');
  const priority = parsePriority(b.priority);
  if (!priority) return fail(`unknown priority "${b.priority}" (expected emergency, alert, critical, error, warning, notice, informational, debug)`);
  if (typeof b.time !== 'string' || !RFC3339.test(b.time) || Number.isNaN(Date.parse(b.time.replace(/\.\d+/, '')))) {
    return fail(`bad "time": ${JSON.stringify(b.time)} is not an RFC 3339 timestamp`);
  }
  if (b.output !== undefined && typeof b.output !== 'string') return fail('"output" must be a string');
  const fields: Record<string, OutputFieldValue> = {};
  if (b.output_fields !== undefined && b.output_fields !== null) {
    if (typeof b.output_fields !== 'object' || Array.isArray(b.output_fields)) return fail('"output_fields" must be an object');
    for (const [k, v] of Object.entries(b.output_fields)) {
      const scalar = (x: unknown) => ['string', 'number', 'boolean'].includes(typeof x);
      if (v !== null && !scalar(v) && !(Array.isArray(v) && v.every(scalar))) {
        return fail(`"output_fields.${k}" must be a string, number, boolean, null or a list of those`);
      }
      fields[k] = v as OutputFieldValue;
    }
  }
  if (b.source !== undefined && typeof b.source !== 'string') return fail('"source" must be a string');
  if (b.hostname !== undefined && typeof b.hostname !== 'string') return fail('"hostname" must be a string');
  let tags: string[] = [];
  if (b.tags !== undefined && b.tags !== null) {
    if (!Array.isArray(b.tags) || b.tags.some((t) => typeof t !== 'string')) return fail('"tags" must be an array of strings');
    tags = b.tags as string[];
  }
  return {
    ok: true,
    alert: {
      uuid: randomUUID(),
      output: (b.output as string | undefined) ?? '',
      priority,
      rule: b.rule,
      time: b.time,
      output_fields: fields,
      source: (b.source as string | undefined) || 'syscalls',
      tags,
      hostname: (b.hostname as string | undefined) ?? '',
    },
  };
}

function fail(error: string): ParseResult {
  return { ok: false, error };
}
