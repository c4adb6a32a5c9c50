import type { FalcoAlert, OutputFieldValue } from '../alert/alert.ts';
import { priorityTitle } from '../alert/priority.ts';
import { compileTemplate, type CompiledTemplate } from './template.ts';

export interface EnrichmentConfig {
  customfields: Record<string, string>;
  customtags: string[];
  templatedfields: Record<string, string>;
  bracketreplacer: string;
  outputfieldformat: string;
}

// Falcosidekick rewrites only outputs that start like Falco's text line: "HH:MM:SS.ns: Priority …".
const FALCO_OUTPUT_LINE = /[0-9:]+\.[0-9]+: (Debug|Informational|Notice|Warning|Error|Critical|Alert|Emergency) .*/i;

/**
 * Falcosidekick's pre-processing, done once before fan-out: static custom fields, custom tags,
 * templated fields over output_fields (custom fields included, as there), sorted unique tags, optional
 * bracket replacement in keys (proc.aname[2] -> proc.aname_2 with bracketreplacer "_"), and the
 * outputfieldformat rewrite of the output line.
 */
export function createEnricher(cfg: EnrichmentConfig): (alert: FalcoAlert) => FalcoAlert {
  const templates: [string, CompiledTemplate][] = Object.entries(cfg.templatedfields)
    .map(([k, src]) => [k, compileTemplate(src, `templatedfields.${k}`)]);
  const custom = Object.entries(cfg.customfields);
  return (alert) => {
    let fields: Record<string, OutputFieldValue> = custom.length > 0 ? { ...alert.output_fields, ...cfg.customfields } : alert.output_fields;
    const templated: [string, string][] = [];
    if (templates.length > 0) {
      const context = fields;
      fields = { ...fields };
      for (const [k, t] of templates) {
        const v = t(context);
        fields[k] = v;
        templated.push([k, v]);
      }
    }
    if (cfg.bracketreplacer) fields = replaceBrackets(fields, cfg.bracketreplacer);
    const tags = cfg.customtags.length > 0 || !sortedUnique(alert.tags) ? [...new Set([...alert.tags, ...cfg.customtags])].sort() : alert.tags;
    const output = cfg.outputfieldformat ? formatOutput(cfg.outputfieldformat, alert, custom, templated, tags) : alert.output;
    return { ...alert, output, output_fields: fields, tags };
  };
}

/** Already as Falcosidekick leaves them (sorted, no repeats): most senders send them so; no copy needed. */
function sortedUnique(tags: readonly string[]): boolean {
  for (let i = 1; i < tags.length; i++) if (!(tags[i - 1]! < tags[i]!)) return false;
  return true;
}

function replaceBrackets(fields: Record<string, OutputFieldValue>, by: string): Record<string, OutputFieldValue> {
  // fromEntries defines own properties: a key named "__proto__" stays a field, not the object's prototype.
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k.replace(/\[/g, by).replace(/\]/g, ''), v]));
}

/** outputfieldformat placeholders: <timestamp> <priority> <output> <custom_fields> <templated_fields> <tags>. */
function formatOutput(format: string, alert: FalcoAlert, custom: [string, string][], templated: [string, string][], tags: string[]): string {
  if (!FALCO_OUTPUT_LINE.test(alert.output)) return alert.output;
  const words = alert.output.split(' ');
  if (words.length < 3) return alert.output;
  const pairs = (kv: [string, string][]) => kv.map(([k, v]) => `${k}=${v}`).join(' ');
  let out = format
    .replaceAll('<timestamp>', words[0]!.replace(/:$/, ''))
    .replaceAll('<priority>', priorityTitle(alert.priority))
    .replaceAll('<output>', words.slice(2).join(' '))
    .replaceAll('<custom_fields>', pairs(custom))
    .replaceAll('<templated_fields>', pairs(templated))
    .replaceAll('<tags>', tags.join(','));
  // What Falcosidekick trims when a placeholder was empty.
  out = out.replace(/ $/, '').replace(/\( \)$/, '').replace(/\(\)$/, '').replace(/ $/, '');
  return out;
}
