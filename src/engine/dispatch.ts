/**
 * The rules of one event type as one generated function: `next(event, from)` is the index of the first
 * condition at or after `from` that matches, or -1. A loop over the conditions calls a different function
 * at one call site for every rule, which V8 leaves megamorphic (no inlining, a generic call each); here
 * every condition has its own call site with a single target. Conditions are passed in as references:
 * no rule text enters the generated source.
 */
export type Condition = (event: any) => boolean;
export type NextMatch = (event: any, from: number) => number;

export function firstMatchFrom(conditions: readonly Condition[]): NextMatch {
  if (conditions.length === 0) return () => -1;
  // switch fallthrough: start at `from`, try each later condition in order.
  const cases = conditions.map((_, i) => `case ${i}: if (c${i}(ev)) return ${i};`).join(' ');
  const source = `return function next(ev, from) { switch (from) { ${cases} } return -1; };`;
  return new Function(...conditions.map((_, i) => `c${i}`), source)(...conditions) as NextMatch;
}
