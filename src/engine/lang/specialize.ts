/**
 * Partial evaluation of a syscall condition for one event type. The engine only hands a rule the events
 * of the types its condition can match (event-types.ts), so within that set the condition's own
 * `evt.type` checks are known: folding them to constants removes a check per macro use (open_read,
 * spawned_process … repeat them) and often whole branches of `or`s written for other types.
 * `evt.num = 0` (Falco's never_true) folds to false, as event-types.ts already treats it.
 */
import type { Expr } from './ast.ts';

/** The condition as it applies to events of `type`: a simpler tree, or a constant. */
export function specializeForType(expr: Expr, type: string): Expr | boolean {
  switch (expr.kind) {
    case 'and':
    case 'or': {
      const isAnd = expr.kind === 'and';
      const kept: Expr[] = [];
      for (const child of expr.children) {
        const s = specializeForType(child, type);
        if (s === true || s === false) {
          // and: false decides, true drops out; or: the reverse.
          if (s !== isAnd) return s;
          continue;
        }
        kept.push(s);
      }
      if (kept.length === 0) return isAnd;
      if (kept.length === 1) return kept[0]!;
      return { ...expr, children: kept };
    }
    case 'not': {
      const s = specializeForType(expr.child, type);
      if (s === true || s === false) return !s;
      return s === expr.child ? expr : { ...expr, child: s };
    }
    case 'binary':
      return foldTypeCheck(expr, type) ?? expr;
    default:
      return expr;
  }
}

function foldTypeCheck(e: Extract<Expr, { kind: 'binary' }>, type: string): boolean | undefined {
  if (e.left.kind !== 'field' || e.left.arg !== undefined || e.modifier) return undefined;
  const field = e.left.field;
  const r = e.right;
  if (field === 'evt.num') {
    return (e.op === '=' || e.op === '==') && r.kind === 'value' && r.value === '0' ? false : undefined;
  }
  if (field !== 'evt.type' && field !== 'syscall.type') return undefined;
  const values = r.kind === 'value' ? [r.value] : r.kind === 'list' ? r.values : r.kind === 'identifier' ? [r.identifier] : undefined;
  if (!values) return undefined;
  switch (e.op) {
    case '=': case '==': return r.kind === 'value' ? values[0] === type : undefined;
    case '!=': return r.kind === 'value' ? values[0] !== type : undefined;
    case 'in': case 'intersects': return values.includes(type);
    default: return undefined;
  }
}
