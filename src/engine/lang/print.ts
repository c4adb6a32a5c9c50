/** The canonical form of a condition (libsinsp ast::as_string), as Falco shows `condition_compiled`. */
import type { CheckValue, Expr, TransformerArg } from './ast.ts';
import { escapeString } from './escapes.ts';

export function conditionToString(e: Expr | CheckValue | TransformerArg): string {
  switch (e.kind) {
    case 'and':
    case 'or':
      return `(${e.children.map(conditionToString).join(` ${e.kind} `)})`;
    case 'not':
      return `not ${conditionToString(e.child)}`;
    case 'identifier':
      return e.identifier;
    case 'value':
      return escapeString(e.value);
    case 'list':
      return `(${e.values.map(escapeString).join(', ')})`;
    case 'unary':
      return `${conditionToString(e.left)} exists`;
    case 'binary':
      return `${conditionToString(e.left)} ${e.op}${e.modifier ? ` ${e.modifier}` : ''} ${conditionToString(e.right)}`;
    case 'field':
      return e.field + fieldArg(e.arg);
    case 'transformer':
      return `${e.transformer}(${e.values.map(conditionToString).join(',')})${fieldArg(e.arg)}`;
    case 'transformer_list':
      return `(${e.children.map(conditionToString).join(',')})`;
  }
}

function fieldArg(arg: string | undefined): string {
  if (arg === undefined) return '';
  return arg === '' ? '[""]' : `[${escapeString(arg)}]`;
}
