import { PeregrineError } from '../errors.ts';

/**
 * A small subset of Go's text/template, enough for Falcosidekick's `templatedfields` and Slack
 * `messageformat` configs to work unchanged:
 *   {{ .Rule }}  {{ .OutputFields.x }}  {{ index . "k8s.ns.name" }}  {{ or (index . "a") "default" }}
 * Missing values render as "<no value>", as Go does.
 */
export type CompiledTemplate = (context: unknown) => string;

type Expr =
  | { kind: 'dot'; path: string[] }
  | { kind: 'str'; value: string }
  | { kind: 'call'; fn: 'index' | 'or'; args: Expr[] };

const MISSING = Symbol('missing');

export function compileTemplate(source: string, where: string): CompiledTemplate {
  const parts: (string | Expr)[] = [];
  let pos = 0;
  while (pos < source.length) {
    const open = source.indexOf('{{', pos);
    if (open < 0) { parts.push(source.slice(pos)); break; }
    if (open > pos) parts.push(source.slice(pos, open));
    const close = source.indexOf('}}', open + 2);
    if (close < 0) throw new PeregrineError('PRG_TEMPLATE', `${where}: unclosed "{{" at offset ${open}`);
    const tokens = tokenize(source.slice(open + 2, close).replace(/^-|-$/g, ''), where);
    const state = { i: 0 };
    const expr = parseCall(tokens, state, where);
    if (state.i !== tokens.length) throw new PeregrineError('PRG_TEMPLATE', `${where}: unexpected "${tokens[state.i]}"`);
    parts.push(expr);
    pos = close + 2;
  }
  return (context) => parts.map((p) => (typeof p === 'string' ? p : render(evaluate(p, context)))).join('');
}

function tokenize(text: string, where: string): string[] {
  const tokens: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|\(|\)|[^\s()]+)/gy;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(text)) !== null) {
    tokens.push(m[1]!);
    end = re.lastIndex;
  }
  if (text.slice(end).trim() !== '') throw new PeregrineError('PRG_TEMPLATE', `${where}: cannot read "${text}"`);
  return tokens;
}

function parseCall(tokens: string[], state: { i: number }, where: string): Expr {
  const head = tokens[state.i];
  if (head === 'index' || head === 'or') {
    state.i++;
    const args: Expr[] = [];
    while (state.i < tokens.length && tokens[state.i] !== ')') args.push(parseOperand(tokens, state, where));
    if (args.length < 2) throw new PeregrineError('PRG_TEMPLATE', `${where}: "${head}" needs at least two arguments`);
    return { kind: 'call', fn: head, args };
  }
  return parseOperand(tokens, state, where);
}

function parseOperand(tokens: string[], state: { i: number }, where: string): Expr {
  const t = tokens[state.i++];
  if (t === undefined) throw new PeregrineError('PRG_TEMPLATE', `${where}: expression ends too early`);
  if (t === '(') {
    const inner = parseCall(tokens, state, where);
    if (tokens[state.i++] !== ')') throw new PeregrineError('PRG_TEMPLATE', `${where}: missing ")"`);
    return inner;
  }
  if (t.startsWith('"')) return { kind: 'str', value: JSON.parse(t) as string };
  if (t === '.') return { kind: 'dot', path: [] };
  if (t.startsWith('.')) return { kind: 'dot', path: t.slice(1).split('.') };
  throw new PeregrineError('PRG_TEMPLATE', `${where}: unsupported template word "${t}" (supported: .Field, index, or, "strings")`);
}

function evaluate(e: Expr, ctx: unknown): unknown {
  switch (e.kind) {
    case 'str': return e.value;
    case 'dot': return e.path.reduce<unknown>((v, k) => lookup(v, k), ctx);
    case 'call':
      if (e.fn === 'index') {
        return e.args.slice(1).reduce<unknown>((v, a) => lookup(v, String(evaluate(a, ctx))), evaluate(e.args[0]!, ctx));
      }
      // Go's `or` returns the first non-empty argument, else the last.
      for (const a of e.args) {
        const v = evaluate(a, ctx);
        if (v !== MISSING && v !== '' && v !== null && v !== false && v !== 0) return v;
      }
      return evaluate(e.args[e.args.length - 1]!, ctx);
  }
}

function lookup(v: unknown, key: string): unknown {
  if (v === null || typeof v !== 'object' || !(key in v)) return MISSING;
  return (v as Record<string, unknown>)[key];
}

function render(v: unknown): string {
  if (v === MISSING || v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return `[${v.join(' ')}]`;
  return String(v);
}
