/**
 * Rule exceptions: validated when a rule is defined or appended, and turned into condition text
 * (` and not (...)`) when it is compiled (ENGINE_SEMANTICS.md §4).
 */
import { LIST_OPS, NUM_OPS, STR_OPS } from '../lang/parser.ts';

export interface ExceptionDef {
  name: string;
  /** One field (then comps is one operator and values a flat list) or a tuple of fields. */
  fields: string | string[];
  comps: string | string[];
  values: unknown[];
}

const PLAIN_OPS = new Set<string>([...NUM_OPS, ...STR_OPS, ...LIST_OPS]);
const MODIFIER_OP = new RegExp(`^(${STR_OPS.map((o) => o.replace(/[=!]/g, '\\$&')).join('|')}) (oneof|anyof|allof)$`);
const SET_OPS = new Set(['in', 'pmatch', 'intersects']);

/** "  startswith   oneof " → "startswith oneof". */
function normalizeComp(c: unknown): string {
  return String(c).trim().replace(/\s+/g, ' ');
}

function isSupported(comp: string): boolean {
  return PLAIN_OPS.has(comp) || MODIFIER_OP.test(comp);
}

function isSetOp(comp: string): boolean {
  return SET_OPS.has(comp) || MODIFIER_OP.test(comp);
}

export function normalizeExceptions(raw: Array<Record<string, unknown>>, fail: (message: string) => never): ExceptionDef[] {
  return raw.map((ex) => {
    if (typeof ex !== 'object' || ex === null) fail('Rule exception must be a map');
    const name = ex.name;
    if (name === undefined || name === null || name === '') fail("Item has no mapping for key 'name'");
    const fields = ex.fields;
    const values = ex.values === undefined || ex.values === null ? [] : ex.values;
    if (!Array.isArray(values)) fail('Rule exception values must be a sequence');
    if (Array.isArray(fields)) {
      const names = fields.map(String);
      const comps = ex.comps === undefined || ex.comps === null ? names.map(() => '=') : ex.comps;
      if (!Array.isArray(comps)) fail('Rule exception comps must be a sequence when fields is a sequence');
      const ops = (comps as unknown[]).map(normalizeComp);
      if (ops.length !== names.length) fail('Fields and comps lists must have equal length');
      for (const op of ops) if (!isSupported(op)) fail(`'${op}' is not a supported comparison operator`);
      for (const tuple of values as unknown[]) {
        if (!Array.isArray(tuple)) fail('Expected values array to contain a list of lists');
        if ((tuple as unknown[]).length !== names.length) fail('Fields and values lists must have equal length');
      }
      return { name: String(name), fields: names, comps: ops, values: values as unknown[] };
    }
    if (fields === undefined || fields === null) fail("Item has no mapping for key 'fields'");
    const op = ex.comps === undefined || ex.comps === null ? 'in' : normalizeComp(ex.comps);
    if (!isSetOp(op)) fail(`comps must be one of in, pmatch, intersects, or a modifier operator (e.g. 'startswith oneof') when fields is a single value, got '${op}'`);
    for (const v of values as unknown[]) {
      if (typeof v === 'object' && v !== null && !(Array.isArray(v) && v.every((x) => typeof x !== 'object'))) {
        fail('Expected values array to contain a list of strings');
      }
    }
    return { name: String(name), fields: String(fields), comps: op, values: values as unknown[] };
  });
}

/** Wraps in double quotes when the value holds a space and is not already quoted. */
function quote(v: string): string {
  return v.includes(' ') && !v.startsWith('"') && !v.startsWith("'") ? `"${v}"` : v;
}

function paren(v: string): string {
  return v.startsWith('(') ? v : `(${v})`;
}

function valueText(v: unknown, comp: string): string {
  if (Array.isArray(v)) return `(${v.map((x) => quote(String(x))).join(', ')})`;
  return isSetOp(comp) ? paren(String(v)) : quote(String(v));
}

/** The text appended to a rule condition for one exception; empty when it has no values. */
export function exceptionConditionText(ex: ExceptionDef): string {
  if (ex.values.length === 0) return '';
  if (!Array.isArray(ex.fields)) {
    const items = ex.values.flatMap((v) => (Array.isArray(v) ? v : [v])).map((v) => quote(String(v)));
    return ` and not (${ex.fields} ${ex.comps} (${items.join(', ')}))`;
  }
  const fields = ex.fields;
  const comps = ex.comps as string[];
  const tuples = ex.values.map((tuple) => {
    const parts = (tuple as unknown[]).map((v, i) => `${fields[i]} ${comps[i]} ${valueText(v, comps[i]!)}`);
    return `(${parts.join(' and ')})`;
  });
  return ` and not (${tuples.join(' or ')})`;
}
