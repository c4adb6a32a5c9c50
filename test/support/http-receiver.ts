import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

/** How the receiver answers the next request: a status (+headers), or never (a hung server). */
export type Behaviour = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

/**
 * A real HTTP server on loopback that records every request. Tests script its answers, e.g. two 500s
 * then 200s, a 429 with Retry-After, or hanging forever like a dead endpoint.
 */
export class HttpReceiver {
  readonly requests: Received[] = [];
  private script: Behaviour[] = [];
  private fallback: Behaviour = { status: 200, body: 'ok' };
  private rule: ((body: string) => Behaviour | undefined) | undefined;
  private port = 0;
  private readonly server: Server;
  private readonly waiters: { count: number; resolve: () => void }[] = [];
  private readonly hung = new Set<IncomingMessage>();
  url = '';

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const behaviour = this.rule?.(text) ?? this.script.shift() ?? this.fallback;
        if (behaviour === 'hang') {
          this.hung.add(req);
          return;
        }
        this.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: text, at: Date.now() });
        res.writeHead(behaviour.status, behaviour.headers ?? {});
        res.end(behaviour.body ?? '');
        for (const w of this.waiters.filter((x) => this.requests.length >= x.count)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve();
        }
      });
    });
  }

  static async start(): Promise<HttpReceiver> {
    const r = new HttpReceiver();
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    r.port = (r.server.address() as AddressInfo).port;
    r.url = `http://127.0.0.1:${r.port}`;
    return r;
  }

  /** Answers requests whose body `fn` recognises its own way (e.g. always 500 for one alert); others as usual. */
  when(fn: (body: string) => Behaviour | undefined): this {
    this.rule = fn;
    return this;
  }

  /** Goes down like a crashed receiver (connections refused) until up(); keeps its port and what it recorded. */
  async down(): Promise<void> {
    for (const req of this.hung) req.socket.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async up(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** The next answers, in order; afterwards `always` (default 200). */
  respond(...behaviours: Behaviour[]): this {
    this.script.push(...behaviours);
    return this;
  }

  always(b: Behaviour): this {
    this.fallback = b;
    return this;
  }

  /** JSON bodies of the successful requests recorded so far. */
  json<T = Record<string, unknown>>(): T[] {
    return this.requests.map((r) => JSON.parse(r.body) as T);
  }

  /** Resolves once `count` requests were answered; rejects after timeoutMs naming what arrived. */
  waitFor(count: number, timeoutMs = 10000): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`expected ${count} requests at ${this.url}, got ${this.requests.length}`)), timeoutMs);
      this.waiters.push({ count, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    await this.down();
  }
}
