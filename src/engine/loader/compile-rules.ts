/**
 * Turns the collected lists, macros and rules into compiled rules (ENGINE_SEMANTICS.md §3): list expansion
 * and textual substitution, macro ASTs resolved into rule ASTs, exceptions appended, conditions compiled
 * against the rule source's field table, outputs validated, event types computed. A rule that fails is
 * reported and left out; the others still load.
 */
import type { Expr, FieldLike, Position, TransformerArg } from '../lang/ast.ts';
import { ConditionSyntaxError, parseCondition } from '../lang/parser.ts';
import { ConditionCompileError, compileCondition, inlineCondition } from '../lang/compile.ts';
import { conditionToString } from '../lang/print.ts';
import { eventTypesOf } from '../lang/event-types.ts';
import { specializeForType } from '../lang/specialize.ts';
import { suggestedOutputFormat, type FieldTable } from '../fields/field.ts';
import type { CompiledRule, OutputCompiler } from '../rule.ts';
import type { Collector, MacroDef, RuleDef } from './collector.ts';
import { expandLists, substituteLists, type ExpandedList } from './lists.ts';
import { LimitError, RULES_LIMITS } from './limits.ts';
import { exceptionConditionText } from './exceptions.ts';
import { diagnosticAt, locate, type RawItem } from './reader.ts';
import type { ErrorCode, LoadDiagnostic, Location, WarningCode } from './diagnostics.ts';

/** Falco's rule loader parses with a deeper limit than libsinsp's default. */
const MAX_DEPTH = 1000;
const TOO_MANY_TYPES = 'Rule matches too many evt.type values. This has a significant performance penalty.';
const UNKNOWN_FILTER = /nonexistent field|invalid formatting token|unknown event type|unknown filter:/;

/**
 * One entry of Falco's `append_output`: text added to the output of the rules it selects (by source, by tags the
 * rule must all carry, by rule name); `suggestedOutput` adds the source's suggested fields (container.id …).
 */
export interface AppendOutput {
  format?: string;
  suggestedOutput?: boolean;
  source?: string;
  tags?: readonly string[];
  rule?: string;
}

export interface CompileInput {
  collector: Collector;
  tables: ReadonlyMap<string, FieldTable<any>>;
  compileOutput?: OutputCompiler;
  appendOutput?: readonly AppendOutput[];
}

const CONTAINER_INFO = '%container.info';

const LATENCY_DESC = 'field is not available due to the drop of enter events.';
/** Falco's deprecated fields (falco_load_result.cpp), in its order, with what its warnings say about them. */
const DEPRECATED_FIELDS = [
  { name: 'evt.dir', desc: "due to the drop of enter events, 'evt.dir = <' always evaluates to true, and 'evt.dir = >' always evaluates to false. The rule expression can be simplified by removing the condition on 'evt.dir'" },
  { name: 'evt.latency', desc: LATENCY_DESC },
  { name: 'evt.latency.s', desc: LATENCY_DESC },
  { name: 'evt.latency.ns', desc: LATENCY_DESC },
  { name: 'evt.latency.human', desc: LATENCY_DESC },
  { name: 'evt.wait_latency', desc: LATENCY_DESC },
];
const DEPRECATED_NAMES = new Set(DEPRECATED_FIELDS.map((f) => f.name));
const EQUALITY_OPS = new Set(['==', '=', '!=', 'in', 'intersects', 'pmatch']);

/** What Falco's warning visitor notices in a condition: deprecated fields anywhere it looks, and "<NA>" checks. */
function conditionFindings(ast: Expr): { deprecated: Set<string>; unsafeNa: boolean } {
  const deprecated = new Set<string>();
  let unsafeNa = false;
  let lastUnsafe = false;
  const fieldLike = (e: FieldLike | TransformerArg): void => {
    if (e.kind === 'field') {
      lastUnsafe = e.field.startsWith('ka.') || e.field.startsWith('jevt.');
      if (DEPRECATED_NAMES.has(e.field)) deprecated.add(e.field);
    } else if (e.kind === 'transformer') e.values.forEach(fieldLike);
    else if (e.kind === 'transformer_list') e.children.forEach(fieldLike);
  };
  const walk = (e: Expr): void => {
    switch (e.kind) {
      case 'and':
      case 'or':
        e.children.forEach(walk);
        break;
      case 'not':
        walk(e.child);
        break;
      case 'unary':
        fieldLike(e.left);
        break;
      case 'binary':
        lastUnsafe = false;
        fieldLike(e.left);
        if (lastUnsafe && EQUALITY_OPS.has(e.op)) {
          const r = e.right;
          if ((r.kind === 'value' && r.value === '<NA>') || (r.kind === 'list' && r.values.includes('<NA>'))) unsafeNa = true;
        }
        break;
    }
  };
  walk(ast);
  return { deprecated, unsafeNa };
}

export interface CompileResult {
  /** Every compiled rule in position order, enabled or not. */
  rules: Array<CompiledRule & { enabled: boolean; index: number }>;
  errors: LoadDiagnostic[];
  warnings: LoadDiagnostic[];
  lists: ExpandedList[];
  /** Resolved macro conditions, for describe. */
  macros: Map<string, string>;
}

/** An error inside a condition, carrying where in the condition text it happened. */
class ConditionProblem extends Error {
  readonly pos: Position;
  readonly item: RawItem;
  readonly text: string;
  /** A resource limit (RULES_LIMITS) was passed. */
  readonly limit: boolean;
  constructor(message: string, pos: Position, item: RawItem, text: string, limit = false) {
    super(message);
    this.pos = pos;
    this.item = item;
    this.text = text;
    this.limit = limit;
  }
}

const START: Position = { idx: 0, line: 1, col: 1 };

export function compileRules(input: CompileInput): CompileResult {
  return new RulesCompiler(input).run();
}

class RulesCompiler {
  private readonly input: CompileInput;
  private readonly usedLists = new Set<string>();
  private readonly usedMacros = new Set<string>();
  private readonly macroAsts = new Map<string, Expr>();
  /** Expanded node count per AST object: macro ASTs are shared, so each is counted once. */
  private readonly sizes = new WeakMap<Expr, number>();
  private readonly resolving: string[] = [];
  private lists: ExpandedList[] = [];
  private readonly result: CompileResult = { rules: [], errors: [], warnings: [], lists: [], macros: new Map() };

  constructor(input: CompileInput) {
    this.input = input;
  }

  run(): CompileResult {
    const { collector } = this.input;
    this.lists = expandLists(collector.lists.values(), this.usedLists);
    this.result.lists = this.lists;
    for (const list of this.lists) {
      if (list.tooBig) {
        this.result.errors.push({ ...diagnosticAt(list.def.item.file, list.def.item.at, 'LOAD_ERR_VALIDATE',
          `list is over the limit: ${list.tooBig}`, { type: 'list', name: list.def.name }), limit: true });
      }
    }
    for (const macro of collector.macros.values()) {
      try {
        this.result.macros.set(macro.name, conditionToString(this.resolvedMacro(macro)));
      } catch (err) {
        this.report(err, 'macro', macro.name, macro.conditionItem);
      }
    }
    const rules = [...collector.rules.values()].sort((a, b) => a.index - b.index);
    for (const rule of rules) this.compileRule(rule);
    for (const macro of collector.macros.values()) {
      if (!this.usedMacros.has(macro.name)) this.warn(macro.conditionItem, 'LOAD_UNUSED_MACRO', 'Macro not referred to by any other rule/macro', 'macro', macro.name);
    }
    for (const list of collector.lists.values()) {
      if (!this.usedLists.has(list.name)) this.warn(list.item, 'LOAD_UNUSED_LIST', 'List not referred to by any other rule/macro', 'list', list.name);
    }
    return this.result;
  }

  /**
   * The rule's output as Falco builds it: append_output entries that select the rule are appended (" " + text),
   * then the retired %container.info is dropped with a deprecation warning (the suggested fields replace it).
   */
  private outputOf(rule: RuleDef, source: string, table: FieldTable<any>): string {
    let output = rule.output;
    for (const extra of this.input.appendOutput ?? []) {
      if (extra.source && extra.source !== source) continue;
      if (extra.tags && !extra.tags.every((t) => rule.tags.includes(t))) continue;
      if (extra.rule && extra.rule !== rule.name) continue;
      if (extra.format) output = `${output} ${extra.format}`;
      const suggested = extra.suggestedOutput ? suggestedOutputFormat(table) : undefined;
      if (suggested) output = `${output} ${suggested}`;
    }
    if (output.includes(CONTAINER_INFO)) {
      this.warn(rule.item, 'LOAD_DEPRECATED_ITEM', '%container.info is deprecated and no more useful, and will be dropped by Falco 1.0.0. The container plugin will automatically add required fields to the output message.', 'rule', rule.name);
      output = output.replaceAll(CONTAINER_INFO, '');
    }
    return output;
  }

  private compileRule(rule: RuleDef): void {
    const source = rule.source ?? 'syscall';
    const table = this.input.tables.get(source);
    if (!table) {
      this.warn(rule.item, 'LOAD_UNKNOWN_SOURCE', `Unknown source ${source}, skipping`, 'rule', rule.name);
      return;
    }
    try {
      for (const ex of rule.exceptions) this.checkExceptionFields(rule, ex.fields, table);
      let text = rule.condition;
      if (rule.exceptions.some((e) => e.values.length > 0)) text = `(${text})${rule.exceptions.map(exceptionConditionText).join('')}`;
      const ast = this.resolve(this.parse(text, rule.conditionItem), undefined, rule.conditionItem, text);
      this.checkSize(ast, rule.conditionItem, text);
      this.conditionWarnings(rule, ast);
      let compiled;
      try {
        compiled = compileCondition(ast, table);
      } catch (err) {
        if (err instanceof ConditionCompileError) throw new ConditionProblem(err.message, err.pos, rule.conditionItem, text);
        throw err;
      }
      for (const w of compiled.warnings) this.warn(rule.conditionItem, 'LOAD_COMPILE_CONDITION', w, 'rule', rule.name);
      const output = this.outputOf(rule, source, table);
      let format;
      if (this.input.compileOutput) {
        try {
          format = this.input.compileOutput(output, table);
        } catch (err) {
          if (rule.skipIfUnknownFilter && UNKNOWN_FILTER.test((err as Error).message)) {
            this.warn(rule.item, 'LOAD_UNKNOWN_FILTER', `Rule skipped: ${(err as Error).message}`, 'rule', rule.name);
            return;
          }
          this.error(rule.item.keyAt('output'), rule.item, 'LOAD_ERR_COMPILE_OUTPUT', (err as Error).message, 'rule', rule.name);
          return;
        }
      }
      for (const f of DEPRECATED_FIELDS) {
        if (output.includes(f.name)) {
          this.warnAt(rule.item.keyAt('output'), rule.item, 'LOAD_DEPRECATED_ITEM', `usage of deprecated field '${f.name}' has been detected in the rule output`, rule.name);
        }
      }
      const eventTypes = source === 'syscall' ? eventTypesOf(ast) : undefined;
      if (source === 'syscall' && eventTypes === undefined && rule.warnEvttypes && rule.enabled) {
        this.warn(rule.item, 'LOAD_NO_EVTTYPE', TOO_MANY_TYPES, 'rule', rule.name);
      }
      const out: CompiledRule & { enabled: boolean; index: number } = {
        name: rule.name,
        desc: rule.desc,
        source,
        priority: rule.priority,
        tags: [...rule.tags].sort(),
        output,
        condition: conditionToString(ast),
        eventTypes,
        // Syscall rules are evaluated through forType; other sources through the inlined whole condition.
        matches: source === 'syscall' ? compiled.matches : inlineCondition(ast, table),
        enabled: rule.enabled,
        index: rule.index,
      };
      if (format) out.format = format;
      if (source === 'syscall') out.forType = (type) => compileForType(ast, type, table);
      this.result.rules.push(out);
    } catch (err) {
      if (rule.skipIfUnknownFilter && err instanceof Error && UNKNOWN_FILTER.test(err.message)) {
        this.warn(rule.item, 'LOAD_UNKNOWN_FILTER', `Rule skipped: ${err.message}`, 'rule', rule.name);
        return;
      }
      this.report(err, 'rule', rule.name, rule.conditionItem);
    }
  }

  private checkExceptionFields(rule: RuleDef, fields: string | string[], table: FieldTable<any>): void {
    for (const field of Array.isArray(fields) ? fields : [fields]) {
      try {
        compileCondition(parseCondition(`${field} exists`), table);
      } catch {
        throw new ConditionProblem(`'${field}' is not a supported filter field`, { idx: 0, line: 1, col: 1 }, rule.item, '');
      }
    }
  }

  private parse(text: string, item: RawItem): Expr {
    let substituted: string;
    try {
      substituted = substituteLists(text, this.lists, this.usedLists);
    } catch (err) {
      if (err instanceof LimitError) throw new ConditionProblem(err.message, START, item, text, true);
      throw err;
    }
    try {
      return parseCondition(substituted, { maxDepth: MAX_DEPTH });
    } catch (err) {
      if (err instanceof ConditionSyntaxError) throw new ConditionProblem(err.message, err.pos, item, substituted);
      throw err;
    }
  }

  /** The macro's AST with its own macro references resolved (only macros visible to it). */
  private resolvedMacro(macro: MacroDef): Expr {
    const cached = this.macroAsts.get(macro.name);
    if (cached) return cached;
    if (this.resolving.includes(macro.name)) {
      throw new ConditionProblem(`reference loop in macro '${macro.name}'`, { idx: 0, line: 1, col: 1 }, macro.conditionItem, macro.condition);
    }
    if (this.resolving.length >= RULES_LIMITS.macroDepth) {
      throw new ConditionProblem(`macros nest deeper than ${RULES_LIMITS.macroDepth} levels (${this.resolving.slice(0, 3).join(' -> ')} -> ...)`,
        START, macro.conditionItem, macro.condition, true);
    }
    this.resolving.push(macro.name);
    try {
      const ast = this.resolve(this.parse(macro.condition, macro.conditionItem), macro.visibility, macro.conditionItem, macro.condition);
      this.checkSize(ast, macro.conditionItem, macro.condition);
      this.macroAsts.set(macro.name, ast);
      return ast;
    } finally {
      this.resolving.pop();
    }
  }

  /** Refuses a condition whose macro-inlined tree passes RULES_LIMITS.expandedNodes (a "macro bomb"). */
  private checkSize(ast: Expr, item: RawItem, text: string): void {
    const n = this.sizeOf(ast);
    if (n > RULES_LIMITS.expandedNodes) {
      throw new ConditionProblem(`the condition expands to ${n > 1e12 ? 'over 10^12' : n} nodes once macros are inlined, over the limit of ${RULES_LIMITS.expandedNodes}`,
        START, item, text, true);
    }
  }

  private sizeOf(e: Expr): number {
    const known = this.sizes.get(e);
    if (known !== undefined) return known;
    let n = 1;
    if (e.kind === 'and' || e.kind === 'or') for (const c of e.children) n += this.sizeOf(c);
    else if (e.kind === 'not') n += this.sizeOf(e.child);
    this.sizes.set(e, n);
    return n;
  }

  /** Replaces macro references (identifiers in check position) by their ASTs. */
  private resolve(e: Expr, visibility: number | undefined, item: RawItem, text: string): Expr {
    switch (e.kind) {
      case 'and':
      case 'or':
        return { ...e, children: e.children.map((c) => this.resolve(c, visibility, item, text)) };
      case 'not':
        return { ...e, child: this.resolve(e.child, visibility, item, text) };
      case 'identifier': {
        const macro = this.input.collector.macros.get(e.identifier);
        if (!macro || (visibility !== undefined && macro.index >= visibility)) {
          throw new ConditionProblem(`Undefined macro '${e.identifier}' used in filter.`, e.pos, item, text);
        }
        this.usedMacros.add(macro.name);
        return this.resolvedMacro(macro);
      }
      default:
        return e;
    }
  }

  private report(err: unknown, type: 'rule' | 'macro', name: string, item: RawItem): void {
    if (err instanceof ConditionProblem) {
      const code: ErrorCode = /is not a supported filter field|Undefined macro|reference loop/.test(err.message)
        ? 'LOAD_ERR_VALIDATE' : 'LOAD_ERR_COMPILE_CONDITION';
      this.error(locateInCondition(err.item, err.text, err.pos), err.item, code, err.message, type, name);
      if (err.limit) this.result.errors.at(-1)!.limit = true;
      return;
    }
    throw err;
  }

  private error(at: Location, item: RawItem, code: ErrorCode, message: string, type: 'rule' | 'macro', name: string): void {
    this.result.errors.push(diagnosticAt(item.file, at, code, message, { type, name }));
  }

  /**
   * Falco's filter_warning_resolver over a rule's condition with its macros expanded: an equality check of a
   * ka.* / jevt.* field against "<NA>" (LOAD_UNSAFE_NA_CHECK), then each deprecated field it names, once each.
   */
  private conditionWarnings(rule: RuleDef, ast: Expr): void {
    const found = conditionFindings(ast);
    const at = rule.conditionItem.keyAt('condition');
    if (found.unsafeNa) this.warnAt(at, rule.conditionItem, 'LOAD_UNSAFE_NA_CHECK', '', rule.name);
    for (const f of DEPRECATED_FIELDS) {
      if (found.deprecated.has(f.name)) this.warnAt(at, rule.conditionItem, 'LOAD_DEPRECATED_ITEM', f.desc, rule.name);
    }
  }

  private warnAt(at: Location, item: RawItem, code: WarningCode, message: string, name: string): void {
    this.result.warnings.push(diagnosticAt(item.file, at, code, message, { type: 'rule', name }));
  }

  private warn(item: RawItem, code: WarningCode, message: string, type: 'rule' | 'macro' | 'list', name: string): void {
    this.result.warnings.push(diagnosticAt(item.file, item.at, code, message, { type, name }));
  }
}

/**
 * Where in the file a position inside a condition is. The condition text went through YAML folding and list
 * substitution, so the offending token is looked up in the condition's source text.
 */
function locateInCondition(item: RawItem, text: string, pos: Position): Location {
  const range = item.valueRange('condition');
  if (!range) return item.at;
  const raw = item.file.source.slice(range[0], range[1]);
  const token = /^[^\s()]{1,40}|^./.exec(text.slice(pos.idx))?.[0];
  if (token) {
    // The first occurrence at or after the same relative line is the best guess.
    const k = raw.indexOf(token);
    if (k >= 0) return locate(item.file, range[0] + k);
  }
  return item.keyAt('condition');
}

const ALWAYS = () => true;

/** A rule's condition for one event type; the whole condition compiled already, so its parts compile too. */
function compileForType(ast: Expr, type: string, table: FieldTable<any>): ((event: any) => boolean) | false {
  const s = specializeForType(ast, type);
  if (s === true) return ALWAYS;
  if (s === false) return false;
  return inlineCondition(s, table);
}
