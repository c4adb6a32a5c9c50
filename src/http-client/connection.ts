import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { decodeChunked, keepsAlive } from '../router/http/http1.ts';
import { keepAliveTimeoutMs, parseResponseHead, responseFraming, type ResponseHead } from './response-head.ts';

export interface Origin {
  protocol: 'http:' | 'https:';
  /** Host name or IP address, without IPv6 brackets. */
  host: string;
  port: number;
}

export interface TlsOptions {
  rejectUnauthorized: boolean;
  ca?: string[];
  /** Presented when the server asks for a client certificate (mutual TLS). */
  clientCert?: { cert: Buffer | string; key: Buffer | string };
}

export interface Exchange {
  status: number;
  headers: Record<string, string>;
  /** The body's first `keepBodyBytes` bytes. */
  body: Buffer;
}

const MAX_HEAD_BYTES = 64 * 1024;
// Bodies are buffered whole; past this much the status stands and the connection is closed instead of read on.
const MAX_BODY_BYTES = 1024 * 1024;

/** Thrown when a request failed before any byte of its response: on a reused connection it may be sent again. */
export class NoResponseError extends Error {}

/**
 * One HTTP/1.1 connection carrying one request at a time (no pipelining). It reads the response itself
 * (response-head.ts) and tells its pool when it may carry another request.
 */
export class Connection {
  readonly socket: Socket;
  closed = false;
  private ended = false;
  /** How long the connection may stay idle before it is closed; the server's Keep-Alive hint lowers it. */
  idleMs: number;
  private buf: Buffer | null = null;
  private current: Pending | null = null;

  private readonly onIdleClose: (c: Connection) => void;

  /** `tunnel`: a socket already connected to the origin through a proxy (CONNECT); TLS runs over it. */
  constructor(origin: Origin, tls: TlsOptions, idleMs: number, onIdleClose: (c: Connection) => void, tunnel?: Socket) {
    this.idleMs = idleMs;
    this.onIdleClose = onIdleClose;
    const isIp = /^[\d.]+$|:/.test(origin.host);
    const where = tunnel ? { socket: tunnel } : { host: origin.host, port: origin.port };
    this.socket = origin.protocol === 'https:'
      ? tlsConnect({ ...where, rejectUnauthorized: tls.rejectUnauthorized, ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.clientCert ? { cert: tls.clientCert.cert, key: tls.clientCert.key } : {}), ...(isIp ? {} : { servername: origin.host }), ALPNProtocols: ['http/1.1'] })
      : tunnel ?? netConnect({ host: origin.host, port: origin.port });
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.onClose());
    // The server's FIN: no new request goes out on this connection, even before 'close'.
    this.socket.on('end', () => { this.ended = true; });
    this.socket.on('timeout', () => { if (!this.current) this.socket.destroy(); });
  }

  /**
   * Sends one request (head and body already framed) and resolves with its response. A socket still
   * connecting queues the write; a failure to connect rejects with the connection's error.
   */
  exchange(method: string, request: string, keepBodyBytes: number, signal: AbortSignal): Promise<Exchange> {
    if (!this.idle) return Promise.reject(new NoResponseError('connection closed'));
    this.socket.setTimeout(0);
    return new Promise<Exchange>((resolve, reject) => {
      this.current = new Pending(method, keepBodyBytes, resolve, reject, signal, () => this.socket.destroy());
      this.socket.write(request);
    });
  }

  private onData(chunk: Buffer): void {
    const p = this.current;
    // Bytes nobody asked for: the connection is out of step and cannot be trusted.
    if (!p) return void this.socket.destroy();
    this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    const r = p.read(this.buf);
    if (r === 'partial') return;
    this.current = null;
    const trailing = r !== 'error' && r.rest < this.buf.length;
    this.buf = null;
    if (r === 'error' || trailing || !r.reusable) {
      // Out of step (bytes past the response), or the server will not take another request.
      this.socket.destroy();
      if (r !== 'error') p.done();
      return;
    }
    if (r.idleMs !== undefined) this.idleMs = Math.min(this.idleMs, r.idleMs - 1000);
    if (this.idleMs <= 0) this.socket.destroy();
    else this.socket.setTimeout(this.idleMs);
    p.done();
  }

  private fail(err: Error): void {
    const p = this.current;
    this.current = null;
    p?.fail(err);
  }

  private onClose(): void {
    this.closed = true;
    const p = this.current;
    this.current = null;
    if (p) {
      // A body framed by the close ends here; anything else was cut short.
      if (!p.endAtClose(this.buf)) p.fail(new Error('connection closed before the response ended'));
    }
    this.buf = null;
    this.onIdleClose(this);
  }

  /** Whether it can take a request now. */
  get idle(): boolean {
    return !this.closed && !this.ended && !this.socket.destroyed && this.current === null;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

type ReadResult = 'partial' | 'error' | { rest: number; reusable: boolean; idleMs: number | undefined };

/** One request waiting for its response. */
class Pending {
  private head: ResponseHead | null = null;
  private settled = false;
  private result: Exchange | null = null;
  private readonly onAbort: () => void;
  private readonly method: string;
  private readonly keepBodyBytes: number;
  private readonly resolve: (e: Exchange) => void;
  private readonly reject: (err: Error) => void;
  private readonly signal: AbortSignal;

  constructor(method: string, keepBodyBytes: number, resolve: (e: Exchange) => void, reject: (err: Error) => void, signal: AbortSignal, destroy: () => void) {
    this.method = method;
    this.keepBodyBytes = keepBodyBytes;
    this.resolve = resolve;
    this.reject = reject;
    this.signal = signal;
    // A timeout or shutdown tears the connection down: its response, if it ever comes, is not wanted.
    this.onAbort = () => { this.fail(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason))); destroy(); };
    if (signal.aborted) queueMicrotask(this.onAbort);
    else signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Reads what has arrived; 1xx interim responses are skipped. */
  read(buf: Buffer): ReadResult {
    let at = 0;
    for (;;) {
      if (!this.head) {
        const h = parseResponseHead(buf, at, MAX_HEAD_BYTES);
        if (h.kind === 'partial') return 'partial';
        if (h.kind === 'error') return this.failWith(new Error(h.error));
        if (h.head.status < 200 && h.head.status !== 101) { at = h.head.bodyStart; continue; }
        this.head = h.head;
      }
      const head = this.head;
      const framing = responseFraming(head, this.method);
      const reusable = head.status !== 101 && keepsAlive(head);
      const idleMs = keepAliveTimeoutMs(head);
      switch (framing.kind) {
        case 'error': return this.failWith(new Error(framing.error));
        case 'none': return this.finish(buf.subarray(0, 0), head.bodyStart, reusable, idleMs);
        case 'length': {
          if (framing.length > MAX_BODY_BYTES) return this.finish(buf.subarray(head.bodyStart), buf.length, false, idleMs);
          const end = head.bodyStart + framing.length;
          if (buf.length < end) return 'partial';
          return this.finish(buf.subarray(head.bodyStart, end), end, reusable, idleMs);
        }
        case 'chunked': {
          const c = decodeChunked(buf, head.bodyStart, MAX_BODY_BYTES);
          if (c.kind === 'partial') return 'partial';
          // Too large or malformed: the status stands; the connection is closed instead of read on.
          if (c.kind === 'error') return this.finish(Buffer.alloc(0), buf.length, false, idleMs);
          return this.finish(c.body, c.end, reusable, idleMs);
        }
        case 'until-close':
          return buf.length - head.bodyStart > MAX_BODY_BYTES ? this.finish(buf.subarray(head.bodyStart), buf.length, false, idleMs) : 'partial';
      }
    }
  }

  /** The server closed the connection: a response framed by the close is complete. */
  endAtClose(buf: Buffer | null): boolean {
    if (this.settled) return true;
    if (!this.head || !buf || responseFraming(this.head, this.method).kind !== 'until-close') return false;
    this.finish(buf.subarray(this.head.bodyStart), buf.length, false, undefined);
    this.done();
    return true;
  }

  private finish(body: Buffer, rest: number, reusable: boolean, idleMs: number | undefined): ReadResult {
    const head = this.head!;
    // Copied: the slice would otherwise keep the whole read buffer alive.
    const kept = body.length === 0 ? body : Buffer.from(body.subarray(0, this.keepBodyBytes));
    this.result = { status: head.status, headers: head.headers, body: kept };
    return { rest, reusable, idleMs };
  }

  /** Hands the response to the caller once the connection is back in a known state. */
  done(): void {
    if (this.settled || !this.result) return;
    this.settled = true;
    this.signal.removeEventListener('abort', this.onAbort);
    this.resolve(this.result);
  }

  private failWith(err: Error): 'error' {
    this.fail(err);
    return 'error';
  }

  fail(err: Error): void {
    if (this.settled) return;
    // A complete response read just before the connection went is still the answer.
    if (this.result) return this.done();
    this.settled = true;
    this.signal.removeEventListener('abort', this.onAbort);
    this.reject(this.head ? err : new NoResponseError(err.message, { cause: err }));
  }
}
