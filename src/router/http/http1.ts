/**
 * HTTP/1.x request framing for the alert fast lane (fast-lane.ts): where a request's head ends, what it
 * says, and where its body ends (Content-Length or chunked). Pure functions over a Buffer; nothing here
 * writes. Anything it does not read exactly (a malformed head, framing that could smuggle a second
 * request) is an error with the status node:http would answer.
 */

export interface RequestHead {
  method: string;
  /** The request target as sent (path and query). */
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  /** Header names in lower case; repeated headers joined by ", " (as node:http does for most). */
  headers: Record<string, string>;
  /** Offset just past the blank line that ends the head. */
  bodyStart: number;
}

export type HeadResult =
  | { kind: 'head'; head: RequestHead }
  | { kind: 'partial' }
  | { kind: 'error'; status: 400 | 431 | 505; error: string };

const CRLF_CRLF = Buffer.from('\r\n\r\n');
// RFC 9110 token characters, for methods and header names.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Reads the request head starting at `start`; `partial` until its blank line has arrived. */
export function parseHead(buf: Buffer, start: number, maxHeadBytes: number): HeadResult {
  const end = buf.indexOf(CRLF_CRLF, start);
  if (end < 0) {
    return buf.length - start > maxHeadBytes
      ? { kind: 'error', status: 431, error: `request head is larger than ${maxHeadBytes} bytes` }
      : { kind: 'partial' };
  }
  if (end - start > maxHeadBytes) return { kind: 'error', status: 431, error: `request head is larger than ${maxHeadBytes} bytes` };
  const lines = buf.toString('latin1', start, end).split('\r\n');
  const m = /^([^ ]+) ([^ ]+) HTTP\/1\.([01])$/.exec(lines[0]!);
  if (!m || !TOKEN.test(m[1]!)) {
    return /^[^ ]+ [^ ]+ HTTP\/\d+\.\d+$/.test(lines[0]!)
      ? { kind: 'error', status: 505, error: 'only HTTP/1.0 and HTTP/1.1 are served here' }
      : { kind: 'error', status: 400, error: 'malformed request line' };
  }
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    // A line starting with white space is an obsolete folded header: refused, as RFC 9112 allows.
    if (colon <= 0 || !TOKEN.test(line.slice(0, colon))) return { kind: 'error', status: 400, error: `malformed header line ${i}` };
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    const seen = headers[name];
    if (seen === undefined) headers[name] = value;
    else if (name === 'content-length') {
      if (seen !== value) return { kind: 'error', status: 400, error: 'conflicting content-length headers' };
    } else headers[name] = `${seen}, ${value}`;
  }
  // RFC 9112 section 3.2: an HTTP/1.1 request without Host is answered 400, as node:http (which takes the
  // connection's first request) and Go's server do.
  if (m[3] === '1' && headers.host === undefined) return { kind: 'error', status: 400, error: 'HTTP/1.1 request without a host header' };
  return { kind: 'head', head: { method: m[1]!, target: m[2]!, minor: Number(m[3]), headers, bodyStart: end + 4 } };
}

export type BodyFraming =
  | { kind: 'length'; length: number }
  | { kind: 'chunked' }
  | { kind: 'error'; status: 400 | 413 | 501; error: string };

/** How the body of a request with this head is framed (RFC 9112 section 6.3); bodies over `limit` are 413. */
export function bodyFraming(head: RequestHead, limit: number): BodyFraming {
  const te = head.headers['transfer-encoding'];
  const cl = head.headers['content-length'];
  if (te !== undefined) {
    // Both headers at once is how requests are smuggled past a proxy: refused, as node:http does.
    if (cl !== undefined) return { kind: 'error', status: 400, error: 'both transfer-encoding and content-length' };
    if (te.toLowerCase() !== 'chunked') return { kind: 'error', status: 501, error: `transfer-encoding "${te}" is not supported` };
    return { kind: 'chunked' };
  }
  if (cl === undefined) return { kind: 'length', length: 0 };
  if (!/^\d{1,15}$/.test(cl)) return { kind: 'error', status: 400, error: `invalid content-length "${cl}"` };
  const length = Number(cl);
  if (length > limit) return { kind: 'error', status: 413, error: `request body is larger than bodylimit (${limit} bytes)` };
  return { kind: 'length', length };
}

export type ChunkedResult =
  | { kind: 'body'; body: Buffer; end: number }
  | { kind: 'partial' }
  | { kind: 'error'; status: 400 | 413; error: string };

/** Decodes a chunked body starting at `start` (chunk extensions and trailers are read and ignored). */
export function decodeChunked(buf: Buffer, start: number, limit: number): ChunkedResult {
  const parts: Buffer[] = [];
  let size = 0;
  let at = start;
  for (;;) {
    const eol = buf.indexOf('\r\n', at, 'latin1');
    if (eol < 0) return buf.length - at > 1024 ? { kind: 'error', status: 400, error: 'malformed chunk size line' } : { kind: 'partial' };
    const m = /^([0-9A-Fa-f]{1,8})(?:[ \t]*;.*)?$/.exec(buf.toString('latin1', at, eol));
    if (!m) return { kind: 'error', status: 400, error: 'malformed chunk size line' };
    const n = parseInt(m[1]!, 16);
    at = eol + 2;
    if (n === 0) {
      // Trailer fields, then the blank line that ends the message.
      for (;;) {
        const t = buf.indexOf('\r\n', at, 'latin1');
        if (t < 0) return buf.length - at > 8192 ? { kind: 'error', status: 400, error: 'trailer section too large' } : { kind: 'partial' };
        const blank = t === at;
        at = t + 2;
        if (blank) return { kind: 'body', body: parts.length === 1 ? parts[0]! : Buffer.concat(parts, size), end: at };
      }
    }
    size += n;
    if (size > limit) return { kind: 'error', status: 413, error: `request body is larger than bodylimit (${limit} bytes)` };
    if (buf.length < at + n + 2) return { kind: 'partial' };
    if (buf[at + n] !== 13 || buf[at + n + 1] !== 10) return { kind: 'error', status: 400, error: 'chunk data not followed by CRLF' };
    parts.push(buf.subarray(at, at + n));
    at += n + 2;
  }
}

/** Does this request's client, or this response's server, keep the connection for another exchange (RFC 9112 section 9.3)? */
export function keepsAlive(head: Pick<RequestHead, 'minor' | 'headers'>): boolean {
  const c = head.headers.connection?.toLowerCase();
  if (c === undefined) return head.minor === 1;
  const tokens = c.split(',').map((t) => t.trim());
  return head.minor === 1 ? !tokens.includes('close') : tokens.includes('keep-alive');
}
