import type { FalcoAlert, OutputFieldValue } from '../alert/alert.ts';
import { compileTemplate, type CompiledTemplate } from './template.ts';

export interface EnrichmentConfig {
  customfields: Record<string, string>;
  customtags: string[];
  templatedfields: Record<string, string>;
  bracketreplacer: string;
}

/**
 * Falcosidekick's pre-processing, done once before fan-out: static custom fields, custom tags,
 * templated fields over output_fields, sorted unique tags, and optional bracket replacement in keys
 * (proc.aname[2] -> proc.aname_2 with bracketreplacer "_").
 */
export function createEnricher(cfg: EnrichmentConfig): (alert: FalcoAlert) => FalcoAlert {
  const templates: [string, CompiledTemplate][] = Object.entries(cfg.templatedfields)
    .map(([k, src]) => [k, compileTemplate(src, `templatedfields.${k}`)]);
  return (alert) => {
    let fields: Record<string, OutputFieldValue> = { ...alert.output_fields, ...cfg.customfields };
    for (const [k, t] of templates) fields[k] = t(alert.output_fields);
    if (cfg.bracketreplacer) fields = replaceBrackets(fields, cfg.bracketreplacer);
    const tags = [...new Set([...alert.tags, ...cfg.customtags])].sort();
    return { ...alert, output_fields: fields, tags };
  };
}

function replaceBrackets(fields: Record<string, OutputFieldValue>, by: string): Record<string, OutputFieldValue> {
  // fromEntries defines own properties: a key named "__proto__" stays a field, not the object's prototype.
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k.replace(/\[/g, by).replace(/\]/g, ''), v]));
}
