import { Ajv, type ErrorObject } from 'ajv';
import { parsePriority } from './priority.ts';

// RFC 3339 with optional fractional seconds (Falco writes nanoseconds).
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

/** RFC 3339 with a real calendar date and clock time, as Go's time.Parse (Falcosidekick) checks: no Feb 30, no 24:00. */
export function isRfc3339(s: string): boolean {
  const m = RFC3339.exec(s);
  if (!m) return false;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || sec > 59) return false;
  return m[8] === undefined || (Number(m[8]) <= 23 && Number(m[9]) <= 59);
}

const scalar = { type: ['string', 'number', 'boolean'] } as const;

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
    output_fields: {
      type: ['object', 'null'],
      additionalProperties: { anyOf: [scalar, { type: 'null' }, { type: 'array', items: scalar }] },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
ajv.addFormat('falco-priority', { type: 'string', validate: (s: string) => parsePriority(s) !== undefined });
ajv.addFormat('falco-time', { type: 'string', validate: isRfc3339 });

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
    case 'time': return `bad "time": ${JSON.stringify(b.time)} is not an RFC 3339 timestamp`;
    case 'tags': return '"tags" must be an array of strings';
    case 'output_fields': {
      const v = path.length > 1 ? (b.output_fields as Record<string, unknown>)[path[1]!] : undefined;
      const values = Array.isArray(v) ? v : [v];
      if (values.some((x) => typeof x === 'number' && !Number.isFinite(x))) {
        return `"output_fields.${path[1]}": a number is out of range (larger than a 64-bit float holds)`;
      }
      return path.length > 1
        ? `"output_fields.${path[1]}" must be a string, number, boolean, null or a list of those`
        : '"output_fields" must be an object';
    }
    default: return `"${key}" must be a string`;
  }
}
