import type { z } from 'zod';
import { configSchema, deliverySchema } from './schema.ts';

/** One documented key of the config, derived from the schema (so docs cannot drift from validation). */
export interface KeyDoc { path: string; env: string; type: string; default: string; description: string }

interface Def { type: string; innerType?: z.ZodType; in?: z.ZodType; out?: z.ZodType; defaultValue?: unknown; shape?: unknown; entries?: Record<string, string>; element?: z.ZodType }

function defOf(s: z.ZodType): Def {
  return (s as unknown as { def: Def }).def;
}

function describe(s: z.ZodType): string | undefined {
  return (s as unknown as { meta(): { description?: string } | undefined }).meta()?.description;
}

/** Unwraps default/optional/pipe wrappers, collecting the default and the first description on the way. */
function peel(s: z.ZodType): { core: z.ZodType; def: unknown; description: string | undefined } {
  let description = describe(s);
  let dflt: unknown;
  let cur = s;
  for (;;) {
    const d = defOf(cur);
    if ((d.type === 'default' || d.type === 'prefault') && dflt === undefined) dflt = d.defaultValue;
    if (['default', 'prefault', 'optional', 'nullable', 'readonly'].includes(d.type)) cur = d.innerType!;
    else if (d.type === 'pipe') cur = defOf(d.in!).type === 'transform' ? d.out! : d.in!;
    else return { core: cur, def: dflt, description };
    description ??= describe(cur);
  }
}

function typeName(core: z.ZodType): string {
  const d = defOf(core);
  if (d.type === 'enum') return Object.values(d.entries ?? {}).join(' \\| ');
  if (d.type === 'array') return `list of ${typeName(peel(d.element!).core)}`;
  if (d.type === 'record') return 'map';
  if (d.type === 'number') return 'number';
  return d.type;
}

export function configKeys(schema: z.ZodType = configSchema): KeyDoc[] {
  const out: KeyDoc[] = [];
  const walk = (s: z.ZodType, path: string[]) => {
    const { core, def, description } = peel(s);
    const d = defOf(core);
    if (d.type === 'object' && (path.at(-1) !== 'delivery' || path.length === 0)) {
      for (const [k, child] of Object.entries((core as unknown as { shape: Record<string, z.ZodType> }).shape)) walk(child, [...path, k]);
      return;
    }
    const key = path.join('.');
    out.push({
      path: key,
      env: key === 'outputs' ? '(YAML only)' : path.join('_').toUpperCase(),
      type: key === 'outputs' ? 'list of output blocks with name and type' : d.type === 'object' ? 'object (see below)' : typeName(core),
      default: def === undefined ? '' : JSON.stringify(def),
      description: description ?? '',
    });
  };
  walk(schema, []);
  return out;
}

/** The Markdown table the README carries between its config-reference markers. */
export function configReferenceMarkdown(): string {
  const rows = configKeys().map((k) => `| \`${k.path}\` | \`${k.env}\` | ${k.type} | ${k.default ? `\`${k.default}\`` : ''} | ${k.description} |`);
  const delivery = configKeys(deliverySchema).map((k) => `| \`delivery.${k.path}\` | ${k.type} | ${k.default ? `\`${k.default}\`` : ''} | ${k.description} |`);
  return [
    '| key | env | type | default | description |', '|---|---|---|---|---|', ...rows, '',
    'Every output block (legacy or named) also takes `delivery:` with these keys (env e.g. `SLACK_DELIVERY_MAXRETRIES`):', '',
    '| key | type | default | description |', '|---|---|---|---|', ...delivery,
  ].join('\n');
}
