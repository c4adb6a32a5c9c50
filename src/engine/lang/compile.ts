/**
 * Compiles a condition AST against a source's field table into one closure per node: field lookups,
 * argument checks, operator/type compatibility and constant parsing happen once here, so evaluating an
 * event is plain function calls (no tree walking). Semantics: FILTER_LANGUAGE.md §2, §5.
 */
import type { BinaryCheckExpr, Expr, FieldExpr, FieldLike, Position, TransformerArg, TransformerExpr } from './ast.ts';
import type { FieldDef, FieldScalar, FieldTable, FieldType, FieldValue } from '../fields/field.ts';
import { globMatcher, pathPrefixMatcher, regexMatcher } from './match.ts';
import { parseIp, parseNet, type IpNet } from './ip.ts';
import { TRANSFORMERS } from './parser.ts';

export class ConditionCompileError extends Error {
  readonly code = 'PRG_CONDITION_COMPILE';
  readonly pos: Position;
  constructor(message: string, pos: Position) {
    super(message);
    this.name = 'ConditionCompileError';
    this.pos = pos;
  }
}

export type Predicate = (event: any) => boolean;

export interface CompiledCondition {
  matches: Predicate;
  /** Non-fatal findings (a field name used as a string constant, a regex that could be a simpler operator). */
  warnings: string[];
}

/** What a value compares as. */
type Kind = 'string' | 'bytes' | 'int' | 'bool' | 'ip' | 'net';

/** Something that yields a value for an event: a field, or a transformer over fields. */
interface Operand {
  kind: Kind;
  /** List-valued: only in/intersects apply, to the whole list. */
  isList: boolean;
  extract: (event: any) => FieldValue;
}

const KIND_OF: Record<FieldType, Kind> = {
  charbuf: 'string', fspath: 'string', fsrelpath: 'string', bytebuf: 'bytes',
  uint8: 'int', uint16: 'int', uint32: 'int', uint64: 'int', int8: 'int', int16: 'int', int32: 'int', int64: 'int',
  double: 'int', bool: 'bool', ipaddr: 'ip', ipnet: 'net', port: 'int', l4proto: 'string', sockfamily: 'string',
  abstime: 'int', reltime: 'int', errno: 'int', fd: 'int', pid: 'int', uid: 'int', gid: 'int', mode: 'int',
  flags32: 'int', syscallid: 'int', sigtype: 'int',
};

const NUMERIC_OPS = ['=', '==', '!=', '<', '<=', '>', '>=', 'in', 'intersects'];
const OPS_BY_KIND: Record<Kind, string[]> = {
  int: NUMERIC_OPS,
  bool: ['=', '==', '!=', 'in', 'intersects'],
  string: ['=', '==', '!=', '<', '<=', '>', '>=', 'contains', 'icontains', 'startswith', 'endswith', 'glob', 'iglob', 'pmatch', 'regex', 'in', 'intersects'],
  bytes: ['=', '==', '!=', 'contains', 'startswith', 'endswith', 'in', 'intersects', 'bcontains', 'bstartswith'],
  ip: ['=', '==', '!=', 'in', 'intersects'],
  net: ['=', '==', '!=', 'in', 'intersects'],
};
const KIND_TEXT: Record<Kind, string> = { int: 'numeric', bool: 'bool', string: 'string', bytes: 'buffer', ip: 'IP address', net: 'IP network' };
const STRING_INPUT: ReadonlySet<Kind> = new Set(['string', 'bytes']);
const TRANSFORMER_RE = new RegExp(`^(?:${[...TRANSFORMERS, 'val'].join('|')})\\(\\s*(.*?)\\s*\\)$`);

export function compileCondition(expr: Expr, table: FieldTable<any>): CompiledCondition {
  const c = new Compiler(table);
  const matches = c.compile(expr);
  return { matches, warnings: c.warnings };
}

/**
 * The same condition as compileCondition, as one generated function: and/or/not become JavaScript
 * operators and each check reads its field and applies its test at its own call site. Every call site
 * then has a single target, which V8 can inline — the closure tree's shared `and`/`anyValue` closures
 * call a different function per rule and stay megamorphic. No rule text enters the generated source:
 * fields, constants and tests stay in closures, referenced by index. For conditions already compiled
 * once (their errors and warnings were reported then).
 */
export function inlineCondition(expr: Expr, table: FieldTable<any>): Predicate {
  const c = new Compiler(table);
  const refs: unknown[] = [];
  const ref = (x: unknown) => `r${refs.push(x) - 1}`;
  let values = 0;
  const emit = (e: Expr): string => {
    switch (e.kind) {
      case 'and':
      case 'or':
        return `(${e.children.map(emit).join(e.kind === 'and' ? ' && ' : ' || ')})`;
      case 'not':
        return `!${emit(e.child)}`;
      case 'binary': {
        const parts = c.binaryParts(e);
        if ('predicate' in parts) return `${ref(parts.predicate)}(ev)`;
        const v = `v${values++}`;
        const test = ref(parts.test);
        return `((${v} = ${ref(parts.left.extract)}(ev)) !== undefined && (Array.isArray(${v}) ? ${ref(anyOf)}(${v}, ${test}) : ${test}(${v})))`;
      }
      default:
        return `${ref(c.compile(e))}(ev)`;
    }
  };
  const body = emit(expr);
  const locals = Array.from({ length: values }, (_, i) => `v${i}`);
  const source = `return function condition(ev) {${locals.length ? ` let ${locals.join(', ')};` : ''} return ${body}; };`;
  return new Function(...refs.map((_, i) => `r${i}`), source)(...refs) as Predicate;
}

function anyOf(values: FieldScalar[], test: (x: FieldScalar) => boolean): boolean {
  for (const x of values) if (test(x)) return true;
  return false;
}

/** Resolves `name`, `name[arg]` or the dot form `evt.arg.flags` to a field definition and its argument. */
export function resolveField(table: FieldTable<any>, name: string, arg: string | undefined): { def: FieldDef<any>; arg: string | undefined } | undefined {
  const def = table.fields.get(name);
  if (def) return { def, arg };
  if (arg !== undefined) return undefined;
  for (let dot = name.lastIndexOf('.'); dot > 0; dot = name.lastIndexOf('.', dot - 1)) {
    const base = table.fields.get(name.slice(0, dot));
    if (base?.arg?.dotForm) return { def: base, arg: name.slice(dot + 1) };
  }
  return undefined;
}

class Compiler {
  readonly warnings: string[] = [];
  private readonly table: FieldTable<any>;

  constructor(table: FieldTable<any>) {
    this.table = table;
  }

  compile(e: Expr): Predicate {
    switch (e.kind) {
      case 'and': {
        const parts = e.children.map((c) => this.compile(c));
        if (parts.length === 2) {
          const [a, b] = parts as [Predicate, Predicate];
          return (ev) => a(ev) && b(ev);
        }
        return (ev) => {
          for (const p of parts) if (!p(ev)) return false;
          return true;
        };
      }
      case 'or': {
        const parts = e.children.map((c) => this.compile(c));
        if (parts.length === 2) {
          const [a, b] = parts as [Predicate, Predicate];
          return (ev) => a(ev) || b(ev);
        }
        return (ev) => {
          for (const p of parts) if (p(ev)) return true;
          return false;
        };
      }
      case 'not': {
        const inner = this.compile(e.child);
        return (ev) => !inner(ev);
      }
      case 'identifier':
        throw new ConditionCompileError(`Undefined macro '${e.identifier}' used in filter.`, e.pos);
      case 'unary': {
        const left = this.operand(e.left);
        return (ev) => {
          const v = left.extract(ev);
          return v !== undefined && !(Array.isArray(v) && v.length === 0 && !left.isList);
        };
      }
      case 'binary':
        return this.compileBinary(e);
    }
  }

  private compileBinary(e: BinaryCheckExpr): Predicate {
    const parts = this.binaryParts(e);
    return 'predicate' in parts ? parts.predicate : anyValue(parts.left, parts.test);
  }

  /**
   * A binary check, either as a whole predicate or, in the common shape, as an operand and a test of
   * one of its values (true if any value passes), which inlineCondition turns into straight-line code.
   */
  binaryParts(e: BinaryCheckExpr): { predicate: Predicate } | { left: Operand; test: (x: FieldScalar) => boolean } {
    const left = this.operand(e.left);
    const op = e.op;
    if (left.isList && op !== 'in' && op !== 'intersects') {
      throw new ConditionCompileError(`filter error: '${op}' operator not supported list filters`, e.pos);
    }
    if (!OPS_BY_KIND[left.kind].includes(op)) {
      throw new ConditionCompileError(`filter error: '${op}' operator not supported for ${KIND_TEXT[left.kind]} filters`, e.pos);
    }
    if (e.modifier && (NUMERIC_OPS.includes(op) && !['=', '==', '!='].includes(op) || left.kind === 'int' || left.kind === 'bool' || left.isList)) {
      throw new ConditionCompileError(`filter error: '${e.modifier}' modifier not supported with '${op}' on ${KIND_TEXT[left.kind]} filters`, e.pos);
    }
    const right = e.right;
    if (right.kind === 'field' || right.kind === 'transformer') return { predicate: this.compileDynamic(e, left, right) };

    const fieldDef = e.left.kind === 'field' ? resolveField(this.table, e.left.field, e.left.arg)?.def : undefined;
    const values = right.kind === 'list' ? right.values : right.kind === 'identifier' ? [right.identifier] : [right.value];
    for (const v of values) this.checkConstant(v, left, op, fieldDef, right.pos);
    if (right.kind === 'value') this.warnMisuse(right.value, op);

    if (e.modifier) {
      const tests = values.map((v) => this.scalarTest(op, left.kind, v, right.pos));
      const mod = e.modifier;
      return {
        left,
        test: (x) => {
          if (tests.length === 0) return false;
          let n = 0;
          for (const t of tests) if (t(x)) n++;
          return mod === 'oneof' ? n === 1 : mod === 'anyof' ? n >= 1 : n === tests.length;
        },
      };
    }
    if (op === 'in' || op === 'intersects') {
      const member = this.memberTest(left.kind, values, right.pos);
      if (left.isList) {
        return {
          predicate: (ev) => {
            const v = left.extract(ev);
            if (v === undefined) return false;
            const list = Array.isArray(v) ? v : [v];
            return op === 'in' ? list.every(member) : list.some(member);
          },
        };
      }
      return { left, test: member };
    }
    if (op === 'pmatch') {
      const match = pathPrefixMatcher(values);
      return { left, test: (x) => typeof x === 'string' && match(x) };
    }
    if (right.kind === 'list') throw new ConditionCompileError(`filter error: '${op}' operator does not accept a list`, right.pos);
    const test = this.scalarTest(op, left.kind, values[0]!, right.pos);
    if (op === '!=' && fieldDef?.eitherEnd) return { predicate: everyValue(left, test) };
    return { left, test };
  }

  /** `field op val(other)` / `field op transformer(...)`: both sides extracted per event. */
  private compileDynamic(e: BinaryCheckExpr, left: Operand, rightExpr: FieldLike): Predicate {
    if (rightExpr.kind === 'transformer' && rightExpr.transformer === 'val') {
      if (rightExpr.arg !== undefined) throw new ConditionCompileError("filter error: transformer 'val' does not support field arguments", rightExpr.pos);
      if (e.op === 'regex' || e.op === 'pmatch') throw new ConditionCompileError(`filter error: '${e.op}' operator does not support a field on its right-hand side`, rightExpr.pos);
      if (left.kind === 'net') throw new ConditionCompileError('filter error: IP network fields do not support a field on their right-hand side', rightExpr.pos);
    }
    const right = rightExpr.kind === 'transformer' && rightExpr.transformer === 'val'
      ? this.operand(rightExpr.values[0] as FieldExpr)
      : this.operand(rightExpr);
    const op = e.op;
    const kind = left.kind;
    return (ev) => {
      const r = right.extract(ev);
      if (r === undefined) return false;
      const rs = (Array.isArray(r) ? r : [r]).map((x) => coerce(kind, x));
      if (rs.some((x) => x === undefined)) return false;
      const l = left.extract(ev);
      if (l === undefined) return false;
      const ls = Array.isArray(l) ? l : [l];
      if (op === 'in' || op === 'intersects') {
        const has = (x: FieldScalar) => rs.some((y) => compareEq(kind, x, y as FieldScalar));
        return left.isList && op === 'in' ? ls.every(has) : ls.some(has);
      }
      return ls.some((x) => rs.some((y) => dynamicTest(op, kind, x, y as FieldScalar)));
    };
  }

  /** Compile-time checks of one right-hand constant against the left side. */
  private checkConstant(v: string, left: Operand, op: string, def: FieldDef<any> | undefined, pos: Position): void {
    if (v.includes('\0') && left.kind !== 'bytes') throw new ConditionCompileError('filter error: filter value cannot contain a NUL byte (\\x00)', pos);
    const problem = def?.validateValue?.(v);
    if (problem) throw new ConditionCompileError(problem, pos);
    if (op === 'bcontains' || op === 'bstartswith') {
      if (!/^(?:[0-9a-fA-F]{2})*$/.test(v)) throw new ConditionCompileError('bcontains and bstartswith operator support hex strings only', pos);
    }
  }

  private warnMisuse(v: string, op: string): void {
    if (op === 'regex') {
      const core = v.replace(/^\^/, '').replace(/^\.[*+?]/, '').replace(/\$$/, '').replace(/\.[*+?]$/, '');
      if (!/[.[\]{}()*+?|^$\\]/.test(core)) {
        this.warnings.push(`regex check with '${v}' may be optimized with simpler operators such as '=', 'contains', 'startswith', 'endswith'`);
      }
      return;
    }
    const name = v.trim();
    const m = /^[a-zA-Z]+[a-zA-Z0-9_]*(?:\.[a-zA-Z]+[a-zA-Z0-9_]*)+(?:\[[^\]]*\])?$/.exec(name);
    if (m && resolveField(this.table, name.replace(/\[.*$/, ''), undefined)) {
      this.warnings.push(`'${v}' may be a valid field misused as a const string value`);
      return;
    }
    const t = TRANSFORMER_RE.exec(v);
    if (t && resolveField(this.table, t[1]!, undefined)) {
      this.warnings.push(`'${v}' may be a valid field transformer misused as a const string value`);
    }
  }

  /** A test of one extracted scalar against one constant, for a non-list operator. */
  private scalarTest(op: string, kind: Kind, raw: string, pos: Position): (x: FieldScalar) => boolean {
    if (kind === 'string') {
      switch (op) {
        case '=': case '==': return (x) => x === raw;
        case '!=': return (x) => x !== raw;
        case '<': return (x) => (x as string) < raw;
        case '<=': return (x) => (x as string) <= raw;
        case '>': return (x) => (x as string) > raw;
        case '>=': return (x) => (x as string) >= raw;
        case 'contains': return (x) => (x as string).includes(raw);
        case 'icontains': {
          const lower = raw.toLowerCase();
          return (x) => (x as string).toLowerCase().includes(lower);
        }
        case 'startswith': return (x) => (x as string).startsWith(raw);
        case 'endswith': return (x) => (x as string).endsWith(raw);
        case 'glob': {
          const m = globMatcher(raw, false);
          return (x) => m(x as string);
        }
        case 'iglob': {
          const m = globMatcher(raw, true);
          return (x) => m(x as string);
        }
        case 'regex': {
          let m: (s: string) => boolean;
          try {
            m = regexMatcher(raw);
          } catch (err) {
            throw new ConditionCompileError(`filter error: invalid regex '${raw}': ${(err as Error).message}`, pos);
          }
          return (x) => m(x as string);
        }
        case 'pmatch': {
          const m = pathPrefixMatcher([raw]);
          return (x) => m(x as string);
        }
      }
    }
    if (kind === 'bytes') {
      const c = op === 'bcontains' || op === 'bstartswith' ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'latin1');
      const buf = (x: FieldScalar) => (typeof x === 'string' ? Buffer.from(x, 'latin1') : Buffer.from(x as Uint8Array));
      switch (op) {
        case '=': case '==': return (x) => buf(x).equals(c);
        case '!=': return (x) => !buf(x).equals(c);
        case 'contains': case 'bcontains': return (x) => buf(x).includes(c);
        case 'startswith': case 'bstartswith': return (x) => buf(x).subarray(0, c.length).equals(c);
        case 'endswith': return (x) => c.length <= buf(x).length && buf(x).subarray(buf(x).length - c.length).equals(c);
      }
    }
    if (kind === 'net') {
      const net = this.parseNetConstant(raw, pos);
      if (op === '!=') return (x) => !net.contains(String(x));
      return (x) => net.contains(String(x));
    }
    const c = this.parseConstant(kind, raw, pos);
    switch (op) {
      case '=': case '==': return (x) => compareEq(kind, x, c);
      case '!=': return (x) => !compareEq(kind, x, c);
      case '<': return (x) => (x as number) < (c as number);
      case '<=': return (x) => (x as number) <= (c as number);
      case '>': return (x) => (x as number) > (c as number);
      case '>=': return (x) => (x as number) >= (c as number);
    }
    throw new ConditionCompileError(`filter error: '${op}' operator not supported for ${KIND_TEXT[kind]} filters`, pos);
  }

  /** Set membership for in/intersects, with constants parsed by the left side's type. */
  private memberTest(kind: Kind, values: string[], pos: Position): (x: FieldScalar) => boolean {
    if (kind === 'net') {
      const nets = values.map((v) => this.parseNetConstant(v, pos));
      return (x) => nets.some((n) => n.contains(String(x)));
    }
    if (kind === 'bytes') {
      const set = new Set(values);
      return (x) => set.has(typeof x === 'string' ? x : Buffer.from(x as Uint8Array).toString('latin1'));
    }
    if (kind === 'string') {
      const set = new Set(values);
      return (x) => set.has(x as string);
    }
    const parsed = values.map((v) => this.parseConstant(kind, v, pos));
    if (kind === 'int') {
      const set = new Set(parsed.map((p) => String(p)));
      return (x) => set.has(String(x));
    }
    return (x) => parsed.some((p) => compareEq(kind, x, p));
  }

  private parseConstant(kind: Kind, raw: string, pos: Position): FieldScalar {
    const c = coerce(kind, raw);
    if (c === undefined) {
      const what = kind === 'int' ? 'is not a valid number' : kind === 'bool' ? 'is not a valid boolean' : 'is not a valid IP address';
      throw new ConditionCompileError(`filter error: ${raw} ${what}`, pos);
    }
    return c;
  }

  private parseNetConstant(raw: string, pos: Position): IpNet {
    const net = parseNet(raw);
    if (!net) throw new ConditionCompileError(`filter error: ${raw} is not a valid IP network`, pos);
    return net;
  }

  // --- operands

  private operand(e: FieldLike | TransformerArg): Operand {
    if (e.kind === 'field') return this.fieldOperand(e);
    if (e.kind === 'transformer') return this.transformerOperand(e);
    if (e.kind === 'value') return { kind: 'string', isList: false, extract: () => e.value };
    const items = e.children.map((c) => this.operand(c));
    return {
      kind: 'string',
      isList: true,
      extract: (ev) => {
        const out: FieldScalar[] = [];
        for (const it of items) {
          const v = it.extract(ev);
          if (v === undefined) continue;
          if (Array.isArray(v)) out.push(...v);
          else out.push(v);
        }
        return out;
      },
    };
  }

  private fieldOperand(e: FieldExpr): Operand {
    const resolved = resolveField(this.table, e.field, e.arg);
    if (!resolved) throw new ConditionCompileError(`filter_check called with nonexistent field ${e.field}`, e.pos);
    const { def, arg } = resolved;
    if (arg !== undefined && !def.arg) throw new ConditionCompileError(`filter error: field '${def.name}' does not support arguments`, e.pos);
    if (arg === undefined && def.arg?.required) throw new ConditionCompileError(`filter error: field '${def.name}' requires an argument`, e.pos);
    if (arg !== undefined && def.arg?.kind === 'index' && !/^\d+$/.test(arg)) {
      throw new ConditionCompileError(`filter error: the argument of field '${def.name}' must be a number, got '${arg}'`, e.pos);
    }
    const type = (arg !== undefined ? def.argType?.(arg) : undefined) ?? def.type;
    return { kind: KIND_OF[type], isList: def.isList === true, extract: memoized(this.table, def, arg) };
  }

  private transformerOperand(e: TransformerExpr): Operand {
    const name = e.transformer;
    if (name === 'val') throw new ConditionCompileError("filter error: 'val' can only be used on the right-hand side of a check", e.pos);
    if (e.arg !== undefined && name !== 'getopt') {
      throw new ConditionCompileError(`filter error: transformer '${name}' does not support field arguments`, e.pos);
    }
    const args = e.values.map((v) => this.operand(v));
    const fail = (why: string) => new ConditionCompileError(`filter error: transformer '${name}' ${why}`, e.pos);
    const single = (): Operand => {
      const [only] = args;
      if (args.length !== 1 || !only) throw fail('expects exactly one argument');
      return only;
    };
    switch (name) {
      case 'tolower':
      case 'toupper':
      case 'b64':
      case 'basename': {
        const input = single();
        if (!STRING_INPUT.has(input.kind)) throw fail(`is not supported for ${KIND_TEXT[input.kind]} values`);
        const f = STRING_TRANSFORMS[name]!;
        return { kind: 'string', isList: input.isList, extract: (ev) => mapValue(input.extract(ev), f) };
      }
      case 'len': {
        const input = single();
        if (!STRING_INPUT.has(input.kind) && !input.isList) throw fail(`is not supported for ${KIND_TEXT[input.kind]} values`);
        return {
          kind: 'int',
          isList: false,
          extract: (ev) => {
            const v = input.extract(ev);
            if (v === undefined) return undefined;
            if (Array.isArray(v)) return v.length;
            return typeof v === 'string' ? Buffer.byteLength(v) : (v as Uint8Array).length;
          },
        };
      }
      case 'join': {
        // The separator is a string or a single-valued field (libsinsp: join(fd.name, (…)) is valid).
        if (args.length !== 2 || args[0]!.isList || e.values[1]?.kind !== 'transformer_list') {
          throw fail('expects a separator and a list');
        }
        const [sep, list] = args as [Operand, Operand];
        return {
          kind: 'string',
          isList: false,
          extract: (ev) => {
            const s = sep.extract(ev);
            if (s === undefined || Array.isArray(s)) return undefined;
            return (list.extract(ev) as FieldScalar[]).map(scalarText).join(scalarText(s));
          },
        };
      }
      case 'concat': {
        if (args.length < 2) throw fail('expects at least two arguments');
        if (args.some((a) => a.isList)) throw fail('does not accept lists');
        return {
          kind: 'string',
          isList: false,
          extract: (ev) => {
            let out = '';
            for (const a of args) {
              const v = a.extract(ev);
              if (v === undefined) return undefined;
              out += scalarText(v as FieldScalar);
            }
            return out;
          },
        };
      }
      case 'getopt': {
        // libsinsp's checks and messages (sinsp_filter_multivalue_transformer_getopt).
        const err = (message: string) => new ConditionCompileError(message, e.pos);
        if (args.length !== 2) throw err('getopt() requires exactly 2 arguments: args list and optstring');
        const [input, optArg] = args as [Operand, Operand];
        if (!input.isList) throw err('getopt() first argument must be a list');
        if (optArg.isList) throw err('getopt() second argument (optstring) must be a single value');
        if (!STRING_INPUT.has(input.kind) || !STRING_INPUT.has(optArg.kind)) throw err('getopt() arguments must be strings');
        if (e.arg !== undefined && e.arg.length !== 1) throw err('getopt() field argument must be a single option character');
        const selector = e.arg;
        const constant = e.values[1]?.kind === 'value' ? parseOptstring((e.values[1] as { value: string }).value) : undefined;
        return {
          kind: 'string',
          isList: selector === undefined,
          extract: (ev) => {
            let opts = constant;
            if (!opts) {
              const o = optArg.extract(ev);
              if (o === undefined || (Array.isArray(o) && o.length === 0)) return undefined;
              opts = parseOptstring(scalarText((Array.isArray(o) ? o[0] : o) as FieldScalar));
            }
            const v = input.extract(ev);
            if (v === undefined) return undefined;
            return getopt((Array.isArray(v) ? v : [v]).map(scalarText), opts, selector);
          },
        };
      }
    }
    throw fail('is unknown');
  }
}

/**
 * One extractor per (table, field, argument), remembering its last event: macros are expanded into many rules,
 * so the same field is read by many checks of one event (proc.cmdline, proc.aname, ka.* lookups), once.
 */
const extractors = new WeakMap<FieldTable<any>, Map<string, (event: any) => FieldValue>>();

function memoized(table: FieldTable<any>, def: FieldDef<any>, arg: string | undefined): (event: any) => FieldValue {
  let byKey = extractors.get(table);
  if (!byKey) extractors.set(table, (byKey = new Map()));
  const key = arg === undefined ? def.name : `${def.name}[${arg}]`;
  let fn = byKey.get(key);
  if (!fn) {
    let lastEvent: unknown;
    let lastValue: FieldValue;
    fn = (event) => {
      if (event === lastEvent) return lastValue;
      lastEvent = event;
      return (lastValue = def.extract(event, arg));
    };
    byKey.set(key, fn);
  }
  return fn;
}

const STRING_TRANSFORMS: Record<string, (s: string) => string> = {
  tolower: (s) => s.toLowerCase(),
  toupper: (s) => s.toUpperCase(),
  b64: (s) => Buffer.from(s, 'base64').toString('latin1'),
  basename: (s) => (s.endsWith('/') ? '' : s.slice(s.lastIndexOf('/') + 1)),
};

function mapValue(v: FieldValue, f: (s: string) => string): FieldValue {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) return v.map((x) => f(scalarText(x)));
  return f(scalarText(v));
}

export function scalarText(v: FieldScalar): string {
  return v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : String(v);
}

/** An optstring as getopt(3) reads it: valid option letters, and those taking an argument ("t:"). */
interface Optstring {
  valid: Set<string>;
  withArg: Set<string>;
}

function parseOptstring(optstring: string): Optstring {
  const valid = new Set<string>();
  const withArg = new Set<string>();
  // A leading ':' only changes getopt(3)'s error reporting.
  for (let i = optstring.startsWith(':') ? 1 : 0; i < optstring.length; i++) {
    const c = optstring[i]!;
    if (c === ':') continue;
    valid.add(c);
    if (optstring[i + 1] === ':') {
      withArg.add(c);
      i++;
    }
  }
  return { valid, withArg };
}

/**
 * libsinsp's getopt() over an argument list: options end at "--" or at the first argument that is not an option
 * ("", "-" included); "--long" options are passed over; "-abc" clusters expand. Without a selector the result
 * lists each option letter ("?" for an unknown one) followed by its argument when it takes one ("" alone when
 * that argument is missing). With a selector (getopt(...)[t]) the result is the last occurrence of that option:
 * its argument, its letter for a flag, "" when the argument is missing; undefined when it never occurs.
 */
function getopt(argv: string[], opts: Optstring, selector: string | undefined): string | string[] | undefined {
  const list: string[] = [];
  let selected: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a.length > 2 && a.startsWith('--')) continue;
    if (a === '' || a[0] !== '-' || a.length === 1) break;
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      if (c === ':' || !opts.valid.has(c)) {
        if (selector === undefined) list.push('?');
        continue;
      }
      const match = selector === undefined || c === selector;
      if (!opts.withArg.has(c)) {
        if (match) {
          if (selector === undefined) list.push(c);
          else selected = c;
        }
        continue;
      }
      let value: string | undefined;
      if (j + 1 < a.length) value = a.slice(j + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      if (match) {
        if (selector !== undefined) selected = value ?? '';
        else if (value === undefined) list.push('');
        else list.push(c, value);
      }
      break;
    }
  }
  return selector === undefined ? list : selected;
}

/** For single-valued fields that may yield several values (proc.aname, fd.ip): true if any value passes. */
function anyValue(left: Operand, test: (x: FieldScalar) => boolean): Predicate {
  const extract = left.extract;
  return (ev) => {
    const v = extract(ev);
    if (v === undefined) return false;
    if (Array.isArray(v)) {
      for (const x of v) if (test(x)) return true;
      return false;
    }
    return test(v);
  };
}

/** `!=` on a field with a value per connection end: true when every end differs. */
function everyValue(left: Operand, test: (x: FieldScalar) => boolean): Predicate {
  const extract = left.extract;
  return (ev) => {
    const v = extract(ev);
    if (v === undefined) return false;
    return Array.isArray(v) ? v.every(test) : test(v);
  };
}

/** A constant or extracted value in the comparable form of its kind; undefined when it does not parse. */
function coerce(kind: Kind, x: FieldScalar): FieldScalar | undefined {
  switch (kind) {
    case 'int': {
      if (typeof x === 'number' || typeof x === 'bigint') return x;
      if (typeof x === 'boolean') return x ? 1 : 0;
      const s = String(x);
      if (!/^[+-]?\d+$/.test(s)) return undefined;
      const n = Number(s);
      return Number.isSafeInteger(n) ? n : BigInt(s);
    }
    case 'bool':
      if (typeof x === 'boolean') return x;
      return x === 'true' ? true : x === 'false' ? false : undefined;
    case 'ip':
      return parseIp(String(x));
    case 'string':
      return scalarText(x);
    default:
      return x;
  }
}

function compareEq(kind: Kind, x: FieldScalar, c: FieldScalar): boolean {
  if (kind === 'int') return x == c; // number and bigint compare by value
  // c is canonical; an IPv4 text is its own canonical form and IPv6 ones contain ':', so only those parse.
  if (kind === 'ip') return String(x) === c || ((c as string).includes(':') && parseIp(String(x)) === c);
  return x === c;
}

function dynamicTest(op: string, kind: Kind, x: FieldScalar, y: FieldScalar): boolean {
  switch (op) {
    case '=': case '==': return compareEq(kind, x, y);
    case '!=': return !compareEq(kind, x, y);
    case '<': return (x as number) < (y as number);
    case '<=': return (x as number) <= (y as number);
    case '>': return (x as number) > (y as number);
    case '>=': return (x as number) >= (y as number);
  }
  const a = scalarText(x);
  const b = scalarText(y);
  switch (op) {
    case 'contains': case 'bcontains': return a.includes(b);
    case 'icontains': return a.toLowerCase().includes(b.toLowerCase());
    case 'startswith': case 'bstartswith': return a.startsWith(b);
    case 'endswith': return a.endsWith(b);
    case 'glob': return globMatcher(b, false)(a);
    case 'iglob': return globMatcher(b, true)(a);
  }
  return false;
}

