/**
 * Collects lists, macros and rules across files in order, applying Falco's define / append / override
 * semantics (ENGINE_SEMANTICS.md §2). Nothing is parsed here: conditions stay text until compile time,
 * because list substitution and macro appends are textual.
 */
import { parsePriority, type Priority } from '../../alert/priority.ts';
import { LoadError, type LoadDiagnostic, type WarningCode } from './diagnostics.ts';
import { diagnosticAt, type RawItem } from './reader.ts';
import { normalizeExceptions, type ExceptionDef } from './exceptions.ts';

export interface ListDef {
  name: string;
  items: string[];
  index: number;
  visibility: number;
  item: RawItem;
}

export interface MacroDef {
  name: string;
  condition: string;
  index: number;
  visibility: number;
  /** Where the condition text that compile errors point into was last set. */
  conditionItem: RawItem;
}

export interface RuleDef {
  name: string;
  desc: string;
  condition: string;
  output: string;
  priority: Priority;
  /** Explicitly given source, or undefined for the default (syscall). */
  source: string | undefined;
  tags: string[];
  enabled: boolean;
  exceptions: ExceptionDef[];
  warnEvttypes: boolean;
  skipIfUnknownFilter: boolean;
  /** Falco's `capture` / `capture_duration` (ms): validated and kept, reported by describe; no capture file is written. */
  capture: boolean;
  captureDuration: number;
  index: number;
  visibility: number;
  item: RawItem;
  conditionItem: RawItem;
}

const LIST_KEYS = new Set(['list', 'items', 'append', 'override']);
const MACRO_KEYS = new Set(['macro', 'condition', 'append', 'override']);
const RULE_KEYS = new Set(['rule', 'desc', 'condition', 'output', 'priority', 'source', 'tags', 'enabled', 'exceptions',
  'append', 'override', 'warn_evttypes', 'skip-if-unknown-filter', 'capture', 'capture_duration']);
const RULE_APPENDABLE = new Set(['condition', 'output', 'desc', 'tags', 'exceptions']);
const RULE_REPLACEABLE = new Set(['condition', 'output', 'desc', 'priority', 'capture', 'capture_duration', 'tags', 'exceptions',
  'enabled', 'warn_evttypes', 'skip-if-unknown-filter']);
const OVERRIDABLE = new Set([...RULE_APPENDABLE, ...RULE_REPLACEABLE]);
const MACRO_NAME = /^[a-zA-Z]+[a-zA-Z0-9_]*$/;
const LIST_NAME = /^[^()"'\s=,]+$/;
const DEPRECATED_APPEND = "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.";
const OVERRIDE_WITH_APPEND = "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.";
/** The order in which Falco's reader checks and applies a rule's override keys (rule_loader_reader.cpp). */
const APPEND_ORDER = ['condition', 'exceptions', 'output', 'desc', 'tags'];
const REPLACE_ORDER = ['condition', 'exceptions', 'output', 'desc', 'tags', 'priority', 'capture', 'capture_duration', 'enabled',
  'warn_evttypes', 'skip-if-unknown-filter'];
const YAML_TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const YAML_FALSE = new Set(['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);

export class Collector {
  readonly lists = new Map<string, ListDef>();
  readonly macros = new Map<string, MacroDef>();
  readonly rules = new Map<string, RuleDef>();
  readonly warnings: LoadDiagnostic[] = [];
  private counter = 0;

  add(item: RawItem): void {
    if (item.kind === 'list') this.addList(item);
    else if (item.kind === 'macro') this.addMacro(item);
    else if (item.kind === 'rule') this.addRule(item);
  }

  // --- lists

  private addList(item: RawItem): void {
    if (!LIST_NAME.test(item.name)) {
      this.warn(item, 'LOAD_INVALID_LIST_NAME', `List has an invalid name. List names should match a regular expression: [^()"'[:space:]=,]+`);
    }
    const items = this.stringList(item, 'items', true);
    const mode = this.overrideMode(item, new Set(['items']));
    const existing = this.lists.get(item.name);
    const counter = ++this.counter;
    if (mode === 'append') {
      if (!existing) this.fail(item, 'list', "List uses 'append' or 'override.items: append' but no list by that name already exists");
      for (const x of items) existing!.items.push(x); // no spread: a long list overflows the stack
      existing!.visibility = counter;
    } else if (existing) {
      existing.items = items;
      existing.visibility = counter;
      existing.item = item;
    } else {
      this.lists.set(item.name, { name: item.name, items, index: counter, visibility: counter, item });
    }
    // Falco warns about unknown keys once the item is in (an item that fails gets its error only).
    this.warnUnknownKeys(item, LIST_KEYS);
  }

  // --- macros

  private addMacro(item: RawItem): void {
    if (!MACRO_NAME.test(item.name)) {
      this.warn(item, 'LOAD_INVALID_MACRO_NAME', 'Macro has an invalid name. Macro names should match a regular expression: [a-zA-Z]+[a-zA-Z0-9_]*');
    }
    const condition = this.requireString(item, 'condition', 'macro');
    const mode = this.overrideMode(item, new Set(['condition']));
    const existing = this.macros.get(item.name);
    const counter = ++this.counter;
    if (mode === 'append') {
      if (!existing) this.fail(item, 'macro', "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists");
      existing!.condition = `${existing!.condition} ${condition}`;
      existing!.visibility = counter;
    } else if (existing) {
      existing.condition = condition;
      existing.visibility = counter;
      existing.conditionItem = item;
    } else {
      this.macros.set(item.name, { name: item.name, condition, index: counter, visibility: counter, conditionItem: item });
    }
    this.warnUnknownKeys(item, MACRO_KEYS);
  }

  // --- rules

  private addRule(item: RawItem): void {
    this.ruleItem(item);
    this.warnUnknownKeys(item, RULE_KEYS);
  }

  /**
   * One rule item, checked in the order of Falco's reader: the deprecated `append: true` warning, each override
   * operation, `override` with `append: true`, then the append keys (each must be present), the rule to append
   * to, the replace keys, the rule to replace in, and last any overridable key without an override entry.
   */
  private ruleItem(item: RawItem): void {
    const d = item.data;
    const existing = this.rules.get(item.name);
    const counter = ++this.counter;
    const source = d.source === null || d.source === undefined || d.source === '' ? undefined : String(d.source);
    const checkSource = () => {
      if (existing && source !== undefined && (existing.source ?? 'syscall') !== source) {
        this.fail(item, 'rule', 'Rule has been re-defined with a different source');
      }
    };
    const appendFlag = this.appendFlag(item);

    if (d.override !== undefined) {
      const ops = this.ruleOverrides(item);
      if (appendFlag) this.yamlFail(item, 'rule', OVERRIDE_WITH_APPEND);
      const expected = new Set([...OVERRIDABLE].filter((k) => d[k] !== undefined));
      const take = (op: 'append' | 'replace', order: string[]) => order.filter((key) => {
        if (ops.get(key) !== op) return false;
        if (!expected.has(key)) this.yamlFail(item, 'rule', `An ${op} override for '${key}' was specified but '${key}' is not defined`);
        expected.delete(key);
        this.decodeRuleKey(item, key);
        return true;
      });
      const appends = take('append', APPEND_ORDER);
      if (appends.length && !existing) this.fail(item, 'rule', "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists");
      const replaces = take('replace', REPLACE_ORDER);
      if (replaces.length && !existing) {
        this.fail(item, 'rule', "An 'override.<key>: replace' to a rule was requested but no rule by that name already exists");
      }
      for (const key of [...expected].sort()) {
        this.yamlFail(item, 'rule', `Unexpected key '${key}': no corresponding entry under 'override' is defined.`, key);
      }
      checkSource();
      const rule = existing!;
      for (const key of appends) this.appendRuleKey(rule, item, key);
      for (const key of replaces) this.replaceRuleKey(rule, item, key);
      rule.visibility = counter;
      return;
    }

    if (appendFlag) {
      if (!existing) this.fail(item, 'rule', "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists");
      if (d.condition === undefined && d.exceptions === undefined) this.fail(item, 'rule', 'Appended rule must have exceptions or condition property');
      checkSource();
      const rule = existing!;
      if (d.condition !== undefined) this.appendRuleKey(rule, item, 'condition');
      if (d.exceptions !== undefined) this.appendRuleKey(rule, item, 'exceptions');
      rule.visibility = counter;
      return;
    }

    const isEnableOnly = ['condition', 'output', 'desc', 'priority'].every((k) => d[k] === undefined);
    if (isEnableOnly) {
      if (d.enabled === undefined) this.fail(item, 'rule', "Item has no mapping for key 'condition'");
      this.warn(item, 'LOAD_DEPRECATED_ITEM', "The standalone 'enabled' key usage is deprecated. The correct approach requires also a 'replace' entry under the 'override' key (i.e. 'enabled: replace').");
      if (!existing) this.fail(item, 'rule', "Rule has 'enabled' key but no rule by that name already exists");
      existing!.enabled = this.bool(item, 'enabled', true);
      existing!.visibility = counter;
      return;
    }

    // Decoded in the order of Falco's reader, so the first problem reported is the one Falco reports.
    const condition = this.requireString(item, 'condition', 'rule');
    const output = this.requireString(item, 'output', 'rule').trim();
    const desc = this.requireString(item, 'desc', 'rule');
    const priority = this.priority(item);
    const enabled = this.bool(item, 'enabled', true);
    const capture = this.bool(item, 'capture', false);
    const captureDuration = this.uint32(item, 'capture_duration', 0);
    const warnEvttypes = this.bool(item, 'warn_evttypes', true);
    const skipIfUnknownFilter = this.bool(item, 'skip-if-unknown-filter', false);
    const tags = [...new Set(this.stringList(item, 'tags', false))];
    const exceptions = this.exceptions(item);
    const rule: RuleDef = {
      name: item.name, condition, output, desc, priority, source, tags, enabled, exceptions, warnEvttypes, skipIfUnknownFilter,
      capture, captureDuration,
      index: counter,
      visibility: counter,
      item,
      conditionItem: item,
    };
    if (existing) {
      checkSource();
      rule.index = existing.index; // a redefinition keeps the rule's original position
    }
    this.rules.set(item.name, rule);
  }

  /** The `override:` map of a rule item, each operation checked in the item's order as Falco's decode_overrides does. */
  private ruleOverrides(item: RawItem): Map<string, 'append' | 'replace'> {
    const o = item.data.override;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) this.yamlFail(item, 'rule', "Key 'override' must be a map");
    const ops = new Map<string, 'append' | 'replace'>();
    for (const [key, op] of Object.entries(o as Record<string, unknown>)) {
      if (op === 'append') {
        if (!RULE_APPENDABLE.has(key)) this.yamlFail(item, 'rule', `Key '${key}' cannot be appended to, use 'replace' instead`);
      } else if (op === 'replace') {
        if (!RULE_REPLACEABLE.has(key)) this.yamlFail(item, 'rule', `Key '${key}' cannot be replaced`);
      } else {
        const allowed = `${RULE_APPENDABLE.has(key) ? 'append ' : ''}${RULE_REPLACEABLE.has(key) ? 'replace ' : ''}`;
        this.yamlFail(item, 'rule', `Invalid override operation for key '${key}': '${String(op)}'. Allowed values are: ${allowed}`);
      }
      ops.set(key, op as 'append' | 'replace');
    }
    return ops;
  }

  /** Decodes (validates) one overridden key's value as the reader does before handing it to the collector. */
  private decodeRuleKey(item: RawItem, key: string): void {
    switch (key) {
      case 'condition': case 'output': case 'desc': this.requireString(item, key, 'rule'); break;
      case 'priority': this.priority(item); break;
      case 'tags': this.stringList(item, 'tags', false); break;
      case 'capture': case 'enabled': case 'warn_evttypes': case 'skip-if-unknown-filter': this.bool(item, key, false); break;
      case 'capture_duration': this.uint32(item, key, 0); break;
    }
  }

  private appendRuleKey(rule: RuleDef, item: RawItem, key: string): void {
    switch (key) {
      case 'condition':
        rule.condition = `${rule.condition} ${this.requireString(item, 'condition', 'rule')}`;
        rule.conditionItem = item;
        break;
      case 'output':
        rule.output = `${rule.output} ${this.requireString(item, 'output', 'rule')}`.trim();
        break;
      case 'desc':
        rule.desc = `${rule.desc} ${this.requireString(item, 'desc', 'rule')}`;
        break;
      case 'tags':
        rule.tags = [...new Set([...rule.tags, ...this.stringList(item, 'tags', false)])];
        break;
      case 'exceptions':
        this.appendExceptions(rule, item);
        break;
    }
  }

  private replaceRuleKey(rule: RuleDef, item: RawItem, key: string): void {
    switch (key) {
      case 'condition':
        rule.condition = this.requireString(item, 'condition', 'rule');
        rule.conditionItem = item;
        break;
      case 'output':
        rule.output = this.requireString(item, 'output', 'rule').trim();
        break;
      case 'desc':
        rule.desc = this.requireString(item, 'desc', 'rule');
        break;
      case 'priority':
        rule.priority = this.priority(item);
        break;
      case 'tags':
        rule.tags = [...new Set(this.stringList(item, 'tags', false))];
        break;
      case 'exceptions':
        rule.exceptions = this.exceptions(item);
        if (rule.exceptions.some((e) => e.values.length === 0)) this.warn(item, 'LOAD_APPEND_NO_VALUES', 'Overriding/appending exception with no values');
        break;
      case 'enabled':
        rule.enabled = this.bool(item, 'enabled', true);
        break;
      case 'warn_evttypes':
        rule.warnEvttypes = this.bool(item, 'warn_evttypes', true);
        break;
      case 'skip-if-unknown-filter':
        rule.skipIfUnknownFilter = this.bool(item, 'skip-if-unknown-filter', false);
        break;
      case 'capture':
        rule.capture = this.bool(item, 'capture', false);
        break;
      case 'capture_duration':
        rule.captureDuration = this.uint32(item, 'capture_duration', 0);
        break;
    }
  }

  /** Appending exceptions: a known name may only gain values; a new one needs fields and values. */
  private appendExceptions(rule: RuleDef, item: RawItem): void {
    const raw = item.data.exceptions;
    if (!Array.isArray(raw)) this.fail(item, 'rule', "Rule exceptions must be a sequence");
    for (const entry of raw as unknown[]) {
      const ex = entry as Record<string, unknown>;
      this.warnUnknownKeys(item, new Set(['name', 'fields', 'comps', 'values']), ex);
      const name = String(ex?.name ?? '');
      const known = rule.exceptions.find((e) => e.name === name);
      if (known) {
        if (ex.fields !== undefined) this.fail(item, 'rule', 'Can not append exception fields to existing exception, only values');
        if (ex.comps !== undefined) this.fail(item, 'rule', 'Can not append exception comps to existing exception, only values');
        const values = Array.isArray(ex.values) ? ex.values : [];
        if (values.length === 0) this.warn(item, 'LOAD_APPEND_NO_VALUES', 'Overriding/appending exception with no values');
        const [checked] = normalizeExceptions([{ name, fields: known.fields, comps: known.comps, values }], (m) => this.fail(item, 'rule', m));
        for (const v of checked!.values) known.values.push(v);
      } else {
        if (ex.fields === undefined || ex.values === undefined) this.fail(item, 'rule', `Rule exception new item ${name}: must have fields and values`);
        rule.exceptions.push(...normalizeExceptions([ex], (m) => this.fail(item, 'rule', m)));
      }
    }
  }

  private exceptions(item: RawItem): ExceptionDef[] {
    const raw = item.data.exceptions;
    if (raw === undefined || raw === null) return [];
    if (!Array.isArray(raw)) this.fail(item, 'rule', 'Rule exceptions must be a sequence');
    for (const ex of raw as unknown[]) this.warnUnknownKeys(item, new Set(['name', 'fields', 'comps', 'values']), ex as Record<string, unknown>);
    const list = normalizeExceptions(raw as Record<string, unknown>[], (m) => this.fail(item, 'rule', m));
    const seen = new Set<string>();
    for (const e of list) {
      if (seen.has(e.name)) this.warn(item, 'LOAD_EXCEPTION_NAME_NOT_UNIQUE', `Multiple definitions of exception '${e.name}' in the same rule`);
      seen.add(e.name);
    }
    return list;
  }

  // --- value helpers

  /** `append: true`, with Falco's deprecation warning (given before any override check, as Falco does). */
  private appendFlag(item: RawItem): boolean {
    const on = this.bool(item, 'append', false);
    if (on) this.warn(item, 'LOAD_DEPRECATED_ITEM', DEPRECATED_APPEND);
    return on;
  }

  /** 'append' / 'replace' / 'define' for list and macro items (`append: true` or `override: {<key>: ...}`). */
  private overrideMode(item: RawItem, keys: Set<string>): 'append' | 'replace' | 'define' {
    const appendFlag = this.appendFlag(item);
    const o = item.data.override;
    let mode: 'append' | 'replace' | 'define' = appendFlag ? 'append' : 'define';
    if (o === undefined) return mode;
    const kind = item.kind as 'list';
    if (typeof o !== 'object' || o === null || Array.isArray(o)) this.yamlFail(item, kind, "Key 'override' must be a map");
    let any = false;
    for (const [key, op] of Object.entries(o as Record<string, unknown>)) {
      if (op === 'append') {
        if (!keys.has(key)) this.yamlFail(item, kind, `Key '${key}' cannot be appended to, use 'replace' instead`);
      } else if (op === 'replace') {
        if (!keys.has(key)) this.yamlFail(item, kind, `Key '${key}' cannot be replaced`);
      } else {
        const allowed = keys.has(key) ? 'append replace ' : '';
        this.yamlFail(item, kind, `Invalid override operation for key '${key}': '${String(op)}'. Allowed values are: ${allowed}`);
      }
      any = true;
      if (!appendFlag) mode = op === 'append' ? 'append' : mode;
    }
    if (appendFlag && any) this.yamlFail(item, kind, OVERRIDE_WITH_APPEND);
    return mode;
  }

  /** decode_val<std::string>: any scalar, present and non-empty. */
  private requireString(item: RawItem, key: string, type: 'rule' | 'macro' | 'list'): string {
    const v = item.data[key];
    if (v === undefined) this.yamlFail(item, type, `Item has no mapping for key '${key}'`);
    if (v === null) this.yamlFail(item, type, `Mapping for key '${key}' is empty`);
    if (typeof v === 'object') this.yamlFail(item, type, 'Value is not a scalar value', key);
    if (v === '') this.yamlFail(item, type, 'Value must be non-empty', key);
    return String(v);
  }

  /** decode_seq: a sequence of scalars (`items` is required). */
  private stringList(item: RawItem, key: string, required: boolean): string[] {
    const v = item.data[key];
    if (v === undefined) {
      if (required) this.yamlFail(item, item.kind as 'list', `Item has no mapping for key '${key}'`);
      return [];
    }
    if (!Array.isArray(v)) this.yamlFail(item, item.kind as 'list', 'Value is not a sequence', key);
    return (v as unknown[]).map((x) => {
      if (typeof x === 'object' && x !== null) this.yamlFail(item, item.kind as 'list', 'sequence value is not scalar', key);
      return String(x);
    });
  }

  /** An optional boolean as yaml-cpp decodes one (true/yes/on/y and their negations, in three cases). */
  private bool(item: RawItem, key: string, fallback: boolean): boolean {
    const v = item.data[key];
    if (v === undefined) return fallback;
    const kind = item.kind as 'rule';
    if (v === null) this.yamlFail(item, kind, `Mapping for key '${key}' is empty`);
    if (typeof v === 'object') this.yamlFail(item, kind, 'Value is not a scalar value', key);
    if (typeof v === 'boolean') return v;
    if (v === '') this.yamlFail(item, kind, 'Value must be non-empty', key);
    if (typeof v === 'string' && YAML_TRUE.has(v)) return true;
    if (typeof v === 'string' && YAML_FALSE.has(v)) return false;
    return this.yamlFail(item, kind, "Can't decode YAML scalar value", key);
  }

  /** An optional unsigned 32-bit integer (capture_duration). */
  private uint32(item: RawItem, key: string, fallback: number): number {
    const v = item.data[key];
    if (v === undefined) return fallback;
    if (v === null) this.yamlFail(item, 'rule', `Mapping for key '${key}' is empty`);
    if (typeof v === 'object') this.yamlFail(item, 'rule', 'Value is not a scalar value', key);
    if (v === '') this.yamlFail(item, 'rule', 'Value must be non-empty', key);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) this.yamlFail(item, 'rule', "Can't decode YAML scalar value", key);
    return v as number;
  }

  private priority(item: RawItem): Priority {
    const raw = this.requireString(item, 'priority', 'rule');
    const p = parsePriority(raw);
    if (!p) this.yamlFail(item, 'rule', `Invalid priority`, 'priority');
    return p!;
  }

  private warnUnknownKeys(item: RawItem, known: Set<string>, data: Record<string, unknown> = item.data): void {
    if (typeof data !== 'object' || data === null) return;
    for (const key of Object.keys(data)) {
      if (!known.has(key)) this.warn(item, 'LOAD_UNKNOWN_KEY', `Unknown key '${key}'. The key will be ignored.`);
    }
  }

  private warn(item: RawItem, code: WarningCode, message: string): void {
    this.warnings.push(diagnosticAt(item.file, item.at, code, message, { type: item.kind as 'rule', name: item.name }));
  }

  /** An error of the collector's checks (Falco: LOAD_ERR_VALIDATE): the item does not fit what was loaded before. */
  private fail(item: RawItem, type: 'rule' | 'macro' | 'list', message: string, key?: string): never {
    const at = key ? item.keyAt(key) : item.at;
    throw new LoadError(diagnosticAt(item.file, at, 'LOAD_ERR_VALIDATE', message, { type, name: item.name }));
  }

  /** An error of the reader's checks (Falco: LOAD_ERR_YAML_VALIDATE): the item itself is malformed. */
  private yamlFail(item: RawItem, type: 'rule' | 'macro' | 'list', message: string, key?: string): never {
    const at = key ? item.keyAt(key) : item.at;
    throw new LoadError(diagnosticAt(item.file, at, 'LOAD_ERR_YAML_VALIDATE', message, { type, name: item.name }));
  }
}
