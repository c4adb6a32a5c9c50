import { stringifyJson } from '../alert/json.ts';
import { PeregrineError } from '../errors.ts';

/**
 * A small subset of Go's text/template, enough for Falcosidekick's `templatedfields` and Slack
 * `messageformat` configs to work unchanged:
 *   {{ .Rule }}  {{ .OutputFields.x }}  {{ index . "k8s.ns.name" }}  {{ or (index . "a") "default" }}
 *   {{ printf "%s/%s" (index . "k8s.ns.name") (index . "k8s.pod.name") }}  {{ index . "a" | printf "a=%v" }}
 * Missing values render as "<no value>", as Go does. printf knows the verbs %s %v %d %q %t %x %%.
 */
export type CompiledTemplate = (context: unknown) => string;

type Expr =
  | { kind: 'dot'; path: string[] }
  | { kind: 'str'; value: string }
  | { kind: 'call'; fn: Fn; args: Expr[] };

type Fn = 'index' | 'or' | 'printf';
const FUNCTIONS: readonly string[] = ['index', 'or', 'printf'];

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
    parts.push(parsePipeline(tokens, where));
    pos = close + 2;
  }
  return (context) => parts.map((p) => (typeof p === 'string' ? p : render(evaluate(p, context)))).join('');
}

function tokenize(text: string, where: string): string[] {
  const tokens: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|\(|\)|\||[^\s()|]+)/gy;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(text)) !== null) {
    tokens.push(m[1]!);
    end = re.lastIndex;
  }
  if (text.slice(end).trim() !== '') throw new PeregrineError('PRG_TEMPLATE', `${where}: cannot read "${text}"`);
  return tokens;
}

/** `a | f b` is `f b a`: each command after a "|" gets the value before it as its last argument. */
function parsePipeline(tokens: string[], where: string): Expr {
  const state = { i: 0 };
  let expr = parseCall(tokens, state, where, undefined);
  while (tokens[state.i] === '|') {
    state.i++;
    expr = parseCall(tokens, state, where, expr);
  }
  if (state.i !== tokens.length) throw new PeregrineError('PRG_TEMPLATE', `${where}: unexpected "${tokens[state.i]}"`);
  return expr;
}

function parseCall(tokens: string[], state: { i: number }, where: string, piped: Expr | undefined): Expr {
  const head = tokens[state.i];
  if (head !== undefined && FUNCTIONS.includes(head)) {
    state.i++;
    const args: Expr[] = [];
    while (state.i < tokens.length && tokens[state.i] !== ')' && tokens[state.i] !== '|') args.push(parseOperand(tokens, state, where));
    if (piped) args.push(piped);
    const fn = head as Fn;
    if (fn === 'printf') {
      if (args.length < 1) throw new PeregrineError('PRG_TEMPLATE', `${where}: "printf" needs a format`);
      if (args[0]!.kind === 'str') checkFormat(args[0]!.value, where);
    } else if (args.length < 2) throw new PeregrineError('PRG_TEMPLATE', `${where}: "${head}" needs at least two arguments`);
    return { kind: 'call', fn, args };
  }
  if (piped) throw new PeregrineError('PRG_TEMPLATE', `${where}: only a function can follow "|" (got "${head}")`);
  return parseOperand(tokens, state, where);
}

function parseOperand(tokens: string[], state: { i: number }, where: string): Expr {
  const t = tokens[state.i++];
  if (t === undefined) throw new PeregrineError('PRG_TEMPLATE', `${where}: expression ends too early`);
  if (t === '(') {
    const inner = parseCall(tokens, state, where, undefined);
    if (tokens[state.i++] !== ')') throw new PeregrineError('PRG_TEMPLATE', `${where}: missing ")"`);
    return inner;
  }
  if (t.startsWith('"')) return { kind: 'str', value: JSON.parse(t) as string };
  if (t === '.') return { kind: 'dot', path: [] };
  if (t.startsWith('.')) return { kind: 'dot', path: t.slice(1).split('.') };
  throw new PeregrineError('PRG_TEMPLATE', `${where}: unsupported template word "${t}" (supported: .Field, index, or, printf, "strings", |)`);
}

function evaluate(e: Expr, ctx: unknown): unknown {
  switch (e.kind) {
    case 'str': return e.value;
    case 'dot': return e.path.reduce<unknown>((v, k) => lookup(v, k), ctx);
    case 'call':
      if (e.fn === 'printf') return printf(String(evaluate(e.args[0]!, ctx)), e.args.slice(1).map((a) => evaluate(a, ctx)));
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
  if (Array.isArray(v)) return `[${v.map(render).join(' ')}]`;
  // A nested output field prints as its JSON (Go would print map[k:v]; JSON is what a reader can use).
  if (typeof v === 'object') return stringifyJson(v);
  return String(v);
}

const VERB = /%([-+# 0]*\d*(?:\.\d+)?)([a-zA-Z%])/g;

function checkFormat(format: string, where: string): void {
  for (const m of format.matchAll(VERB)) {
    if (!'svdqtxX%'.includes(m[2]!)) throw new PeregrineError('PRG_TEMPLATE', `${where}: printf verb "%${m[2]}" is not supported (use %s %v %d %q %t %x)`);
  }
}

/** Go's fmt.Sprintf for the verbs templated fields use; numbers from alerts print as their digits. */
function printf(format: string, args: unknown[]): string {
  let next = 0;
  let out = format.replace(VERB, (_all, _flags: string, verb: string) => {
    if (verb === '%') return '%';
    if (next >= args.length) return `%!${verb}(MISSING)`;
    const v = args[next++];
    if (v === MISSING || v === undefined || v === null) return verb === 'v' ? '<nil>' : `%!${verb}(<nil>)`;
    switch (verb) {
      case 'q': return JSON.stringify(typeof v === 'string' ? v : render(v));
      case 'x': case 'X': {
        const hex = typeof v === 'number' || typeof v === 'bigint' ? v.toString(16) : Buffer.from(render(v)).toString('hex');
        return verb === 'X' ? hex.toUpperCase() : hex;
      }
      default: return render(v);
    }
  });
  if (next < args.length) out += `%!(EXTRA ${args.slice(next).map((a) => render(a)).join(', ')})`;
  return out;
}
