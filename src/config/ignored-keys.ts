import type { z } from 'zod';
import { coerce, unwrap } from './env.ts';
import { isIgnoredFalcosidekickKey } from './falcosidekick-keys.ts';

/**
 * Takes Falcosidekick's keys that Peregrine does not act on out of the config read from YAML, and returns
 * their dotted paths (one per leaf) for the single "ignored keys" warning. Unknown keys that are not
 * Falcosidekick's stay in place, so validation rejects them with their line.
 * Also reads a map written as Falcosidekick's chart writes it ("k:v,k2:v2", e.g. webhook.customHeaders)
 * into a map.
 */
export function takeIgnoredKeys(config: Record<string, unknown>, schema: z.ZodType, where: (key: string) => string): string[] {
  const ignored: string[] = [];
  const knownTopLevel = new Set(Object.keys(shapeOf(schema) ?? {}));
  const walk = (obj: Record<string, unknown>, s: z.ZodType, path: string[]) => {
    const shape = shapeOf(s);
    if (!shape) return;
    for (const key of Object.keys(obj)) {
      const childPath = [...path, key];
      const child = shape[key];
      if (child === undefined) {
        if (isIgnoredFalcosidekickKey(childPath, knownTopLevel)) {
          ignored.push(...leafPaths(obj[key], childPath));
          delete obj[key];
        }
        continue;
      }
      const value = obj[key];
      const type = defType(unwrap(child));
      if (type === 'record' && typeof value === 'string') obj[key] = coerce(value, 'record', where(childPath.join('.')));
      else if (type === 'record' && isPlainObject(value)) obj[key] = stringValues(value);
      else if (type === 'object' && isPlainObject(value)) walk(value, child, childPath);
    }
  };
  walk(config, schema, []);
  return ignored;
}

/** viper reads map values as strings (a customfield `port: 8080` is "8080"). */
function stringValues(m: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) out[k] = typeof v === 'number' || typeof v === 'boolean' ? String(v) : v;
  return out;
}

function shapeOf(s: z.ZodType): Record<string, z.ZodType> | undefined {
  const core = unwrap(s) as unknown as { shape?: Record<string, z.ZodType> };
  return defType(core as unknown as z.ZodType) === 'object' ? core.shape : undefined;
}

function defType(s: z.ZodType): string {
  return (s as unknown as { def: { type: string } }).def.type;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function leafPaths(v: unknown, path: string[]): string[] {
  if (!isPlainObject(v) || Object.keys(v).length === 0) return [path.join('.')];
  return Object.entries(v).flatMap(([k, child]) => leafPaths(child, [...path, k]));
}
