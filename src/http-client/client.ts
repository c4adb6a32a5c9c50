import type { Socket } from 'node:net';
import { rootCertificates } from 'node:tls';
import { Connection, NoResponseError, type Exchange, type Origin, type TlsOptions } from './connection.ts';
import { basicAuth, proxyFromEnv } from './proxy.ts';
import { connectTunnel } from './tunnel.ts';

/**
 * The outputs' HTTP/1.1 client: keep-alive connections per origin, one request at a time on each, as many
 * connections as requests in flight (the delivery layer bounds those).
 *
 * Why not undici: an output sends one small request per alert, and undici's general machinery (request and
 * handler objects, its wasm parser, timers per request) cost ~50-100 µs of CPU per request here against
 * ~20 µs for this (bench/README.md). What it leaves out on purpose: pipelining, HTTP/2, redirects, request
 * streaming; none is used by an output. Forward proxies come from the environment (proxy.ts).
 */
export interface HttpClientOptions {
  /** Verify the server's certificate (Falcosidekick's checkcert). */
  checkcert: boolean;
  /** PEM of extra CAs to trust, besides the system ones. */
  caPem?: string;
  /** A certificate and key (PEM) to present when the server asks for one (mutual TLS). */
  clientCert?: { cert: Buffer | string; key: Buffer | string };
  /** Close a connection idle this long (servers commonly close at 5 s; closing first avoids racing them). */
  idleMs?: number;
  /** Where HTTP_PROXY, HTTPS_PROXY and NO_PROXY are read (process.env). */
  env?: NodeJS.ProcessEnv;
}

export class HttpClient {
  private readonly tls: TlsOptions;
  private readonly idleMs: number;
  private readonly idle = new Map<string, Connection[]>();
  private readonly open = new Set<Connection>();
  private closing = false;
  /** @internal */
  readonly env: NodeJS.ProcessEnv;

  constructor(opts: HttpClientOptions) {
    this.tls = { rejectUnauthorized: opts.checkcert, ...(opts.caPem ? { ca: [...rootCertificates, opts.caPem] } : {}), ...(opts.clientCert ? { clientCert: opts.clientCert } : {}) };
    this.idleMs = opts.idleMs ?? 4000;
    this.env = opts.env ?? process.env;
  }

  /** Requests to `url` with this method and these headers; each send() gives a body. Throws on a bad URL or header. */
  target(url: string, method: string, headers: Record<string, string>): RequestTarget {
    return new RequestTarget(this, url, method, headers);
  }

  /** @internal A connection to `origin` for one request: the most recently used idle one, else a new one. */
  take(key: string): Connection | undefined {
    const list = this.idle.get(key);
    while (list && list.length > 0) {
      const c = list.pop()!;
      if (c.idle) return c;
    }
    return undefined;
  }

  /** @internal */
  connect(key: string, origin: Origin, tunnel?: Socket): Connection {
    if (this.closing) {
      tunnel?.destroy();
      throw new Error('the HTTP client is closed');
    }
    const c = new Connection(origin, this.tls, this.idleMs, (gone) => {
      this.open.delete(gone);
      const list = this.idle.get(key);
      const i = list?.indexOf(gone) ?? -1;
      if (i >= 0) list!.splice(i, 1);
    }, tunnel);
    this.open.add(c);
    return c;
  }

  /** @internal */
  release(key: string, c: Connection): void {
    if (!c.idle) return;
    if (this.closing) return c.destroy();
    let list = this.idle.get(key);
    if (!list) this.idle.set(key, (list = []));
    list.push(c);
  }

  /** Closes every connection; requests in flight fail. */
  async close(): Promise<void> {
    this.closing = true;
    const closed = [...this.open].map((c) => new Promise<void>((r) => (c.closed ? r() : c.socket.once('close', () => r()))));
    for (const c of this.open) c.destroy();
    this.idle.clear();
    await Promise.all(closed);
  }
}

// RFC 9110 token characters, for header names.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Framing is ours: these from a caller would contradict it.
const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding']);

export class RequestTarget {
  /** Where connections go: the origin, or the proxy for plain HTTP through one. */
  readonly origin: Origin;
  private readonly key: string;
  /** Everything before the content-length value, built once. */
  private readonly head: string;
  private readonly client: HttpClient;
  /** https through a proxy: CONNECT to this authority first. */
  private readonly tunnel: { proxy: URL; authority: string } | undefined;
  readonly method: string;

  constructor(client: HttpClient, url: string, method: string, headers: Record<string, string>) {
    this.client = client;
    this.method = method;
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`"${url}" is not an http(s) URL`);
    if (!TOKEN.test(method)) throw new Error(`"${method}" is not an HTTP method`);
    const port = Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
    const target: Origin = { protocol: u.protocol, host: u.hostname.replace(/^\[|\]$/g, ''), port };
    const proxy = proxyFromEnv(u, client.env);
    // Names are case-insensitive: a later one replaces an earlier one whatever its case.
    const merged = new Map<string, [string, string]>([['host', ['host', u.host]]]);
    // Credentials in the URL go as Basic auth unless a header says otherwise (Go's client, Falcosidekick's, does so).
    const auth = basicAuth(u);
    if (auth) merged.set('authorization', ['authorization', auth]);
    let requestTarget = `${u.pathname}${u.search}`;
    if (proxy && u.protocol === 'http:') {
      // Plain HTTP through a proxy: the request goes to it, naming the whole URL.
      this.origin = { protocol: 'http:', host: proxy.hostname.replace(/^\[|\]$/g, ''), port: Number(proxy.port) || 80 };
      requestTarget = `http://${u.host}${requestTarget}`;
      const proxyAuth = basicAuth(proxy);
      if (proxyAuth) merged.set('proxy-authorization', ['proxy-authorization', proxyAuth]);
    } else {
      this.origin = target;
    }
    this.tunnel = proxy && u.protocol === 'https:' ? { proxy, authority: `${u.hostname}:${port}` } : undefined;
    this.key = `${proxy ? `${proxy.host} ` : ''}${u.protocol}//${u.host}`;
    for (const [name, value] of Object.entries(headers)) {
      if (!TOKEN.test(name)) throw new Error(`header name "${name}" is not a valid HTTP token`);
      if (/[\r\n\0]/.test(value)) throw new Error(`header "${name}" has a line break or NUL in its value`);
      if (!FRAMING_HEADERS.has(name.toLowerCase())) merged.set(name.toLowerCase(), [name, value]);
    }
    const lines = [...merged.values()].map(([n, v]) => `${n}: ${v}\r\n`).join('');
    this.head = `${method} ${requestTarget} HTTP/1.1\r\n${lines}content-length: `;
  }

  /**
   * Sends `body` and resolves with the response (status, headers, the body's first `keepBodyBytes` bytes).
   * A request that failed on a reused connection before any byte of an answer (the server closed it while
   * idle) is sent once more on a new connection.
   */
  async send(body: string, signal: AbortSignal, keepBodyBytes = 200): Promise<Exchange> {
    if (signal.aborted) throw abortError(signal);
    const request = `${this.head}${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const reused = this.client.take(this.key);
    try {
      return await this.exchange(reused ?? await this.connect(signal), request, keepBodyBytes, signal);
    } catch (err) {
      if (signal.aborted) throw abortError(signal);
      if (!reused || !(err instanceof NoResponseError)) throw err;
      return await this.exchange(await this.connect(signal), request, keepBodyBytes, signal);
    }
  }

  private async connect(signal: AbortSignal): Promise<Connection> {
    if (!this.tunnel) return this.client.connect(this.key, this.origin);
    const socket = await connectTunnel(this.tunnel.proxy, this.tunnel.authority, signal);
    return this.client.connect(this.key, this.origin, socket);
  }

  private async exchange(c: Connection, request: string, keepBodyBytes: number, signal: AbortSignal): Promise<Exchange> {
    const res = await c.exchange(this.method, request, keepBodyBytes, signal);
    this.client.release(this.key, c);
    return res;
  }
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason ?? 'aborted'));
}
