/**
 * HTTP/1.x response framing for the outputs' client (client.ts): where a response's head ends, what it says,
 * and how its body is framed (RFC 9112 section 6.3). Pure functions over a Buffer; nothing here reads a socket.
 */

export interface ResponseHead {
  status: number;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  /** Header names in lower case; repeated headers joined by ", ". */
  headers: Record<string, string>;
  /** Offset just past the blank line that ends the head. */
  bodyStart: number;
}

export type ResponseHeadResult =
  | { kind: 'head'; head: ResponseHead }
  | { kind: 'partial' }
  | { kind: 'error'; error: string };

const CRLF_CRLF = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/;

/** Reads the response head starting at `start`; `partial` until its blank line has arrived. */
export function parseResponseHead(buf: Buffer, start: number, maxHeadBytes: number): ResponseHeadResult {
  const end = buf.indexOf(CRLF_CRLF, start);
  if (end < 0) return buf.length - start > maxHeadBytes ? { kind: 'error', error: `response head is larger than ${maxHeadBytes} bytes` } : { kind: 'partial' };
  const lines = buf.toString('latin1', start, end).split('\r\n');
  const m = STATUS_LINE.exec(lines[0]!);
  if (!m) return { kind: 'error', error: `malformed status line "${lines[0]!.slice(0, 60)}"` };
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return { kind: 'error', error: `malformed response header line ${i}` };
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const seen = headers[name];
    headers[name] = seen === undefined ? value : `${seen}, ${value}`;
  }
  return { kind: 'head', head: { status: Number(m[2]), minor: Number(m[1]), headers, bodyStart: end + 4 } };
}

export type ResponseFraming =
  | { kind: 'none' }
  | { kind: 'length'; length: number }
  | { kind: 'chunked' }
  /** No length given: the body is whatever comes until the server closes (the connection cannot be reused). */
  | { kind: 'until-close' }
  | { kind: 'error'; error: string };

/** How the body of this response to `method` is framed. */
export function responseFraming(head: ResponseHead, method: string): ResponseFraming {
  if (method === 'HEAD' || head.status === 204 || head.status === 304 || head.status < 200) return { kind: 'none' };
  const te = head.headers['transfer-encoding'];
  if (te !== undefined) {
    // RFC 9112 6.3: chunked must be the last coding; anything else is read until close.
    return te.toLowerCase().split(',').map((t) => t.trim()).at(-1) === 'chunked' ? { kind: 'chunked' } : { kind: 'until-close' };
  }
  const cl = head.headers['content-length'];
  if (cl === undefined) return { kind: 'until-close' };
  // Repeated identical values ("5, 5") are one length; differing ones cannot be trusted.
  const values = new Set(cl.split(',').map((v) => v.trim()));
  const only = values.size === 1 ? [...values][0]! : '';
  if (!/^\d{1,15}$/.test(only)) return { kind: 'error', error: `invalid content-length "${cl}" in the response` };
  return { kind: 'length', length: Number(only) };
}

/** The server's idle limit from `Keep-Alive: timeout=N`, in ms, if it gave one. */
export function keepAliveTimeoutMs(head: ResponseHead): number | undefined {
  const m = /(?:^|,)\s*timeout=(\d+)/i.exec(head.headers['keep-alive'] ?? '');
  return m ? Number(m[1]) * 1000 : undefined;
}
