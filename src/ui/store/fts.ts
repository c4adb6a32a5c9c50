/**
 * Turns what a user types into an FTS5 query that cannot be a syntax error: every word (letters and
 * digits, as FTS5's unicode61 tokenizer splits them) must occur in the alert, in any order, and the
 * last word also matches as a prefix (search while typing). "/etc/shadow" looks for etc and shadow.
 * The index keeps no word positions (detail=none), which makes it much cheaper to write; hence no
 * phrase matching. Returns undefined when nothing searchable is left.
 */
export function ftsQuery(text: string): string | undefined {
  const words = wordsOf(text);
  if (words.length === 0) return undefined;
  return words.map((w, i) => (i === words.length - 1 ? `"${w}"*` : `"${w}"`)).join(' ');
}

function wordsOf(text: string): string[] {
  return (text.match(/[\p{L}\p{N}]+/gu) ?? []).map((w) => w.toLowerCase());
}

/** The field values of an alert as one indexed text. */
export function fieldText(fields: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const v of Object.values(fields)) {
    if (v === null || v === undefined) continue;
    parts.push(Array.isArray(v) ? v.join(' ') : String(v));
  }
  return parts.join(' ');
}

/** The same matching in JavaScript, for alerts streamed live (no index there). */
export function matchesSearch(text: string, haystack: string): boolean {
  const words = wordsOf(text);
  if (words.length === 0) return true;
  const hay = new Set(wordsOf(haystack));
  return words.every((w, i) => (i === words.length - 1 ? [...hay].some((h) => h.startsWith(w)) : hay.has(w)));
}
