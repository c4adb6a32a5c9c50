/**
 * The condition parser: a recursive-descent reading of libsinsp's grammar (FILTER_LANGUAGE.md §1), token for
 * token, so that the same inputs are accepted and rejected, errors carry libsinsp's texts, and node positions
 * match. Quoted strings are unescaped here (escapes.ts); compilation against fields happens in compile.ts.
 */
import type {
  CheckValue, Expr, FieldExpr, FieldLike, IdentifierExpr, ListExpr, Position, TransformerArg, TransformerExpr,
  TransformerListExpr, ValueExpr,
} from './ast.ts';
import { unescapeString } from './escapes.ts';

/** A syntax error, positioned where the parser stopped (Falco adds it to the condition's position in the YAML). */
export class ConditionSyntaxError extends Error {
  readonly code = 'PRG_CONDITION_SYNTAX';
  readonly pos: Position;
  constructor(message: string, pos: Position) {
    super(message);
    this.name = 'ConditionSyntaxError';
    this.pos = pos;
  }
}

export interface ParseOptions {
  /** libsinsp's default is 100; Falco's rule loader raises it to 1000. */
  maxDepth?: number;
}

export const TRANSFORMERS = ['tolower', 'toupper', 'b64', 'basename', 'len', 'join', 'concat', 'getopt'] as const;
const TRANSFORMER_LIST_TEXT = ["'val'", ...TRANSFORMERS.map((t) => `'${t}'`)].join(', ');
export const NUM_OPS = ['<=', '<', '>=', '>'] as const;
export const STR_OPS = ['==', '=', '!=', 'glob', 'iglob', 'contains', 'icontains', 'bcontains', 'startswith',
  'bstartswith', 'endswith', 'regex'] as const;
export const LIST_OPS = ['intersects', 'in', 'pmatch'] as const;
const ALL_OPS_TEXT = ['exists', ...NUM_OPS, ...STR_OPS, ...LIST_OPS].map((o) => `'${o}'`).join(', ');

const RE = {
  blank: /[ \t\b\r\n]+/y,
  space: /[ \t\n\r\f\v]+/y,
  identifier: /[a-zA-Z]+[a-zA-Z0-9_]*/y,
  fieldName: /[a-zA-Z]+[a-zA-Z0-9_]*(?:\.[a-zA-Z]+[a-zA-Z0-9_]*)+/y,
  fieldArgBare: /[^\][\"' \t\n\r\f\v]+/y,
  hex: /0[xX][0-9a-fA-F]+/y,
  number: /[+\-]?[0-9]+\.?[0-9]*(?:[eE][+\-][0-9]+)?/y,
  bare: /[^()\"' \t\n\r\f\v=,]+/y,
  transformer: new RegExp(`(?:${TRANSFORMERS.join('|')})\\(`, 'y'),
  numOp: /<=|<|>=|>/y,
  strOp: /==|=|!=|(?:glob|iglob|contains|icontains|bcontains|startswith|bstartswith|endswith|regex)(?=[ \t\b\r\n])/y,
  listOp: /intersects|in|pmatch/y,
  modifier: /(?:oneof|anyof|allof)(?=[ \t\b\r\n])/y,
  /** After a modifier, and/or/not followed by a non-alphanumeric character are boolean keywords (libsinsp quirk). */
  keyword: /(?:and|or|not)(?![a-zA-Z0-9])/y,
};

/** Parses one condition; throws ConditionSyntaxError. */
export function parseCondition(input: string, options: ParseOptions = {}): Expr {
  return new Parser(input, options.maxDepth ?? 100).parse();
}

class Parser {
  private idx = 0;
  private line = 1;
  private col = 1;
  private depth = 0;
  private lastToken = '';
  private readonly input: string;
  private readonly maxDepth: number;

  constructor(input: string, maxDepth: number) {
    this.input = input;
    this.maxDepth = maxDepth;
  }

  parse(): Expr {
    if (this.input.length === 0) throw this.error('filter input string is empty');
    const expr = this.parseOr();
    this.lexBlank();
    if (this.idx !== this.input.length) throw this.error(`unexpected token after '${this.lastToken}', expecting 'or', 'and'`);
    return expr;
  }

  // --- boolean structure

  private parseOr(): Expr {
    return this.parseBoolean('or', () => this.parseAnd());
  }

  private parseAnd(): Expr {
    return this.parseBoolean('and', () => this.parseNot());
  }

  /** `operand (kw (blank operand | "(" embedded))*`, flattened into one n-ary node. */
  private parseBoolean(kw: 'and' | 'or', operand: () => Expr): Expr {
    this.enter();
    this.lexBlank();
    const pos = this.pos();
    const children = [operand()];
    this.lexBlank();
    while (this.lexString(kw)) {
      if (this.lexString('(')) children.push(this.parseEmbedded());
      else if (this.lexBlank()) children.push(operand());
      else throw this.error(`expected blank or '(' after '${kw}'`);
      this.lexBlank();
    }
    this.leave();
    return children.length === 1 ? children[0]! : { kind: kw, children, pos };
  }

  private parseNot(): Expr {
    this.enter();
    this.lexBlank();
    const pos = this.pos();
    let negations = 0;
    let child: Expr | undefined;
    for (;;) {
      const saved = this.save();
      if (!this.lexString('not')) break;
      if (this.lexString('(')) {
        negations++;
        child = this.parseEmbedded();
        break;
      }
      if (!this.lexRegex(RE.space)) {
        this.restore(saved); // `notb` is an identifier
        break;
      }
      negations++;
    }
    child ??= this.parseCheck();
    this.leave();
    return negations % 2 === 1 ? { kind: 'not', child, pos } : child;
  }

  /** After an opening parenthesis: `blank* or blank* ")"`. */
  private parseEmbedded(): Expr {
    this.enter();
    this.lexBlank();
    const expr = this.parseOr();
    this.lexBlank();
    if (!this.lexString(')')) throw this.error("expected a ')' token");
    this.leave();
    return expr;
  }

  private parseCheck(): Expr {
    this.enter();
    this.lexBlank();
    const pos = this.pos();
    let expr: Expr;
    if (this.lexString('(')) {
      expr = this.parseEmbedded();
    } else if (this.lexRegex(RE.transformer)) {
      expr = this.parseCondition(this.parseTransformerRest(this.lastToken.slice(0, -1), pos), pos);
    } else if (this.lexRegex(RE.fieldName)) {
      expr = this.parseCondition(this.parseFieldRest(pos), pos);
    } else if (this.lexRegex(RE.identifier)) {
      expr = { kind: 'identifier', identifier: this.lastToken, pos };
    } else {
      throw this.error("expected a '(' token, a field check, or an identifier");
    }
    this.leave();
    return expr;
  }

  // --- checks

  private parseCondition(left: FieldLike, pos: Position): Expr {
    this.lexBlank();
    if (this.lexString('exists')) return { kind: 'unary', left, op: 'exists', pos };
    if (this.lexRegex(RE.numOp)) {
      const op = this.lastToken;
      this.lexBlank();
      const right = this.parseTransformerOrVal() ?? this.parseNumber();
      if (!right) throw this.error(`expected a number value or a field with a valid transformer: ${TRANSFORMER_LIST_TEXT}`);
      return { kind: 'binary', left, op, right, pos };
    }
    if (this.lexRegex(RE.strOp)) {
      const op = this.lastToken;
      const modified = this.parseModifier();
      if (modified) return { kind: 'binary', left, op, modifier: modified.modifier, right: modified.right, pos };
      this.lexBlank();
      const right = this.parseTransformerOrVal() ?? this.parseStringValue();
      if (!right) throw this.error(`expected a string value or a field with a valid transformer: ${TRANSFORMER_LIST_TEXT}`);
      return { kind: 'binary', left, op, right, pos };
    }
    if (this.lexRegex(RE.listOp)) {
      const op = this.lastToken;
      this.lexBlank();
      const right = this.parseTransformerOrVal() ?? this.parseListOrIdentifier();
      if (!right) throw this.error(`expected a list, an identifier, or a field with a valid transformer: ${TRANSFORMER_LIST_TEXT}`);
      return { kind: 'binary', left, op, right, pos };
    }
    throw this.error(`expected a valid check operator: one of ${ALL_OPS_TEXT}`);
  }

  /** ` oneof (list)` / ` anyof name`: taken only when a list or a non-keyword identifier follows. */
  private parseModifier(): { modifier: 'oneof' | 'anyof' | 'allof'; right: CheckValue } | undefined {
    const saved = this.save();
    if (this.lexBlank() && this.lexRegex(RE.modifier)) {
      const modifier = this.lastToken as 'oneof' | 'anyof' | 'allof';
      if (this.lexBlank()) {
        const isList = this.input[this.idx] === '(';
        if (isList || (!this.peek(RE.keyword) && this.peek(RE.identifier))) {
          const right = this.parseListOrIdentifier();
          if (right) return { modifier, right };
        }
      }
    }
    this.restore(saved);
    return undefined;
  }

  private parseListOrIdentifier(): ListExpr | IdentifierExpr | undefined {
    const pos = this.pos();
    if (this.lexString('(')) return this.parseListRest(pos);
    if (this.lexRegex(RE.identifier)) return { kind: 'identifier', identifier: this.lastToken, pos };
    return undefined;
  }

  /** After "(": quoted or bare strings separated by commas; `()` is an empty list. */
  private parseListRest(pos: Position): ListExpr {
    const values: string[] = [];
    this.lexBlank();
    if (this.lexString(')')) return { kind: 'list', values, pos };
    for (;;) {
      this.lexBlank();
      const value = this.lexQuoted() ?? (this.lexRegex(RE.bare) ? this.lastToken : undefined);
      if (value === undefined) throw this.error('expected a list value: a quoted string or a bare string');
      values.push(value);
      this.lexBlank();
      if (this.lexString(',')) continue;
      if (this.lexString(')')) return { kind: 'list', values, pos };
      throw this.error("expected a ')' token");
    }
  }

  private parseNumber(): ValueExpr | undefined {
    const pos = this.pos();
    if (this.lexRegex(RE.hex) || this.lexRegex(RE.number)) return { kind: 'value', value: this.lastToken, pos };
    return undefined;
  }

  private parseStringValue(): ValueExpr | undefined {
    const pos = this.pos();
    const quoted = this.lexQuoted();
    if (quoted !== undefined) return { kind: 'value', value: quoted, pos };
    if (this.lexRegex(RE.bare)) return { kind: 'value', value: this.lastToken, pos };
    return undefined;
  }

  // --- fields and transformers

  /** After a field name: an optional `[arg]` directly attached. */
  private parseFieldRest(pos: Position): FieldExpr {
    const field = this.lastToken;
    const arg = this.parseFieldArg();
    return arg === undefined ? { kind: 'field', field, pos } : { kind: 'field', field, arg, pos };
  }

  private parseFieldArg(): string | undefined {
    if (!this.lexString('[')) return undefined;
    const arg = this.lexQuoted() ?? (this.lexRegex(RE.fieldArgBare) ? this.lastToken : undefined);
    if (arg === undefined) throw this.error('expected a valid field argument: a quoted string or a bare string');
    if (!this.lexString(']')) throw this.error("expected a ']' token");
    return arg;
  }

  /** After `name(`: arguments, `)`, optional `[arg]`. */
  private parseTransformerRest(transformer: string, pos: Position): TransformerExpr {
    this.enter();
    const values: TransformerArg[] = [];
    do {
      this.lexBlank();
      const arg = this.parseTransformerArg();
      if (!arg) throw this.error('expected field transformer argument: field, transformer, quoted string, number, or transformer list');
      values.push(arg);
      this.lexBlank();
    } while (this.lexString(','));
    if (!this.lexString(')')) throw this.error("expected a ')' token closing the transformer");
    const arg = this.parseFieldArg();
    this.leave();
    const node: TransformerExpr = { kind: 'transformer', transformer, values, pos };
    if (arg !== undefined) node.arg = arg;
    return node;
  }

  private parseTransformerArg(): TransformerArg | undefined {
    const pos = this.pos();
    const scalar = this.parseTransformerListItem();
    if (scalar) return scalar;
    if (!this.lexString('(')) return undefined;
    const children: TransformerArg[] = [];
    this.lexBlank();
    if (!this.lexString(')')) {
      for (;;) {
        this.lexBlank();
        const item = this.parseTransformerListItem();
        if (!item) throw this.error('expected transformer list argument: field, transformer, quoted string, or number');
        children.push(item);
        this.lexBlank();
        if (this.lexString(',')) continue;
        if (this.lexString(')')) break;
        throw this.error("expected ')'");
      }
    }
    const list: TransformerListExpr = { kind: 'transformer_list', children, pos };
    return list;
  }

  private parseTransformerListItem(): TransformerArg | undefined {
    const pos = this.pos();
    const number = this.parseNumber();
    if (number) return number;
    const quoted = this.lexQuoted();
    if (quoted !== undefined) return { kind: 'value', value: quoted, pos };
    if (this.lexRegex(RE.transformer)) return this.parseTransformerRest(this.lastToken.slice(0, -1), pos);
    if (this.lexRegex(RE.fieldName)) return this.parseFieldRest(pos);
    return undefined;
  }

  /** Right-hand side `val(field)[arg]` or a transformer. */
  private parseTransformerOrVal(): TransformerExpr | undefined {
    const pos = this.pos();
    if (this.lexString('val(')) {
      this.lexBlank();
      const fieldPos = this.pos();
      if (!this.lexRegex(RE.fieldName)) throw this.error("expected a field within 'val' transformer");
      const field = this.parseFieldRest(fieldPos);
      this.lexBlank();
      if (!this.lexString(')')) throw this.error("expected a ')' token closing the transformer");
      const arg = this.parseFieldArg();
      const node: TransformerExpr = { kind: 'transformer', transformer: 'val', values: [field], pos };
      if (arg !== undefined) node.arg = arg;
      return node;
    }
    if (this.lexRegex(RE.transformer)) return this.parseTransformerRest(this.lastToken.slice(0, -1), pos);
    return undefined;
  }

  // --- lexing

  /** A quoted string: ends at the first delimiter not directly preceded by a backslash; returns it unescaped. */
  private lexQuoted(): string | undefined {
    const quote = this.input[this.idx];
    if (quote !== '"' && quote !== "'") return undefined;
    let end = this.idx + 1;
    while (end < this.input.length && !(this.input[end] === quote && this.input[end - 1] !== '\\')) end++;
    if (end >= this.input.length) return undefined;
    const raw = this.input.slice(this.idx, end + 1);
    const start = this.pos();
    let value: string;
    try {
      value = unescapeString(raw.slice(1, -1), quote);
    } catch (err) {
      throw new ConditionSyntaxError((err as Error).message, start);
    }
    this.advance(raw.length);
    this.lastToken = raw;
    return value;
  }

  private lexBlank(): boolean {
    RE.blank.lastIndex = this.idx;
    const m = RE.blank.exec(this.input);
    if (!m) return false;
    this.advance(m[0].length);
    return true;
  }

  private lexString(s: string): boolean {
    if (!this.input.startsWith(s, this.idx)) return false;
    this.advance(s.length);
    this.lastToken = s;
    return true;
  }

  private lexRegex(re: RegExp): boolean {
    re.lastIndex = this.idx;
    const m = re.exec(this.input);
    if (!m || m[0].length === 0) return false;
    this.advance(m[0].length);
    this.lastToken = m[0];
    return true;
  }

  private peek(re: RegExp): boolean {
    re.lastIndex = this.idx;
    return re.test(this.input);
  }

  private advance(n: number): void {
    for (let i = 0; i < n; i++) {
      if (this.input[this.idx + i] === '\n') {
        this.line++;
        this.col = 1;
      } else {
        this.col++;
      }
    }
    this.idx += n;
  }

  private pos(): Position {
    return { idx: this.idx, line: this.line, col: this.col };
  }

  private save(): [number, number, number, string] {
    return [this.idx, this.line, this.col, this.lastToken];
  }

  private restore([idx, line, col, lastToken]: [number, number, number, string]): void {
    this.idx = idx;
    this.line = line;
    this.col = col;
    this.lastToken = lastToken;
  }

  private enter(): void {
    if (++this.depth >= this.maxDepth) throw this.error(`exceeded max depth limit of ${this.maxDepth}`);
  }

  private leave(): void {
    this.depth--;
  }

  private error(message: string): ConditionSyntaxError {
    return new ConditionSyntaxError(message, this.pos());
  }
}
