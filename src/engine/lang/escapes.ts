/** String escapes of the condition language (libsinsp escaping.cpp): unescape when parsing, escape when printing. */

const SIMPLE: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', '\\': '\\', '/': '/' };

/** Decodes the inside of a quoted string; throws with libsinsp's message on a bad escape. */
export function unescapeString(text: string, quote: '"' | "'"): string {
  if (!text.includes('\\')) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = text[++i];
    if (e !== undefined && e in SIMPLE) out += SIMPLE[e];
    else if (e === '"' || e === "'") {
      if (e !== quote) throw new Error(`invalid \\${e} escape in ${quote}-quoted string`);
      out += e;
    } else if (e === 'x') {
      const hex = text.slice(i + 1, i + 3);
      if (hex.length < 2) throw new Error('truncated hex char escape sequence');
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new Error(`invalid hex char escape sequence: ${hex}`);
      out += String.fromCharCode(parseInt(hex, 16));
      i += 2;
    } else if (e === ' ') {
      out += '\\'; // legacy quirk: "\ " is a lone backslash
    } else {
      throw new Error(`unsupported string escape sequence: \\${e ?? ''}`);
    }
  }
  return out;
}

const NEEDS_QUOTES = /[\b\f\n\r\t =\\"'\0]/;
const ESCAPES: Record<string, string> = { '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\', '"': '\\"' };

/** Prints a value the way as_string does: bare unless it holds a blank, `=`, a quote, a backslash or NUL. */
export function escapeString(value: string): string {
  if (!NEEDS_QUOTES.test(value)) return value;
  return `"${value.replace(/[\b\f\n\r\t\\"]/g, (c) => ESCAPES[c] ?? c)}"`;
}
