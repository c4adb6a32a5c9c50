import type { z } from 'zod';
import { PeregrineError } from '../errors.ts';

/**
 * Falcosidekick's environment overrides: every key path maps to an upper-case variable with "." -> "_"
 * (slack.webhookurl -> SLACK_WEBHOOKURL, aws.sns.topicarn -> AWS_SNS_TOPICARN). Values are coerced to the
 * key's type; maps are "k:v,k2:v2" split on the FIRST colon, so values may contain ":" (URLs, tokens).
 * An empty variable counts as unset, as in Falcosidekick (viper ignores empty variables): its Helm chart
 * renders every variable, most of them "".
 */
export interface EnvOverrides {
  /** Config object with the overridden values merged in. */
  merged: Record<string, unknown>;
  /** Key path "slack.webhookurl" -> the variable that set it, to name it in errors. */
  origins: Map<string, string>;
}

export type Leaf = 'string' | 'number' | 'boolean' | 'array' | 'record' | 'other';

export function applyEnv(schema: z.ZodType, base: Record<string, unknown>, env: Record<string, string | undefined>): EnvOverrides {
  const merged = structuredClone(base);
  const origins = new Map<string, string>();
  walk(schema, [], (path, leaf) => {
    const name = path.join('_').toUpperCase();
    const raw = env[name];
    if (raw === undefined || raw === '') return;
    setPath(merged, path, coerce(raw, leaf, `env ${name}`));
    origins.set(path.join('.'), name);
  });
  return { merged, origins };
}

function walk(schema: z.ZodType, path: string[], visit: (path: string[], leaf: Leaf) => void): void {
  const s = unwrap(schema);
  const def = (s as unknown as { def: { type: string; shape?: Record<string, z.ZodType> } }).def;
  if (def.type === 'object') {
    for (const [k, child] of Object.entries((s as unknown as { shape: Record<string, z.ZodType> }).shape)) {
      if (path.length === 0 && k === 'outputs') continue; // named instances are configured in YAML only
      walk(child, [...path, k], visit);
    }
    return;
  }
  const leaf: Leaf = ['string', 'enum'].includes(def.type) ? 'string'
    : def.type === 'number' ? 'number'
    : def.type === 'boolean' ? 'boolean'
    : def.type === 'array' ? 'array'
    : def.type === 'record' ? 'record' : 'other';
  visit(path, leaf);
}

export function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema as unknown as { def: { type: string; innerType?: unknown; in?: unknown } };
  for (;;) {
    if (['default', 'prefault', 'optional', 'nullable', 'readonly'].includes(s.def.type)) s = s.def.innerType as typeof s;
    // A preprocess (anyCaseEnum) is a pipe from a transform: the type is on its output side.
    else if (s.def.type === 'pipe') s = ((s.def.in as typeof s).def.type === 'transform' ? (s.def as { out?: unknown }).out : s.def.in) as typeof s;
    else return s as unknown as z.ZodType;
  }
}

export function coerce(raw: string, leaf: Leaf, where: string): unknown {
  switch (leaf) {
    case 'number': return raw.trim() === '' ? raw : Number(raw);
    case 'boolean': return /^(true|1|yes)$/i.test(raw.trim()) ? true : /^(false|0|no|)$/i.test(raw.trim()) ? false : raw;
    case 'array': return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    case 'record': {
      const out: Record<string, string> = {};
      for (const pair of raw.split(',')) {
        if (pair.trim() === '') continue;
        const i = pair.indexOf(':');
        // A pair without a key and a colon used to vanish without a word.
        if (i <= 0) throw new PeregrineError('PRG_CONFIG', `${where}: "${pair.trim()}" is not key:value (expected "k:v,k2:v2")`);
        Object.defineProperty(out, pair.slice(0, i).trim(), { value: pair.slice(i + 1).trim(), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    default: return raw;
  }
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  for (const k of path.slice(0, -1)) {
    if (cur[k] === null || typeof cur[k] !== 'object') cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}
