/** String matchers behind glob/iglob/pmatch/regex, built once at compile time. */
import { RE2JS } from 're2js';

/** fnmatch(pattern, value, 0) (or FNM_CASEFOLD): `*` and `?` also match `/`; `[...]`, `[!...]`, `\x` escapes. */
export function globMatcher(pattern: string, caseInsensitive: boolean): (s: string) => boolean {
  if (!/[*?[\\]/.test(pattern)) {
    if (!caseInsensitive) return (s) => s === pattern;
    const lower = pattern.toLowerCase();
    return (s) => s.toLowerCase() === lower;
  }
  const re = new RegExp(`^${globToRegex(pattern)}$`, caseInsensitive ? 'si' : 's');
  return (s) => re.test(s);
}

function globToRegex(p: string): string {
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '\\' && i + 1 < p.length) out += escapeRe(p[++i]!);
    else if (c === '[') {
      const end = bracketEnd(p, i);
      if (end < 0) {
        out += '\\[';
        continue;
      }
      let body = p.slice(i + 1, end);
      let negate = false;
      if (body.startsWith('!') || body.startsWith('^')) {
        negate = true;
        body = body.slice(1);
      }
      out += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, (x, off) => (x === ']' && off === 0 ? '\\]' : `\\${x}`))}]`;
      i = end;
    } else out += escapeRe(c);
  }
  return out;
}

/** Index of the `]` closing the bracket expression opened at i (a `]` right after `[` or `[!` is literal). */
function bracketEnd(p: string, i: number): number {
  let j = i + 1;
  if (p[j] === '!' || p[j] === '^') j++;
  if (p[j] === ']') j++;
  for (; j < p.length; j++) if (p[j] === ']') return j;
  return -1;
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/**
 * pmatch: the value equals one of the paths or lies below one, component by component; components may be globs.
 * Exact paths are looked up in a set per depth; glob paths are tried one by one.
 */
export function pathPrefixMatcher(paths: string[]): (s: string) => boolean {
  const exact = new Set<string>();
  const globs: Array<Array<(c: string) => boolean>> = [];
  for (const p of paths) {
    const parts = split(p);
    if (/[*?[]/.test(p)) globs.push(parts.map((c) => globMatcher(c, false)));
    else exact.add(parts.join('/'));
  }
  return (s) => {
    const parts = split(s);
    for (let n = parts.length; n >= 1; n--) if (exact.has(parts.slice(0, n).join('/'))) return true;
    return globs.some((g) => g.length <= parts.length && g.every((m, i) => m(parts[i]!)));
  };
}

function split(p: string): string[] {
  return p.split('/').filter((c, i) => c !== '' || i === 0);
}

/**
 * libsinsp's `regex`: RE2 syntax ([[:alpha:]], (?i), \\pL …), the whole value must match, and linear time whatever
 * the pattern and value (a backtracking engine spends seconds on "(a+)+$" against 30 a's and a "!"). re2js is
 * RE2/J's automata in plain JS: slower per check than V8's RegExp (~0.5-5 µs), but stock Falco rules use no regex.
 */
export function regexMatcher(pattern: string): (s: string) => boolean {
  const re = RE2JS.compile(pattern);
  return (s) => re.matches(s);
}
