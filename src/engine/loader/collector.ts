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
    this.warnUnknownKeys(item, LIST_KEYS);
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
      return;
    }
    if (existing) {
      existing.items = items;
      existing.visibility = counter;
      existing.item = item;
    } else {
      this.lists.set(item.name, { name: item.name, items, index: counter, visibility: counter, item });
    }
  }

  // --- macros

  private addMacro(item: RawItem): void {
    this.warnUnknownKeys(item, MACRO_KEYS);
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
      return;
    }
    if (existing) {
      existing.condition = condition;
      existing.visibility = counter;
      existing.conditionItem = item;
    } else {
      this.macros.set(item.name, { name: item.name, condition, index: counter, visibility: counter, conditionItem: item });
    }
  }

  // --- rules

  private addRule(item: RawItem): void {
    this.warnUnknownKeys(item, RULE_KEYS);
    const d = item.data;
    const existing = this.rules.get(item.name);
    const counter = ++this.counter;
    const source = d.source === null || d.source === undefined || d.source === '' ? undefined : String(d.source);
    const checkSource = () => {
      if (existing && source !== undefined && (existing.source ?? 'syscall') !== source) {
        this.fail(item, 'rule', 'Rule has been re-defined with a different source');
      }
    };

    if (d.override !== undefined) {
      if (d.append === true) {
        this.fail(item, 'rule', "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.");
      }
      const ops = this.ruleOverrides(item);
      const appends = [...ops].filter(([, op]) => op === 'append').map(([k]) => k);
      if (!existing) {
        this.fail(item, 'rule', appends.length
          ? "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists"
          : "An 'override.<key>: replace' to a rule was requested but no rule by that name already exists");
      }
      checkSource();
      const rule = existing!;
      for (const [key, op] of ops) {
        if (op === 'append') this.appendRuleKey(rule, item, key);
        else this.replaceRuleKey(rule, item, key);
      }
      rule.visibility = counter;
      return;
    }

    if (d.append === true) {
      this.warn(item, 'LOAD_DEPRECATED_ITEM', DEPRECATED_APPEND);
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

    const rule: RuleDef = {
      name: item.name,
      condition: this.requireString(item, 'condition', 'rule'),
      output: this.requireString(item, 'output', 'rule').trim(),
      desc: this.requireString(item, 'desc', 'rule'),
      priority: this.priority(item),
      source,
      tags: [...new Set(this.stringList(item, 'tags', false))],
      enabled: this.bool(item, 'enabled', true),
      exceptions: this.exceptions(item),
      warnEvttypes: this.bool(item, 'warn_evttypes', true),
      skipIfUnknownFilter: this.bool(item, 'skip-if-unknown-filter', false),
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

  /** Validates the `override:` map of a rule item: operations, allowed keys, keys present. */
  private ruleOverrides(item: RawItem): Map<string, 'append' | 'replace'> {
    const o = item.data.override;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) this.fail(item, 'rule', "Key 'override' must be a map");
    const ops = new Map<string, 'append' | 'replace'>();
    for (const [key, op] of Object.entries(o as Record<string, unknown>)) {
      if (op !== 'append' && op !== 'replace') {
        this.fail(item, 'rule', `Invalid override operation for key '${key}': '${String(op)}'. Allowed values are: append replace `);
      }
      if (op === 'append' && !RULE_APPENDABLE.has(key)) this.fail(item, 'rule', `Key '${key}' cannot be appended to, use 'replace' instead`);
      if (op === 'replace' && !RULE_REPLACEABLE.has(key)) this.fail(item, 'rule', `Key '${key}' cannot be replaced`);
      if (item.data[key] === undefined) {
        this.fail(item, 'rule', `${op === 'append' ? 'An append' : 'A replace'} override for '${key}' was specified but '${key}' is not defined`);
      }
      ops.set(key, op as 'append' | 'replace');
    }
    for (const key of Object.keys(item.data)) {
      if (OVERRIDABLE.has(key) && !ops.has(key)) {
        this.fail(item, 'rule', `Unexpected key '${key}': no corresponding entry under 'override' is defined.`);
      }
    }
    return ops;
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

  /** 'append' / 'replace' / 'define' for list and macro items (`append: true` or `override: {<key>: ...}`). */
  private overrideMode(item: RawItem, keys: Set<string>): 'append' | 'replace' | 'define' {
    const o = item.data.override;
    if (o !== undefined) {
      if (item.data.append === true) {
        this.fail(item, item.kind as 'list', "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.");
      }
      if (typeof o !== 'object' || o === null) this.fail(item, item.kind as 'list', "Key 'override' must be a map");
      let mode: 'append' | 'replace' | 'define' = 'define';
      for (const [key, op] of Object.entries(o as Record<string, unknown>)) {
        if (!keys.has(key)) continue; // a key that lists/macros do not have is ignored, as Falco does
        if (op !== 'append' && op !== 'replace') {
          this.fail(item, item.kind as 'list', `Invalid override operation for key '${key}': '${String(op)}'. Allowed values are: append replace `);
        }
        mode = op as 'append' | 'replace';
      }
      return mode;
    }
    if (item.data.append === true) {
      this.warn(item, 'LOAD_DEPRECATED_ITEM', DEPRECATED_APPEND);
      return 'append';
    }
    return 'define';
  }

  private requireString(item: RawItem, key: string, type: 'rule' | 'macro' | 'list'): string {
    const v = item.data[key];
    if (v === undefined) this.fail(item, type, `Item has no mapping for key '${key}'`);
    if (v === null || v === '') this.fail(item, type, `Mapping for key '${key}' is empty`, key);
    if (typeof v === 'object') this.fail(item, type, `Value of key '${key}' must be a string`, key);
    return String(v);
  }

  private stringList(item: RawItem, key: string, required: boolean): string[] {
    const v = item.data[key];
    if (v === undefined || v === null) {
      if (required) this.fail(item, item.kind as 'list', `Item has no mapping for key '${key}'`);
      return [];
    }
    if (!Array.isArray(v)) this.fail(item, item.kind as 'list', `Value of key '${key}' must be a sequence`, key);
    return (v as unknown[]).map((x) => {
      if (typeof x === 'object' && x !== null) this.fail(item, item.kind as 'list', `Items of key '${key}' must be strings`, key);
      return String(x);
    });
  }

  private bool(item: RawItem, key: string, fallback: boolean): boolean {
    const v = item.data[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail(item, 'rule', `Value of key '${key}' must be true or false`, key);
    return v as boolean;
  }

  private priority(item: RawItem): Priority {
    const raw = this.requireString(item, 'priority', 'rule');
    const p = parsePriority(raw);
    if (!p) this.fail(item, 'rule', `Invalid priority`, 'priority');
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

  private fail(item: RawItem, type: 'rule' | 'macro' | 'list', message: string, key?: string): never {
    const at = key ? item.keyAt(key) : item.at;
    throw new LoadError(diagnosticAt(item.file, at, 'LOAD_ERR_VALIDATE', message, { type, name: item.name }));
  }
}
