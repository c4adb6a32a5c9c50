/**
 * Lists: expansion of lists that name earlier lists, then Falco's textual substitution of list names in
 * condition text before parsing (ENGINE_SEMANTICS.md §3.1-3.2).
 */
import type { ListDef } from './collector.ts';
import { LimitError, RULES_LIMITS } from './limits.ts';

const DELIMS = new Set([' ', '\t', '\n', '\r', '(', ')', ',', '=']);

export interface ExpandedList {
  def: ListDef;
  items: string[];
  /** The items joined as they replace the name: `a, b, "c d"`. */
  replacement: string;
  /** Set when expansion passed RULES_LIMITS.listItems: the list is unusable (items are empty). */
  tooBig?: string;
}

/** Expands every list in position order; an item naming an earlier-visible list is replaced by its items. */
export function expandLists(lists: Iterable<ListDef>, used: Set<string>): ExpandedList[] {
  const ordered = [...lists].sort((a, b) => a.index - b.index);
  const done = new Map<string, ExpandedList>();
  for (const def of ordered) {
    const items: string[] = [];
    let tooBig: string | undefined;
    for (const item of def.items) {
      const ref = done.get(item);
      const expanded = ref && ref.def.index < def.visibility ? ref : undefined;
      if (expanded) used.add(item);
      if (expanded?.tooBig) tooBig = `it names list '${item}', which is over the limit`;
      const add = expanded ? expanded.items.length : 1;
      if (tooBig || items.length + add > RULES_LIMITS.listItems) {
        tooBig ??= `it expands to more than ${RULES_LIMITS.listItems} items`;
        break;
      }
      // A loop, not push(...items): spreading 100k+ arguments overflows the stack.
      if (expanded) for (const x of expanded.items) items.push(x);
      else items.push(item);
    }
    if (tooBig) {
      done.set(def.name, { def, items: [], replacement: '', tooBig });
      continue;
    }
    const replacement = items.map((i) => (i.includes(' ') && !i.startsWith('"') && !i.startsWith("'") ? `"${i}"` : i)).join(', ');
    done.set(def.name, { def, items, replacement });
  }
  return [...done.values()];
}

/** Replaces delimited occurrences of every list name in the text; records which lists were used. */
export function substituteLists(text: string, lists: ExpandedList[], used: Set<string>): string {
  for (const list of lists) {
    const name = list.def.name;
    if (!text.includes(name)) continue;
    let out = '';
    let i = 0;
    for (;;) {
      const at = text.indexOf(name, i);
      if (at < 0) break;
      const end = at + name.length;
      const before = at === 0 || DELIMS.has(text[at - 1]!);
      const after = end === text.length || DELIMS.has(text[end]!);
      if (!before || !after) {
        out += text.slice(i, end);
        i = end;
        continue;
      }
      used.add(name);
      if (list.tooBig) throw new LimitError(`list '${name}' cannot be used: ${list.tooBig}`);
      // The name goes together with the blanks around it; an empty list also takes one adjacent comma.
      let start = at;
      while (start > i && (text[start - 1] === ' ' || text[start - 1] === '\t')) start--;
      let stop = end;
      while (stop < text.length && (text[stop] === ' ' || text[stop] === '\t')) stop++;
      if (list.items.length === 0) {
        if (text[stop] === ',') {
          stop++;
          while (stop < text.length && text[stop] === ' ') stop++;
        } else if (start > i && text[start - 1] === ',') {
          start--;
        }
        out += text.slice(i, start);
      } else {
        out += text.slice(i, start) + (start < at && text[start - 1] !== '(' ? ' ' : '') + list.replacement;
        if (stop > end && stop < text.length && text[stop] !== ')' && text[stop] !== ',') out += ' ';
      }
      i = stop;
    }
    text = out + text.slice(i);
    if (text.length > RULES_LIMITS.conditionChars) {
      throw new LimitError(`the condition is longer than ${RULES_LIMITS.conditionChars} characters once lists are expanded`);
    }
  }
  return text;
}
