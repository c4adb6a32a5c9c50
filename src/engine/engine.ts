/**
 * Loads Falco rules files into a RuleEngine: rules indexed by source and event type, evaluated in rule
 * position order with `rule_matching: first` (stop at the first match) or `all`.
 */
import { readFileSync, statSync } from 'node:fs';
import { lineOverEntryLimit, RULES_LIMITS } from './loader/limits.ts';
import { atLeast, type Priority } from '../alert/priority.ts';
import type { EngineEvent } from './event.ts';
import type { FieldTable } from './fields/field.ts';
import type { CompiledRule, OutputCompiler } from './rule.ts';
import type { AppendOutput } from './loader/compile-rules.ts';
import { Collector } from './loader/collector.ts';
import { compileRules, type CompileResult } from './loader/compile-rules.ts';
import { LoadError, type LoadDiagnostic } from './loader/diagnostics.ts';
import { diagnosticAt, readRulesFile, type RawItem } from './loader/reader.ts';
import { firstMatchFrom, type Condition, type NextMatch } from './dispatch.ts';

/** The engine version rules files compare `required_engine_version` against (Falco 0.44's engine). */
export const ENGINE_VERSION = '0.62.0';

export interface RuleSource {
  /** File name as diagnostics show it. */
  name: string;
  /** The YAML text; read from `name` when absent. */
  content?: string;
}

export interface LoadOptions {
  tables: ReadonlyArray<FieldTable<any>>;
  ruleMatching?: 'first' | 'all';
  /** Rules less severe than this are not enabled (Falco's `priority`). */
  minPriority?: Priority;
  compileOutput?: OutputCompiler;
  /** Falco's append_output: text and suggested fields appended to rule outputs. */
  appendOutput?: readonly AppendOutput[];
}

export interface LoadResult {
  engine: RuleEngine;
  errors: LoadDiagnostic[];
  warnings: LoadDiagnostic[];
}

export interface RuleDescription {
  rules: Array<{ info: { name: string; condition: string; output: string; description: string; priority: string; source: string; tags: string[]; enabled: boolean; capture: boolean; capture_duration: number }; details: { condition_compiled: string; events: string[] | null } }>;
  macros: Array<{ info: { name: string; condition: string }; details: { condition_compiled: string | undefined } }>;
  lists: Array<{ info: { name: string; items: string[] }; details: { lists: string[]; items_compiled: string[] } }>;
}

export interface RuleEngine {
  /** Enabled rules, in position order. */
  readonly rules: readonly CompiledRule[];
  counts(): { rules: number; macros: number; lists: number };
  /** The event types the enabled rules of a source can match; undefined = every type. */
  eventTypes(source: string): Set<string> | undefined;
  /** The rules the event matches: at most one with rule_matching first. */
  evaluate(event: EngineEvent): readonly CompiledRule[];
  describe(): RuleDescription;
}

export function loadRules(sources: RuleSource[], options: LoadOptions): LoadResult {
  const collector = new Collector();
  const errors: LoadDiagnostic[] = [];
  const warnings: LoadDiagnostic[] = [];
  for (const src of sources) {
    let content = src.content;
    if (content === undefined) {
      try {
        const size = statSync(src.name).size;
        if (size > RULES_LIMITS.fileBytes) {
          errors.push({ file: src.name, line: 0, column: 0, code: 'LOAD_ERR_FILE_READ', limit: true,
            message: `rules file is ${(size / 2 ** 20).toFixed(1)} MiB, over the limit of ${RULES_LIMITS.fileBytes / 2 ** 20} MiB` });
          continue;
        }
        content = readFileSync(src.name, 'utf8');
      } catch (err) {
        errors.push({ file: src.name, line: 0, column: 0, code: 'LOAD_ERR_FILE_READ', message: `cannot read rules file: ${(err as Error).message}` });
        continue;
      }
    }
    const crowded = lineOverEntryLimit(content);
    if (crowded !== undefined) {
      errors.push({ file: src.name, line: crowded, column: 1, code: 'LOAD_ERR_YAML_PARSE', limit: true,
        message: `more than ${RULES_LIMITS.yamlEntries} YAML list entries by this line (a rules file this large is refused before parsing)` });
      continue;
    }
    let items: RawItem[];
    try {
      const read = readRulesFile(src.name, content);
      items = read.items;
      warnings.push(...read.warnings);
    } catch (err) {
      if (!(err instanceof LoadError)) throw err;
      errors.push(err.diagnostic);
      continue;
    }
    for (const item of items) {
      try {
        if (item.kind === 'required_engine_version') checkEngineVersion(item);
        else collector.add(item);
      } catch (err) {
        if (!(err instanceof LoadError)) throw err;
        errors.push(err.diagnostic); // this item is left out; the rest of the file still loads
      }
    }
  }
  warnings.push(...collector.warnings);
  const tables = new Map(options.tables.map((t) => [t.source, t]));
  const compiled = compileRules({
    collector, tables,
    ...(options.compileOutput ? { compileOutput: options.compileOutput } : {}),
    ...(options.appendOutput ? { appendOutput: options.appendOutput } : {}),
  });
  errors.push(...compiled.errors);
  warnings.push(...compiled.warnings);
  const engine = new IndexedEngine(collector, compiled, options.ruleMatching ?? 'first', options.minPriority ?? 'debug');
  return { engine, errors, warnings };
}

function checkEngineVersion(item: RawItem): void {
  const raw = item.data.required_engine_version;
  const fail = (message: string): never => {
    throw new LoadError(diagnosticAt(item.file, item.keyAt('required_engine_version'), 'LOAD_ERR_VALIDATE', message, { type: 'required_engine_version', name: String(raw) }));
  };
  let required: string;
  if (typeof raw === 'number' && Number.isInteger(raw)) required = `0.${raw}.0`;
  else if (typeof raw === 'string' && /^\d+\.\d+\.\d+$/.test(raw.trim())) required = raw.trim();
  else return fail(`Unable to parse engine version '${String(raw)}' as a semver string. Expected "x.y.z" semver format.`);
  const [rMaj, rMin, rPatch] = required.split('.').map(Number) as [number, number, number];
  const [eMaj, eMin, ePatch] = ENGINE_VERSION.split('.').map(Number) as [number, number, number];
  const ok = rMaj === eMaj && (eMin > rMin || (eMin === rMin && ePatch >= rPatch));
  if (!ok) fail(`Rules require engine version ${required}, but engine version is ${ENGINE_VERSION}`);
}

class IndexedEngine implements RuleEngine {
  readonly rules: readonly CompiledRule[];
  private readonly bySource = new Map<string, CompiledRule[]>();
  private readonly byType = new Map<string, TypedRules>();
  private readonly otherSources = new Map<string, TypedRules>();
  private readonly first: boolean;
  private readonly collector: Collector;
  private readonly compiled: CompileResult;

  constructor(collector: Collector, compiled: CompileResult, matching: 'first' | 'all', minPriority: Priority) {
    this.collector = collector;
    this.compiled = compiled;
    this.first = matching === 'first';
    this.rules = compiled.rules.filter((r) => r.enabled && atLeast(r.priority, minPriority));
    for (const r of this.rules) {
      const list = this.bySource.get(r.source) ?? [];
      list.push(r);
      this.bySource.set(r.source, list);
    }
    // Sources other than syscall are not indexed by type: every rule of the source, whole conditions.
    for (const [source, rules] of this.bySource) {
      if (source !== 'syscall') this.otherSources.set(source, { rules, next: firstMatchFrom(rules.map((r) => r.matches)) });
    }
  }

  counts() {
    return { rules: this.compiled.rules.length, macros: this.collector.macros.size, lists: this.collector.lists.size };
  }

  eventTypes(source: string): Set<string> | undefined {
    const out = new Set<string>();
    for (const r of this.bySource.get(source) ?? []) {
      if (!r.eventTypes) return undefined;
      for (const t of r.eventTypes) out.add(t);
    }
    return out;
  }

  evaluate(event: EngineEvent): readonly CompiledRule[] {
    if (event.source === 'syscall') return this.evaluateTyped(event, this.rulesForType(event.type));
    const other = this.otherSources.get(event.source);
    return other ? this.evaluateTyped(event, other) : NO_MATCH;
  }

  private evaluateTyped(event: EngineEvent, typed: TypedRules): readonly CompiledRule[] {
    let i = typed.next(event, 0);
    if (i < 0) return NO_MATCH;
    if (this.first) return [typed.rules[i]!];
    const matched: CompiledRule[] = [];
    for (; i >= 0; i = typed.next(event, i + 1)) matched.push(typed.rules[i]!);
    return matched;
  }

  /**
   * Syscall rules that can match this event type, in position order, each with its condition compiled
   * for that type, behind one dispatch function; built once per type, the first time an event of it arrives.
   */
  private rulesForType(type: string): TypedRules {
    let typed = this.byType.get(type);
    if (!typed) {
      const rules: CompiledRule[] = [];
      const conditions: Condition[] = [];
      for (const rule of this.bySource.get('syscall') ?? []) {
        if (rule.eventTypes && !rule.eventTypes.has(type)) continue;
        const matches = rule.forType ? rule.forType(type) : rule.matches;
        if (!matches) continue;
        rules.push(rule);
        conditions.push(matches);
      }
      typed = { rules, next: firstMatchFrom(conditions) };
      this.byType.set(type, typed);
    }
    return typed;
  }

  describe(): RuleDescription {
    return {
      rules: this.compiled.rules.map((r) => {
        const def = this.collector.rules.get(r.name)!;
        return {
          info: { name: r.name, condition: def.condition, output: r.output, description: def.desc, priority: priorityName(r.priority), source: r.source, tags: r.tags, enabled: r.enabled, capture: def.capture, capture_duration: def.captureDuration },
          details: { condition_compiled: r.condition, events: r.eventTypes ? [...r.eventTypes].sort() : null },
        };
      }),
      macros: [...this.collector.macros.values()].map((m) => ({ info: { name: m.name, condition: m.condition }, details: { condition_compiled: this.compiled.macros.get(m.name) } })),
      lists: this.compiled.lists.map((l) => ({
        info: { name: l.def.name, items: l.def.items },
        details: { lists: l.def.items.filter((i) => this.collector.lists.has(i)), items_compiled: l.items },
      })),
    };
  }
}

/** Most events match nothing: one shared empty result instead of an allocation each. */
const NO_MATCH: readonly CompiledRule[] = Object.freeze([]);

/** The syscall rules of one event type (conditions specialised for it), or all the rules of another source. */
interface TypedRules {
  rules: CompiledRule[];
  /** Index into `rules` of the first match at or after `from`, or -1. */
  next: NextMatch;
}

function priorityName(p: Priority): string {
  return p.charAt(0).toUpperCase() + p.slice(1);
}
