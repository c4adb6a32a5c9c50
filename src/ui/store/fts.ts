/**
 * Turns what a user types into an FTS5 query that cannot be a syntax error: every whitespace-separated
 * term becomes a quoted phrase of its words (so "/etc/shadow" finds the words etc, shadow in a row), all
 * terms must match, and the last term also matches as a prefix (search while typing).
 * Returns undefined when nothing searchable is left.
 */
export function ftsQuery(text: string): string | undefined {
  const terms = text.split(/\s+/).map(wordsOf).filter((w) => w.length > 0);
  if (terms.length === 0) return undefined;
  return terms.map((words, i) => {
    const phrase = `"${words.join(' ')}"`;
    return i === terms.length - 1 ? `${phrase}*` : phrase;
  }).join(' ');
}

/** The words FTS5's unicode61 tokenizer would index in a term (letters and digits). */
function wordsOf(term: string): string[] {
  return term.match(/[\p{L}\p{N}]+/gu) ?? [];
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
  const terms = text.split(/\s+/).map(wordsOf).filter((w) => w.length > 0);
  if (terms.length === 0) return true;
  const hay = (haystack.match(/[\p{L}\p{N}]+/gu) ?? []).map((w) => w.toLowerCase());
  return terms.every((words, i) => {
    const w = words.map((x) => x.toLowerCase());
    const last = i === terms.length - 1;
    for (let s = 0; s + w.length <= hay.length; s++) {
      let ok = true;
      for (let k = 0; k < w.length && ok; k++) {
        const isLastWord = last && k === w.length - 1;
        ok = isLastWord ? hay[s + k]!.startsWith(w[k]!) : hay[s + k] === w[k];
      }
      if (ok) return true;
    }
    return false;
  });
}
