import type { IncomingMessage, ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { Logger } from '../../log.ts';
import { alertJson, csvHeader, csvRow } from '../api/csv.ts';
import { liveMatch } from '../api/live-filter.ts';
import { bucketFor, ParamError, parseDimension, parseQuery } from '../api/params.ts';
import { authMode, bearerOk, cookie, isLoopback, sameOrigin, sameSecret, SESSION_COOKIE, type AuthMode } from '../auth/guard.ts';
import { verifyPassword } from '../auth/password.ts';
import { LoginThrottle, Sessions } from '../auth/sessions.ts';
import type { UiConfig } from '../config.ts';
import type { AsyncAlertStore, StoredAlert } from '../store/contract.ts';
import { exceptionSnippet } from '../tuning/exception.ts';
import { StaticAssets } from './static.ts';
import { stringifyJson } from '../../alert/json.ts';

export interface UiHttpOptions {
  store: AsyncAlertStore;
  ui: UiConfig;
  /** The router's bearer token (config `authtoken`); "" when unset. */
  authtoken: string;
  /** Served over TLS: the session cookie gets `Secure`. */
  tls: boolean;
  log: Logger;
  assets?: StaticAssets;
}

export interface UiHttp {
  /** True for the paths this handler serves (/ui, /ui/…, /api/v1/…). */
  owns(path: string): boolean;
  /** `body`: the request body when the server already read it (fastify), else it is read from `req`. */
  handle(req: IncomingMessage, res: ServerResponse, body?: Buffer): Promise<void>;
  /** Ends live streams (they would hold the server's shutdown). */
  close(): void;
  readonly mode: AuthMode;
}

type Reply = { status: number; body: unknown; headers?: Record<string, string> };

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  // uPlot sizes its elements with style attributes, hence 'unsafe-inline' for styles only.
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
};

/**
 * The web UI and its API as a plain node:http handler, so it mounts on whatever serves the router's
 * port. Every /api/v1 answer is JSON (or CSV/NDJSON/SSE for export and stream).
 */
export function createUiHttp(o: UiHttpOptions): UiHttp {
  const { store, ui, log } = o;
  const mode = authMode(ui, o.authtoken);
  const sessions = new Sessions(ui.sessionhours * 3_600_000);
  const throttle = new LoginThrottle();
  const assets = o.assets ?? new StaticAssets();
  const streams = new Set<ServerResponse>();
  if (mode === 'none') {
    log.warn('ui: no login (ui.user + ui.passwordhash) and no authtoken configured: /ui/ and /api/v1 answer only on loopback (127.0.0.1, ::1)');
  } else {
    log.info({ auth: mode }, `ui: /ui/ and /api/v1 need ${mode === 'login' ? 'a login or the bearer token' : 'the bearer token'}`);
  }
  if (!assets.built) log.warn('ui: the front end is not built (ui/dist); run `npm install` or `node scripts/build-ui.ts`');

  function identity(req: IncomingMessage): string | undefined {
    if (o.authtoken && bearerOk(req, o.authtoken)) return 'token';
    return sessions.user(cookie(req, SESSION_COOKIE));
  }

  function sessionInfo(req: IncomingMessage): Reply {
    const user = mode === 'none' ? undefined : identity(req);
    return { status: 200, body: { mode, authenticated: mode === 'none' || user !== undefined, user: user ?? null, loopbackOnly: mode === 'none' } };
  }

  async function login(req: IncomingMessage, raw: Buffer | undefined): Promise<Reply> {
    if (!sameOrigin(req)) return { status: 403, body: { error: 'login must come from this site as JSON' } };
    if (mode === 'none') return { status: 400, body: { error: 'no login is configured (set ui.user and ui.passwordhash, or authtoken)' } };
    const addr = req.socket.remoteAddress ?? '';
    if (throttle.blocked(addr)) return { status: 429, body: { error: 'too many failed logins; wait a minute' }, headers: { 'retry-after': '60' } };
    let body: { user?: unknown; password?: unknown; token?: unknown };
    try {
      body = JSON.parse((raw ?? await readSmallBody(req, 4096)).toString('utf8')) as typeof body;
    } catch (err) {
      return { status: 400, body: { error: `login body: ${(err as Error).message}` } };
    }
    let user: string | undefined;
    if (typeof body.token === 'string' && o.authtoken && sameSecret(body.token, o.authtoken)) user = 'token';
    else if (mode === 'login' && typeof body.user === 'string' && typeof body.password === 'string'
      && sameSecret(body.user, ui.user) && verifyPassword(body.password, ui.passwordhash)) user = ui.user;
    if (!user) {
      throttle.fail(addr);
      log.warn({ remote: addr }, 'ui: failed login');
      return { status: 401, body: { error: 'wrong user, password or token' } };
    }
    throttle.succeed(addr);
    const token = sessions.create(user);
    const attrs = `Path=/; HttpOnly; SameSite=Strict; Max-Age=${sessions.ttlSeconds}${o.tls ? '; Secure' : ''}`;
    return { status: 200, body: { user }, headers: { 'set-cookie': `${SESSION_COOKIE}=${token}; ${attrs}` } };
  }

  function logout(req: IncomingMessage): Reply {
    if (!sameOrigin(req)) return { status: 403, body: { error: 'logout must come from this site as JSON' } };
    sessions.end(cookie(req, SESSION_COOKIE));
    return { status: 200, body: {}, headers: { 'set-cookie': `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0` } };
  }

  async function api(path: string, params: URLSearchParams): Promise<Reply | 'export' | 'stream'> {
    if (path === '/api/v1/alerts') {
      const page = await store.list(parseQuery(params));
      return { status: 200, body: { alerts: page.alerts.map(alertJson), next: page.next ?? null } };
    }
    const one = /^\/api\/v1\/alerts\/(\d+)(\/exception)?$/.exec(path);
    if (one) {
      const a = await store.get(Number(one[1]));
      if (!a) return { status: 404, body: { error: `no alert ${one[1]}` } };
      if (one[2]) return { status: 200, body: exceptionSnippet(a), headers: { 'content-type': 'text/yaml; charset=utf-8' } };
      return { status: 200, body: alertJson(a) };
    }
    if (path === '/api/v1/counts') {
      const q = parseQuery(params);
      const by = parseDimension(params.get('by'));
      const limit = Math.min(1000, Math.max(1, Number(params.get('limit') ?? 100) || 100));
      const [counts, total] = await Promise.all([store.counts(q, by, limit), store.total(q)]);
      return { status: 200, body: { by, counts, total } };
    }
    if (path === '/api/v1/histogram') {
      const q = parseQuery(params);
      const bucketMs = bucketFor(params, q.from, q.to, Date.now());
      return { status: 200, body: { bucketMs, buckets: await store.histogram(q, bucketMs) } };
    }
    if (path === '/api/v1/export') return 'export';
    if (path === '/api/v1/stream') return 'stream';
    return { status: 404, body: { error: `no API route ${path}` } };
  }

  async function exportRows(req: IncomingMessage, res: ServerResponse, params: URLSearchParams): Promise<void> {
    const format = params.get('format') ?? 'csv';
    if (format !== 'csv' && format !== 'ndjson') throw new ParamError(`format: "${format}" is not csv or ndjson`);
    const { cursor: _c, limit: _l, ...q } = parseQuery(params);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
      'content-disposition': `attachment; filename="peregrine-alerts-${stamp}.${format}"`,
      'cache-control': 'no-store',
    });
    if (format === 'csv') res.write(csvHeader());
    // Page by page with the list's cursor: exactly the rows the same filters list, newest first.
    let cursor: string | undefined;
    do {
      const page = await store.list({ ...q, cursor, limit: 1000 });
      if (req.destroyed) return;
      const text = page.alerts.map((a) => (format === 'csv' ? csvRow(a) : `${stringifyJson(alertJson(a))}\n`)).join('');
      if (!res.write(text)) await once(res, 'drain');
      cursor = page.next;
    } while (cursor);
    res.end();
  }

  function stream(req: IncomingMessage, res: ServerResponse, params: URLSearchParams): void {
    const q = parseQuery(params);
    const match = liveMatch(q);
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.write(': connected\n\n');
    streams.add(res);
    const send = (alerts: readonly StoredAlert[]) => {
      let text = '';
      for (const a of alerts) if (match(a)) text += `id: ${a.id}\nevent: alert\ndata: ${stringifyJson(alertJson(a))}\n\n`;
      if (text === '') return;
      // A client that does not read is cut off rather than buffered without bound.
      if (res.writableLength > 4 * 1024 * 1024) return stop();
      res.write(text);
    };
    const off = store.onInsert(send);
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    ping.unref();
    const stop = () => {
      off();
      clearInterval(ping);
      streams.delete(res);
      if (!res.writableEnded) res.end();
    };
    req.on('close', stop);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, body?: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (mode === 'none' && !isLoopback(req.socket.remoteAddress)) {
      return send(res, { status: 403, body: { error: 'the UI and API answer only on loopback: configure ui.user + ui.passwordhash or authtoken to open them to the network' } });
    }
    if (path === '/ui') return send(res, { status: 301, body: '', headers: { location: '/ui/' } });
    if (path.startsWith('/ui/')) {
      if (method !== 'GET' && method !== 'HEAD') return send(res, { status: 405, body: { error: `method ${method} not allowed on ${path}` }, headers: { allow: 'GET' } });
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
      return assets.serve(path.slice('/ui/'.length) || 'index.html', res);
    }
    if (path === '/api/v1/session' && method === 'GET') return send(res, sessionInfo(req));
    if (path === '/api/v1/login') return method === 'POST' ? send(res, await login(req, body)) : send(res, notAllowed(method, path, 'POST'));
    if (path === '/api/v1/logout') return method === 'POST' ? send(res, logout(req)) : send(res, notAllowed(method, path, 'POST'));
    if (mode !== 'none' && identity(req) === undefined) {
      return send(res, { status: 401, body: { error: 'log in at /ui/ or send "Authorization: Bearer <authtoken>"' }, headers: { 'www-authenticate': 'Bearer' } });
    }
    if (method !== 'GET' && method !== 'HEAD') return send(res, notAllowed(method, path, 'GET'));
    try {
      const r = await api(path, url.searchParams);
      if (r === 'export') return await exportRows(req, res, url.searchParams);
      if (r === 'stream') return stream(req, res, url.searchParams);
      return send(res, r);
    } catch (err) {
      if (err instanceof ParamError) return send(res, { status: 400, body: { error: `query parameter ${err.message}` } });
      if ((err as { code?: string }).code === 'PRG_UI_CURSOR') return send(res, { status: 400, body: { error: (err as Error).message } });
      throw err;
    }
  }

  return {
    mode,
    owns: (path) => path === '/ui' || path.startsWith('/ui/') || path.startsWith('/api/v1/'),
    handle,
    close() {
      for (const res of streams) res.end();
      streams.clear();
    },
  };
}

function notAllowed(method: string, path: string, allow: string): Reply {
  return { status: 405, body: { error: `method ${method} not allowed on ${path}` }, headers: { allow } };
}

function send(res: ServerResponse, r: Reply): void {
  const text = typeof r.body === 'string';
  const body = text ? (r.body as string) : stringifyJson(r.body);
  res.writeHead(r.status, {
    ...SECURITY_HEADERS,
    'content-type': text ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...r.headers,
  });
  res.end(body);
}

async function readSmallBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new Error(`larger than ${limit} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
