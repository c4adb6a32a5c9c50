import { Ajv, type ErrorObject } from 'ajv';
import { parsePriority } from './priority.ts';
import { stringifyJson } from './json.ts';

// RFC 3339 with optional fractional seconds (Falco writes nanoseconds).
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

/** RFC 3339 with a real calendar date and clock time, as Go's time.Parse (Falcosidekick) checks: no Feb 30, no 24:00. */
export function isRfc3339(s: string): boolean {
  const m = RFC3339.exec(s);
  if (!m) return false;
  // Read field by field: this runs for every alert, and a Date or arrays per call are garbage to collect.
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return false;
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59) return false;
  return m[8] === undefined || (Number(m[8]) <= 23 && Number(m[9]) <= 59);
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(y: number, mo: number): number {
  if (mo !== 2) return DAYS[mo - 1]!;
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
}

/**
 * The Falco JSON alert as the router accepts it: the one schema both the HTTP route (fastify) and the
 * in-process input validate with. Priority and time have formats of their own because JSON Schema cannot
 * say "a Falco priority, any case" or "RFC 3339 with nanoseconds".
 */
export const falcoAlertSchema = {
  $id: 'peregrine/falco-alert',
  type: 'object',
  required: ['rule', 'priority', 'time'],
  properties: {
    rule: { type: 'string', minLength: 1 },
    priority: { type: 'string', format: 'falco-priority' },
    time: { type: 'string', format: 'falco-time' },
    output: { type: 'string' },
    source: { type: 'string' },
    hostname: { type: 'string' },
    tags: { type: ['array', 'null'], items: { type: 'string' } },
    // Any JSON value per field, nested objects included, as Falcosidekick accepts (integers beyond 2^53
    // arrive as bigint from src/alert/json.ts, which a JSON Schema "number" would refuse).
    // A literal such as 1e400 would become Infinity (written back as null): refused, naming the field.
    output_fields: { type: ['object', 'null'], finiteNumbers: true },
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
ajv.addFormat('falco-priority', { type: 'string', validate: (s: string) => parsePriority(s) !== undefined });
ajv.addFormat('falco-time', { type: 'string', validate: isRfc3339 });
ajv.addKeyword({ keyword: 'finiteNumbers', schemaType: 'boolean', validate: (_on: boolean, data: unknown) => nonFiniteAt(data) === undefined });

/** Dotted path of the first number that is not finite (at any depth), or undefined. */
function nonFiniteAt(v: unknown, path = ''): string | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? undefined : path;
  if (v === null || typeof v !== 'object') return undefined;
  for (const [k, child] of Object.entries(v)) {
    const bad = nonFiniteAt(child, path ? `${path}.${k}` : k);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

/** The compiled validator of falcoAlertSchema (fastify's route uses this same function). */
export const validateFalcoAlert = ajv.compile(falcoAlertSchema);

/** Fastify's validator compiler: the alert schema gets its one compiled validator, other schemas this Ajv. */
export function compileSchema({ schema }: { schema: object }) {
  return schema === falcoAlertSchema ? validateFalcoAlert : ajv.compile(schema);
}

/** One sentence naming the offending key, from the first schema error. */
export function describeAlertError(errors: readonly ErrorObject[] | null | undefined, body: unknown): string {
  const e = errors?.[0];
  if (!e) return 'invalid alert';
  const path = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const key = e.keyword === 'required' ? (e.params as { missingProperty: string }).missingProperty : path[0];
  const b = (body ?? {}) as Record<string, unknown>;
  switch (key) {
    case undefined: return 'body must be a JSON object';
    case 'rule': return 'missing "rule" (a non-empty string)';
    case 'priority':
      return typeof b.priority === 'string'
        ? `unknown priority "${b.priority}" (expected emergency, alert, critical, error, warning, notice, informational, debug)`
        : 'missing "priority"';
    case 'time': return `bad "time": ${stringifyJson(b.time)} is not an RFC 3339 timestamp`;
    case 'tags': return '"tags" must be an array of strings';
    case 'output_fields': {
      const bad = e.keyword === 'finiteNumbers' ? nonFiniteAt(b.output_fields) : undefined;
      return bad !== undefined
        ? `"output_fields.${bad}": a number is out of range (larger than a 64-bit float holds)`
        : '"output_fields" must be an object';
    }
    default: return `"${key}" must be a string`;
  }
}
