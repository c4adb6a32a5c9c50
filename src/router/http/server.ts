import { readFileSync } from 'node:fs';
import { maxHeaderSize } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { compileSchema } from '../../alert/schema.ts';
import { PeregrineError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { requestError } from './errors.ts';
import { AlertFastLane } from './fast-lane.ts';
import { ingestRoutes, type IngestOptions, type PressureCheck, type RouteHandler } from './ingest.ts';
import { opsRoutes, type OpsOptions } from './ops.ts';
import { plainSidePort } from './plain-side-port.ts';

export interface HttpConfig {
  listenaddress: string;
  listenport: number;
  bodylimit: number;
  authtoken: string;
  authmetrics: boolean;
  tlsserver: { deploy: boolean; certfile: string; keyfile: string; mutualtls: boolean; cacertfile: string; notlsport: number; notlspaths: string[] };
}

/** How long close() lets in-flight requests finish before their connections are cut. */
export const CLOSE_GRACE_MS = 2000;
// A request (headers and body) must arrive within this; a slow client cannot hold a connection longer.
const REQUEST_TIMEOUT_MS = 30_000;
const MAX_EVENT_LOOP_DELAY_MS = 1000;
/** Seconds a client is told to wait when input is refused (pressure, full spool). */
export const RETRY_AFTER_SECONDS = 5;

/** The router's HTTP surface on fastify. Routes and plugins are added before listen(). */
export interface HttpSurface {
  /** The fastify instance, for routes that need none of the input's rules (UI, API). */
  readonly app: FastifyInstance;
  /** Registers a plugin in the input context: behind the bearer token and pressure checks, JSON bodies. */
  registerIngest(plugin: FastifyPluginAsync): void;
  /** Adds a raw-body route in the input context (e.g. POST /k8s-audit). */
  addRoute(method: string, path: string, handler: RouteHandler): void;
  /** While a check returns a reason, input routes answer 503 with Retry-After. */
  addPressureCheck(check: PressureCheck): void;
  /** The alert fast lane (plain HTTP only): connections open on it and what it served. */
  readonly fastLane: { readonly size: number; readonly counts: { direct: number; viaFastify: number; handedOff: number } } | undefined;
  listen(): Promise<{ port: number; address: string }>;
  /** Stops accepting, lets requests finish for `graceMs` (CLOSE_GRACE_MS), then cuts the remaining connections. */
  close(graceMs?: number): Promise<void>;
}

type Handlers = Pick<IngestOptions, 'admit' | 'accept' | 'acceptTest' | 'rejected'> & OpsOptions;

export function createHttpSurface(config: HttpConfig, log: Logger, handlers: Handlers): HttpSurface {
  const app = Fastify({
    ...(config.tlsserver.deploy ? { https: tlsOptions(config.tlsserver) } : {}),
    bodyLimit: config.bodylimit,
    requestTimeout: REQUEST_TIMEOUT_MS,
    connectionTimeout: REQUEST_TIMEOUT_MS * 2,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    logger: false,
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(compileSchema);

  // Paths with a route, by method, so a known path with a wrong method is 405 and not 404.
  const methodsByPath = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const set = methodsByPath.get(route.url) ?? new Set<string>();
    for (const m of [route.method].flat()) set.add(m);
    methodsByPath.set(route.url, set);
  });
  app.setNotFoundHandler(async (req, reply) => {
    const path = req.url.split('?')[0]!;
    const allowed = methodsByPath.get(path);
    if (!allowed) return reply.code(404).send({ error: `no route ${path}` });
    return reply.code(405).header('allow', [...allowed].join(', ')).send({ error: `method ${req.method} not allowed on ${path}` });
  });
  app.setErrorHandler<FastifyError>(async (err, req, reply) => {
    const { status, error } = requestError(err, config.bodylimit, req.body, false);
    if (status >= 500) log.error({ err: err.message, url: req.url }, 'request failed');
    return reply.code(status).send({ error });
  });
  // Bodies sent to paths outside the input are read (up to the limit) and ignored.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, _body, done) => done(null, undefined));

  const pressureChecks: PressureCheck[] = [];
  const extraRoutes: { method: string; path: string; handler: RouteHandler }[] = [];
  const plugins: FastifyPluginAsync[] = [];
  let side: FastifyInstance | undefined;
  let underPressure = () => false;
  app.register(opsRoutes({ ...handlers, ...(config.authmetrics && config.authtoken ? { metricsToken: config.authtoken } : {}) }));
  app.register(ingestRoutes({
    ...handlers, authtoken: config.authtoken, bodylimit: config.bodylimit,
    maxEventLoopDelayMs: MAX_EVENT_LOOP_DELAY_MS, retryAfterSeconds: RETRY_AFTER_SECONDS,
    pressureChecks, extraRoutes, plugins,
    pressureProbe: (probe) => { underPressure = probe; },
  }));
  // Plain HTTP serves POST / on the fast lane (fast-lane.ts); through TLS the lane would see only ciphertext.
  const lane = config.tlsserver.deploy ? undefined : AlertFastLane.attach(app.server, {
    bodylimit: config.bodylimit, authtoken: config.authtoken, retryAfterSeconds: RETRY_AFTER_SECONDS,
    maxHeadBytes: maxHeaderSize, requestTimeoutMs: REQUEST_TIMEOUT_MS, keepAliveTimeoutMs: app.server.keepAliveTimeout, log,
    paused: () => underPressure() || pressureChecks.some((check) => check() !== undefined),
    ...(handlers.admit ? { admit: handlers.admit } : {}),
    accept: handlers.accept,
    rejected: handlers.rejected,
    async inject(r) {
      const res = await app.inject({
        method: r.method as 'POST', url: r.url, headers: r.headers, payload: r.body,
        ...(r.remoteAddress ? { remoteAddress: r.remoteAddress } : {}),
      });
      return { status: res.statusCode, headers: res.headers, body: res.rawPayload };
    },
  });

  return {
    app,
    fastLane: lane,
    registerIngest: (plugin) => { plugins.push(plugin); },
    addRoute: (method, path, handler) => { extraRoutes.push({ method: method.toUpperCase(), path, handler }); },
    addPressureCheck: (check) => { pressureChecks.push(check); },
    async listen() {
      const host = config.listenaddress || anyAddress();
      try {
        await app.listen({ port: config.listenport, host });
      } catch (err) {
        throw new PeregrineError('PRG_LISTEN', `cannot listen on ${config.listenaddress || '*'}:${config.listenport}: ${(err as Error).message}`);
      }
      const a = app.server.address() as AddressInfo;
      const tls = config.tlsserver;
      if (tls.deploy && tls.notlspaths.length > 0) {
        side = plainSidePort(app, tls.notlspaths, config.bodylimit);
        try {
          await side.listen({ port: tls.notlsport, host });
        } catch (err) {
          throw new PeregrineError('PRG_LISTEN', `tlsserver.notlsport: cannot listen on ${config.listenaddress || '*'}:${tls.notlsport}: ${(err as Error).message}`);
        }
        log.info({ port: tls.notlsport, paths: tls.notlspaths }, 'plain HTTP side port listening (tlsserver.notlspaths)');
      }
      log.info({ address: a.address, port: a.port, tls: tls.deploy, mutualtls: tls.deploy && tls.mutualtls }, 'router listening');
      return { port: a.port, address: a.address };
    },
    async close(graceMs = CLOSE_GRACE_MS) {
      const cut = setTimeout(() => { app.server.closeAllConnections(); lane?.destroyAll(); }, graceMs);
      try {
        await Promise.all([app.close(), side?.close(), lane?.close()]);
      } finally {
        clearTimeout(cut);
      }
    },
  };
}

/** Server certificate, and with mutualtls the CA client certificates must be signed by (others are refused in the handshake). */
function tlsOptions(tls: HttpConfig['tlsserver']): { cert: Buffer; key: Buffer; ca?: Buffer; requestCert?: boolean; rejectUnauthorized?: boolean } {
  const own = { cert: readKeyFile(tls.certfile, 'tlsserver.certfile'), key: readKeyFile(tls.keyfile, 'tlsserver.keyfile') };
  if (!tls.mutualtls) return own;
  return { ...own, ca: readKeyFile(tls.cacertfile, 'tlsserver.cacertfile'), requestCert: true, rejectUnauthorized: true };
}

function readKeyFile(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new PeregrineError('PRG_CONFIG', `${key}: cannot read ${path}: ${why}`);
  }
}

/** "" means every address, as node's listen() without a host: IPv6 and IPv4 when the host has IPv6. */
function anyAddress(): string {
  const v6 = Object.values(networkInterfaces()).some((list) => list?.some((i) => i.family === 'IPv6'));
  return v6 ? '::' : '0.0.0.0';
}
