/**
 * JSON for alerts with exact 64-bit integers. Falco writes integers such as evt.time in nanoseconds
 * (1470327477881781397) that a JS number cannot hold; JSON.parse would turn that one into
 * 1470327477881781500. Integers beyond Number.MAX_SAFE_INTEGER are read as bigint and written back as
 * the same integer literal; everything else is plain JSON.parse / JSON.stringify.
 */

// An unsafe integer has at least 16 digits; texts without such a run take the plain JSON.parse.
const RUN = 16;

/**
 * Does the text hold RUN digits in a row? Looks at every RUN-th character only (any such run covers one
 * of them) and measures the run around a digit it finds: a fraction of a regex scan's cost.
 */
function hasLongDigitRun(text: string): boolean {
  const n = text.length;
  for (let p = RUN - 1; p < n; p += RUN) {
    if (!isDigit(text.charCodeAt(p))) continue;
    let a = p;
    while (a > 0 && isDigit(text.charCodeAt(a - 1))) a--;
    let b = p;
    while (b + 1 < n && isDigit(text.charCodeAt(b + 1))) b++;
    if (b - a + 1 >= RUN) return true;
  }
  return false;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

// Marks an unsafe integer while JSON.parse reads it as a string; random so no real string can carry it.
const MARK_ID = `int64:${Math.random().toString(36).slice(2)}:`;
const MARK = `\u0000${MARK_ID}`; // as the parsed string starts
const MARK_JSON = `\\u0000${MARK_ID}`; // as written into the JSON text (a raw NUL is not valid JSON)

/** Parses JSON; integers outside ±(2^53-1) become bigint, exactly. Throws SyntaxError as JSON.parse. */
export function parseJson(text: string): unknown {
  if (!hasLongDigitRun(text)) return JSON.parse(text);
  // JSON.parse's reviver with context.source is exact too, but several times slower than JSON.parse on an
  // alert with evt.time in ns (every alert Falco sends); quoting the few unsafe integers keeps the plain parser.
  const quoted = quoteUnsafeIntegers(text);
  if (quoted === text) return JSON.parse(text);
  return restore(JSON.parse(quoted));
}

/** Wraps each integer token outside strings that a number cannot hold in a marked string. */
function quoteUnsafeIntegers(text: string): string {
  let out = '';
  let copied = 0;
  let inString = false;
  let scanned = 0; // string state is known up to here
  const n = text.length;
  // The same stride as hasLongDigitRun: every run of RUN digits covers one probed position.
  for (let p = RUN - 1; p < n; p += RUN) {
    if (!isDigit(text.charCodeAt(p))) continue;
    let at = p;
    while (at > 0 && isDigit(text.charCodeAt(at - 1))) at--;
    let end = p + 1;
    while (end < n && isDigit(text.charCodeAt(end))) end++;
    p = end - 1; // the next probe is past this run
    if (end - at < RUN) continue;
    for (let q = text.indexOf('"', scanned); q !== -1 && q < at; q = text.indexOf('"', q + 1)) {
      if (!inString || !escaped(text, q)) inString = !inString;
      scanned = q + 1;
    }
    if (inString) continue;
    const start = text.charCodeAt(at - 1) === 45 ? at - 1 : at; // "-"
    const before = text.charCodeAt(start - 1);
    const after = text.charCodeAt(end);
    // Part of a float (fraction, exponent): JSON.parse reads it as a number, as it should.
    if (before === 46 || before === 101 || before === 69 || before === 43 || after === 46 || after === 101 || after === 69) continue;
    const token = text.slice(start, end);
    if (Number.isSafeInteger(Number(token))) continue;
    out += `${text.slice(copied, start)}"${MARK_JSON}${token}"`;
    copied = end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Is the quote at q escaped (an odd number of backslashes before it)? */
function escaped(text: string, q: number): boolean {
  let n = 0;
  while (text.charCodeAt(q - 1 - n) === 92) n++;
  return n % 2 === 1;
}

function restore(v: unknown): unknown {
  if (typeof v === 'string') return v.startsWith(MARK) ? BigInt(v.slice(MARK.length)) : v;
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = restore(v[i]);
    return v;
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    // A number used as a key is not JSON; quoting it must not make it valid.
    if (k.startsWith(MARK)) throw new SyntaxError(`Unexpected number in JSON: object keys must be strings (${k.slice(MARK.length)})`);
    o[k] = restore(o[k]);
  }
  return o;
}

/** JSON.stringify that writes bigint as an integer literal (JSON.stringify alone throws on bigint). */
export function stringifyJson(value: unknown): string {
  if (!hasBigint(value)) return JSON.stringify(value);
  // Bigints become marked strings, then the marks (and quotes) are cut from the text: several times
  // faster than a replacer function, which JSON.stringify calls for every value.
  return JSON.stringify(markBigints(value)).replace(MARKED, '$1');
}

function hasBigint(v: unknown): boolean {
  if (typeof v === 'bigint') return true;
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some(hasBigint);
  for (const k in v) if (hasBigint((v as Record<string, unknown>)[k])) return true;
  return false;
}

const MARKED = new RegExp(`"\\\\u0000${MARK_ID}(-?\\d+)"`, 'g');

function markBigints(v: unknown): unknown {
  if (typeof v === 'bigint') return `${MARK}${v}`;
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(markBigints);
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = markBigints((v as Record<string, unknown>)[k]);
  return out;
}

/** A JSON integer as the alert should carry it: a number when exact, else a bigint. */
export function exactInteger(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
