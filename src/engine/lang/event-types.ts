/**
 * The evt.type values a syscall condition can match, computed from its AST the way libsinsp's ppm_codes does:
 * `and` intersects, `or` unites, `not` is pushed to the leaves; only evt.type/syscall.type checks with
 * =, ==, in (and their negations) narrow the set; `evt.num = 0` (never_true) matches nothing.
 * undefined means "every type".
 */
import type { Expr } from './ast.ts';

type TypeSet = Set<string> | undefined;

export function eventTypesOf(expr: Expr): TypeSet {
  return walk(expr, false);
}

function walk(e: Expr, negated: boolean): TypeSet {
  switch (e.kind) {
    case 'and':
    case 'or': {
      const intersect = (e.kind === 'and') !== negated;
      let acc: TypeSet | null = null;
      for (const child of e.children) {
        const s = walk(child, negated);
        acc = acc === null ? s : intersect ? intersection(acc, s) : union(acc, s);
      }
      return acc ?? undefined;
    }
    case 'not':
      return walk(e.child, !negated);
    case 'binary': {
      if (e.left.kind !== 'field' || e.left.arg !== undefined || e.modifier) return undefined;
      const field = e.left.field;
      if (field === 'evt.num' && (e.op === '=' || e.op === '==') && e.right.kind === 'value' && e.right.value === '0') {
        return negated ? undefined : new Set();
      }
      if (field !== 'evt.type' && field !== 'syscall.type') return undefined;
      let names: string[] | undefined;
      if ((e.op === '=' || e.op === '==') && e.right.kind === 'value') names = [e.right.value];
      else if (e.op === 'in' && e.right.kind === 'list') names = e.right.values;
      else if (e.op === 'in' && e.right.kind === 'identifier') names = [e.right.identifier];
      else if (e.op === '!=' && e.right.kind === 'value') return negated ? new Set([e.right.value]) : undefined;
      if (!names) return undefined;
      return negated ? undefined : new Set(names);
    }
    default:
      return undefined;
  }
}

function intersection(a: TypeSet, b: TypeSet): TypeSet {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return new Set([...a].filter((x) => b.has(x)));
}

function union(a: TypeSet, b: TypeSet): TypeSet {
  if (a === undefined || b === undefined) return undefined;
  return new Set([...a, ...b]);
}
