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

/**
 * The field values of an alert that its output does not already hold as whole words. The index keeps only
 * which words a document has, so a value written in the output (Falco's output_fields are the fields its
 * output names) adds nothing but tokenizing work: leaving it out keeps the index the same and makes a write
 * cheaper.
 */
export function unwrittenFieldText(fields: Record<string, unknown>, output: string): string {
  const parts: string[] = [];
  for (const v of Object.values(fields)) {
    if (v === null || v === undefined) continue;
    const text = Array.isArray(v) ? v.join(' ') : String(v);
    if (text !== '' && !holdsAsWords(output, text)) parts.push(text);
  }
  return parts.join(' ');
}

/** Whether `text` occurs in `hay` where neither end runs into a word character (its words are hay's words). */
function holdsAsWords(hay: string, text: string): boolean {
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  for (let i = hay.indexOf(text); i !== -1; i = hay.indexOf(text, i + 1)) {
    const end = i + text.length;
    const startOk = i === 0 || !wordChar(first) || !wordChar(hay.charCodeAt(i - 1));
    const endOk = end === hay.length || !wordChar(last) || !wordChar(hay.charCodeAt(end));
    if (startOk && endOk) return true;
  }
  return false;
}

const WORD_CHAR = /[\p{L}\p{N}\p{Co}\p{M}]/u;

/**
 * Characters the search index's tokenizer (unicode61) may take as part of a word: letters, digits, private
 * use, and (to be safe with diacritics) marks. Half of a surrogate pair counts as one too, to be safe.
 */
function wordChar(code: number): boolean {
  if (code < 128) return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
  if (code >= 0xd800 && code <= 0xdfff) return true;
  return WORD_CHAR.test(String.fromCharCode(code));
}

/** The same matching in JavaScript, for alerts streamed live (no index there). */
export function matchesSearch(text: string, haystack: string): boolean {
  const words = wordsOf(text);
  if (words.length === 0) return true;
  const hay = new Set(wordsOf(haystack));
  return words.every((w, i) => (i === words.length - 1 ? [...hay].some((h) => h.startsWith(w)) : hay.has(w)));
}
