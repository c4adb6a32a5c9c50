/**
 * Bounds on what a rules file may make the loader build. Falco's own files stay far below each (falco_rules.yaml:
 * 64 KB, lists of a few hundred items, conditions of a few thousand nodes once macros are inlined); a file past
 * one is an error naming the file, line and item instead of minutes of CPU and gigabytes of heap.
 */
export const RULES_LIMITS = {
  /** Size of one rules file: 16x Falco's largest; parsing YAML with positions costs ~1.3 s of CPU per MiB. */
  fileBytes: 1024 * 1024,
  /** YAML collection entries in one file (commas and "- " items): 72x falco_rules.yaml's 693. */
  yamlEntries: 50_000,
  /** Items of one list once the lists it names are expanded. */
  listItems: 100_000,
  /** Characters of one condition once list names are replaced by their items. */
  conditionChars: 2_000_000,
  /** Nodes of one condition once macros are inlined (macros shared in the source are copied per use). */
  expandedNodes: 200_000,
  /** Macros referring to macros, counted from a rule. */
  macroDepth: 100,
} as const;

/** A limit was passed: the loader reports it as an error of the item, and `run` refuses to start. */
export class LimitError extends Error {}

/**
 * The YAML parser's cost grows with collection entries more than with bytes (200k short list items in 600 KB take
 * seconds), so entries are counted before parsing: commas and block "- " items, a slight overcount (commas in
 * conditions) that keeps the check O(bytes). Returns the 1-based line where the limit is passed, if it is.
 */
export function lineOverEntryLimit(source: string, limit: number = RULES_LIMITS.yamlEntries): number | undefined {
  let entries = 0;
  let line = 1;
  let lineStart = true;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 10) { line++; lineStart = true; continue; }
    if (lineStart && (c === 32 || c === 9)) continue;
    if (c === 44 || (lineStart && c === 45 && source.charCodeAt(i + 1) === 32)) {
      if (++entries > limit) return line;
    }
    lineStart = false;
  }
  return undefined;
}
