import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { parseJson } from '../../alert/json.ts';
import { validateFalcoAlert } from '../../alert/schema.ts';
import type { Logger } from '../../log.ts';
import { bearerMatches } from './auth.ts';
import { bodyFraming, decodeChunked, keepsAlive, parseHead, type RequestHead } from './http1.ts';
import { submitAnswer, type SubmitResult } from './ingest.ts';

/** A request the lane hands to fastify as it came, and fastify's answer. */
export interface InjectRequest { method: string; url: string; headers: Record<string, string>; body: Buffer; remoteAddress: string | undefined }
export interface InjectResponse { status: number; headers: Record<string, string | string[] | number | undefined>; body: Buffer }

export interface FastLaneOptions {
  bodylimit: number;
  authtoken: string;
  retryAfterSeconds: number;
  /** A request head (request line and headers) must fit in this, as node:http's maxHeaderSize. */
  maxHeadBytes: number;
  /** A request must arrive whole within this. */
  requestTimeoutMs: number;
  /** An idle kept-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  log: Logger;
  /** True while the input's checks (event-loop delay, pressure checks) refuse input; fastify then answers. */
  paused(): boolean;
  admit?(): Promise<void> | undefined;
  /** Takes a body that passed the alert schema; resolves once it is spooled. */
  accept(body: unknown): Promise<SubmitResult>;
  /** Counts a request refused before accept (too large, malformed framing). */
  rejected(): void;
  /** Serves a POST / the lane does not take itself (bad token, input paused, invalid body) through fastify's route. */
  inject(req: InjectRequest): Promise<InjectResponse>;
}

/**
 * The alert input's fast lane: POST / served on the raw connection, node:http and fastify for everything else.
 *
 * Why: flat out, node:http's request and response objects and fastify's hooks cost ~60-100 µs of the main
 * thread per alert, several times what parsing, validating and spooling it costs, and the one thread is
 * what bounds the router's input. The lane takes over the http.Server's connections: a connection whose
 * first request is POST / (what Falco and Falcosidekick-style senders keep open) stays on the lane, which
 * frames requests itself (http1.ts) and answers valid alerts after the spool append, as the route does.
 * A request for anything else hands the connection to node:http at that request, so the UI (streams
 * included), /metrics and /k8s-audit are served as before. A POST / the lane does not take itself (a bad
 * token, input paused, an invalid alert) goes through fastify's route by inject(), so every answer that
 * is not a 200 is fastify's own. TLS servers do not use the lane (it sees only ciphertext).
 */
export class AlertFastLane {
  private readonly connections = new Set<LaneConnection>();
  private readonly httpConnectionListener: (socket: Socket) => void;
  private readonly sweepTimer: NodeJS.Timeout;
  private closing = false;
  // Resolves close() once the last lane connection is gone.
  private allClosed: (() => void) | undefined;
  private dateText = '';
  private dateUntil = 0;

  private readonly server: Server;
  readonly opts: FastLaneOptions;

  /**
   * Puts the lane in front of `server`'s connections. It finds node:http's own connection listener by its
   * name; a Node whose listener is named otherwise gets no lane (logged), and node:http serves as before.
   */
  static attach(server: Server, opts: FastLaneOptions): AlertFastLane | undefined {
    const own = server.listeners('connection').find((l) => l.name === 'connectionListener') as ((socket: Socket) => void) | undefined;
    if (!own) {
      opts.log.warn({ node: process.version }, 'http: node:http\'s connection listener not found; POST / is served by fastify (no fast lane)');
      return undefined;
    }
    return new AlertFastLane(server, own, opts);
  }

  private constructor(server: Server, own: (socket: Socket) => void, opts: FastLaneOptions) {
    this.server = server;
    this.opts = opts;
    this.httpConnectionListener = own;
    server.removeListener('connection', own);
    server.on('connection', (socket: Socket) => {
      if (this.closing) { socket.destroy(); return; }
      const c = new LaneConnection(this, socket);
      this.connections.add(c);
    });
    this.sweepTimer = setInterval(() => this.sweep(), 1000);
    this.sweepTimer.unref();
  }

  /** Alerts answered on the lane itself, POST / requests it passed to fastify, connections handed to node:http. */
  readonly counts = { direct: 0, viaFastify: 0, handedOff: 0 };

  /** Lane connections open now. */
  get size(): number { return this.connections.size; }

  get isClosing(): boolean { return this.closing; }

  /** Gives a connection to node:http at a request boundary, with the bytes read so far. */
  handOff(c: LaneConnection, socket: Socket, unread: Buffer | null): void {
    this.forget(c);
    this.counts.handedOff++;
    if (unread && unread.length > 0) socket.unshift(unread);
    this.httpConnectionListener.call(this.server, socket);
  }

  forget(c: LaneConnection): void {
    this.connections.delete(c);
    if (this.connections.size === 0) this.allClosed?.();
  }

  /** The Date header, recomputed once a second as node:http does. */
  date(): string {
    const now = Date.now();
    if (now >= this.dateUntil) {
      this.dateText = new Date(now).toUTCString();
      this.dateUntil = now - (now % 1000) + 1000;
    }
    return this.dateText;
  }

  /**
   * Stops serving: idle connections close now, busy ones after their answer. Resolves once all are gone;
   * the caller cuts what is left after its grace period (destroyAll).
   */
  close(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweepTimer);
    for (const c of this.connections) c.closeWhenIdle();
    if (this.connections.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => (this.allClosed = resolve));
  }

  /** Cuts every lane connection now. */
  destroyAll(): void {
    for (const c of this.connections) c.destroy();
  }

  private sweep(): void {
    const now = Date.now();
    for (const c of this.connections) c.checkTimeouts(now);
  }
}

const EXPECT_CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
// Past this many unread bytes while a request is being answered, the socket stops reading until it is done.
const MAX_BUFFERED = 1 << 20;

/** One client connection on the lane: requests are framed and answered in order, one at a time. */
class LaneConnection {
  private buf: Buffer | null = null;
  private pos = 0;
  private first = true;
  private busy = false;
  private ended = false;
  private closeAfter = false;
  private continued = false;
  private partialSince = 0;
  private idleSince = Date.now();
  private paused = false;
  // After an answer that ends the connection, nothing more is read from it.
  private finished = false;

  private readonly lane: AlertFastLane;
  private readonly socket: Socket;

  constructor(lane: AlertFastLane, socket: Socket) {
    this.lane = lane;
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  private readonly onData = (d: Buffer): void => {
    if (this.finished) return;
    if (this.buf === null || this.pos >= this.buf.length) {
      this.buf = d;
      this.pos = 0;
    } else {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), d]);
      this.pos = 0;
    }
    if (this.busy) {
      if (this.buf.length > MAX_BUFFERED + this.lane.opts.bodylimit && !this.paused) {
        this.paused = true;
        this.socket.pause();
      }
      return;
    }
    this.pump();
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    if (!this.busy) this.socket.end();
  };

  private readonly onError = (): void => { this.socket.destroy(); };

  private readonly onClose = (): void => { this.lane.forget(this); };

  closeWhenIdle(): void {
    this.closeAfter = true;
    if (!this.busy) this.socket.end();
  }

  destroy(): void { this.socket.destroy(); }

  checkTimeouts(now: number): void {
    if (this.busy) return;
    const o = this.lane.opts;
    if (this.partialSince > 0 && now - this.partialSince > o.requestTimeoutMs) {
      this.fail(408, `request not received within ${o.requestTimeoutMs} ms`);
    } else if (this.partialSince === 0 && now - this.idleSince > o.keepAliveTimeoutMs) {
      this.socket.destroy();
    }
  }

  /** Frames and serves the requests buffered so far, one at a time. */
  private pump(): void {
    const o = this.lane.opts;
    while (!this.busy && this.buf !== null && this.pos < this.buf.length && !this.socket.destroyed) {
      const buf = this.buf;
      const h = parseHead(buf, this.pos, o.maxHeadBytes);
      if (h.kind === 'partial') return this.waitMore();
      // A head the lane cannot read at the start is node:http's to refuse, in its own words.
      if (h.kind === 'error') return this.first ? this.handOff() : this.fail(h.status, h.error);
      const head = h.head;
      this.first = false;
      // Anything but POST / (the UI, /metrics, /k8s-audit, a stream, an upgrade) is node:http's: the connection
      // is handed over between requests, with the bytes read so far, and stays there.
      if (!isAlertPost(head)) return this.handOff();
      const framing = bodyFraming(head, o.bodylimit);
      if (framing.kind === 'error') {
        o.rejected();
        return this.fail(framing.status, framing.error);
      }
      let body: Buffer;
      let end: number;
      if (framing.kind === 'length') {
        end = head.bodyStart + framing.length;
        if (buf.length < end) return this.waitMore(head);
        body = buf.subarray(head.bodyStart, end);
      } else {
        const c = decodeChunked(buf, head.bodyStart, o.bodylimit);
        if (c.kind === 'partial') return this.waitMore(head);
        if (c.kind === 'error') {
          o.rejected();
          return this.fail(c.status, c.error);
        }
        body = c.body;
        end = c.end;
      }
      this.pos = end;
      this.partialSince = 0;
      this.continued = false;
      this.busy = true;
      void this.serve(head, body);
    }
    if (this.buf !== null && this.pos >= this.buf.length) this.buf = null;
  }

  /** Not all of the request is here yet: wait, saying 100 Continue to a client that waits for it. */
  private waitMore(head?: RequestHead): void {
    if (this.partialSince === 0) this.partialSince = Date.now();
    if (head && !this.continued && head.minor === 1 && head.headers.expect?.toLowerCase() === '100-continue') {
      this.continued = true;
      this.socket.write(EXPECT_CONTINUE);
    }
  }

  private handOff(): void {
    const s = this.socket;
    s.removeListener('data', this.onData);
    s.removeListener('end', this.onEnd);
    s.removeListener('error', this.onError);
    s.removeListener('close', this.onClose);
    const unread = this.buf === null ? null : this.buf.subarray(this.pos);
    this.buf = null;
    this.lane.handOff(this, s, unread);
  }

  private async serve(head: RequestHead, body: Buffer): Promise<void> {
    const keep = keepsAlive(head) && !this.lane.isClosing;
    try {
      const direct = this.alertBody(head, body);
      if (direct === undefined) {
        this.lane.counts.viaFastify++;
        await this.viaFastify(head, body, keep);
      } else {
        const o = this.lane.opts;
        this.lane.counts.direct++;
        const wait = o.admit?.();
        if (wait) await wait;
        const r = await o.accept(direct);
        const a = submitAnswer(r, o.retryAfterSeconds);
        this.answer(a.status, JSON.stringify(a.body), keep, a.retryAfter ? `retry-after: ${a.retryAfter}\r\n` : '');
      }
    } catch (err) {
      if (this.lane.isClosing) {
        // fastify refuses inject() once it is closing: the sender is told to come back, as for any input then.
        this.answer(503, '{"error":"shutting down; retry later"}', false, `retry-after: ${this.lane.opts.retryAfterSeconds}\r\n`);
      } else {
        this.lane.opts.log.error({ err: (err as Error).message, url: head.target }, 'request failed');
        this.answer(500, '{"error":"internal error"}', false);
      }
    }
    this.done(keep);
  }

  /** The decoded alert when the lane may take it itself; undefined when fastify must answer. */
  private alertBody(head: RequestHead, body: Buffer): unknown {
    const o = this.lane.opts;
    if (body.length === 0 || head.headers['content-encoding'] !== undefined) return undefined;
    if (o.authtoken && !bearerMatches(head.headers.authorization, o.authtoken)) return undefined;
    if (o.paused()) return undefined;
    let decoded: unknown;
    try {
      decoded = parseJson(body.toString('utf8'));
    } catch {
      return undefined;
    }
    return validateFalcoAlert(decoded) ? decoded : undefined;
  }

  private async viaFastify(head: RequestHead, body: Buffer, keep: boolean): Promise<void> {
    const res = await this.lane.opts.inject({
      method: head.method, url: head.target, headers: head.headers, body, remoteAddress: this.socket.remoteAddress,
    });
    let extra = '';
    for (const [k, v] of Object.entries(res.headers)) {
      if (v === undefined || SKIPPED_HEADERS.has(k)) continue;
      for (const one of Array.isArray(v) ? v : [v]) extra += `${k}: ${one}\r\n`;
    }
    this.writeResponse(res.status, extra, res.body, keep);
  }

  private answer(status: number, json: string, keep: boolean, extra = ''): void {
    this.writeResponse(status, `content-type: application/json; charset=utf-8\r\n${extra}`, json, keep);
  }

  private writeResponse(status: number, headers: string, body: string | Buffer, keep: boolean): void {
    if (this.socket.destroyed) return;
    const o = this.lane.opts;
    const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    const conn = keep && !this.closeAfter ? `connection: keep-alive\r\nkeep-alive: timeout=${Math.floor(o.keepAliveTimeoutMs / 1000)}\r\n` : 'connection: close\r\n';
    const text = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${headers}content-length: ${length}\r\ndate: ${this.lane.date()}\r\n${conn}\r\n`;
    if (typeof body === 'string') this.socket.write(text + body);
    else {
      this.socket.cork();
      this.socket.write(text, 'latin1');
      if (body.length > 0) this.socket.write(body);
      this.socket.uncork();
    }
  }

  private done(keep: boolean): void {
    this.busy = false;
    this.idleSince = Date.now();
    if (!keep || this.closeAfter) {
      this.socket.end();
      return;
    }
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    this.pump();
    // A client that sent its last requests and half-closed still gets every answer before the end.
    if (this.ended && !this.busy) this.socket.end();
  }

  /** Answers an error the request's framing makes unrecoverable, and closes the connection. */
  private fail(status: number, error: string): void {
    this.answer(status, JSON.stringify({ error }), false);
    this.finished = true;
    this.buf = null;
    this.socket.end();
  }
}

// Set by the lane itself for the connection it keeps or closes.
const SKIPPED_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date']);

function isAlertPost(head: RequestHead): boolean {
  return head.method === 'POST' && (head.target === '/' || head.target.startsWith('/?'));
}
