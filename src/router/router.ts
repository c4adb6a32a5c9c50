import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FalcoAlert } from '../alert/alert.ts';
import { priorityTitle } from '../alert/priority.ts';
import type { PeregrineConfig } from '../config/schema.ts';
import { PeregrineError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { outputRegistry } from '../../outputs/registry.ts';
import { createEnricher } from './enrich.ts';
import { matchesFilter } from './filter.ts';
import { parseAlert } from './input.ts';
import { createInstances, type OutputInstance } from './instances.ts';
import { RouterMetrics } from './metrics.ts';
import type { OutputDefinition } from './output.ts';

export type RouteHandler = (req: IncomingMessage, body: Buffer) => Promise<{ status: number; body?: unknown }>;
export type SubmitResult = { ok: true; alert: FalcoAlert } | { ok: false; error: string };

export interface Router {
  /** Starts the HTTP input; port 0 in the config picks a free port (tests). */
  listen(): Promise<{ port: number; address: string }>;
  /** In-process input (the detection core): same validation, enrichment and fan-out as POST /. */
  submit(alert: unknown): SubmitResult;
  /** Adds an HTTP route served beside the router's own (e.g. POST /k8s-audit). */
  addRoute(method: string, path: string, handler: RouteHandler): void;
  metricsText(): Promise<string>;
  readonly metrics: RouterMetrics;
  readonly outputs: readonly OutputInstance[];
  /** Outputs that were configured but could not start, with the reason. */
  readonly failedOutputs: readonly { name: string; error: string }[];
  /** Stops the input, delivers what is queued until drainMs, closes outputs. */
  close(opts?: { drainMs?: number }): Promise<void>;
}

const TEST_ALERT = {
  output: 'This is a test from Peregrine', priority: 'Debug', rule: 'Test rule', source: 'debug',
  hostname: 'peregrine', tags: ['test', 'example'], output_fields: { 'proc.name': 'falcosidekick', 'user.name': 'falcosidekick' },
};

export async function createRouter(config: PeregrineConfig,
  opts: { log?: Logger; registry?: readonly OutputDefinition[] } = {}): Promise<Router> {
  const log = opts.log ?? silentLogger;
  const metrics = new RouterMetrics();
  const enrich = createEnricher(config);
  const { instances, failed } = await createInstances(config, opts.registry ?? outputRegistry, metrics, log);
  if (instances.length === 0) log.warn('no output is enabled: alerts are validated and counted only');
  const extraRoutes = new Map<string, RouteHandler>();
  let server: Server | undefined;

  function accept(body: unknown, input: string): SubmitResult {
    const parsed = parseAlert(body);
    if (!parsed.ok) {
      metrics.inputs.inc({ source: input, status: 'rejected' });
      return parsed;
    }
    metrics.inputs.inc({ source: input, status: 'accepted' });
    const alert = enrich(parsed.alert);
    metrics.falcoEvents.inc({ rule: alert.rule, priority_raw: alert.priority, source: alert.source, hostname: alert.hostname || 'unknown' });
    const acceptedAt = performance.now();
    for (const inst of instances) if (matchesFilter(alert, inst.filter)) inst.queue.push(alert, acceptedAt);
    if (config.debug) log.info({ alert: { ...alert, priority: priorityTitle(alert.priority) } }, 'alert accepted');
    return { ok: true, alert };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    const extra = extraRoutes.get(`${method} ${path}`);
    const known = ['/', '/test', '/healthz', '/ping', '/metrics', ...[...extraRoutes.keys()].map((k) => k.split(' ')[1])];
    if (!extra && !known.includes(path)) return reply(res, 404, { error: `no route ${path}` });
    if (extra || method === 'POST') {
      if (extra || path === '/' || path === '/test') {
        if (config.authtoken && !authorised(req, config.authtoken)) return reply(res, 401, { error: 'missing or wrong bearer token' });
        const body = await readBody(req, config.bodylimit);
        if (body === 'too-large') {
          metrics.inputs.inc({ source: 'requests', status: 'rejected' });
          return reply(res, 413, { error: `request body is larger than bodylimit (${config.bodylimit} bytes)` });
        }
        if (extra) {
          const out = await extra(req, body);
          return reply(res, out.status, out.body);
        }
        let json: unknown;
        if (path === '/test') json = { ...TEST_ALERT, time: new Date().toISOString() };
        else {
          try {
            json = JSON.parse(body.toString('utf8'));
          } catch (err) {
            metrics.inputs.inc({ source: 'requests', status: 'rejected' });
            return reply(res, 400, { error: `body is not valid JSON: ${(err as Error).message}` });
          }
        }
        const r = accept(json, 'requests');
        return r.ok ? reply(res, 200, { uuid: r.alert.uuid }) : reply(res, 400, { error: r.error });
      }
    }
    if (method === 'GET' || method === 'HEAD') {
      if (path === '/healthz') return reply(res, 200, { status: 'ok' });
      if (path === '/ping') return reply(res, 200, 'pong\n');
      if (path === '/metrics') {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(await metrics.registry.metrics());
        return;
      }
    }
    res.setHeader('allow', path === '/' || path === '/test' ? 'POST' : 'GET');
    return reply(res, 405, { error: `method ${method} not allowed on ${path}` });
  }

  return {
    metrics,
    outputs: instances,
    failedOutputs: failed,
    submit: (alert) => accept(alert, 'internal'),
    addRoute(method, path, handler) {
      extraRoutes.set(`${method.toUpperCase()} ${path}`, handler);
    },
    metricsText: () => metrics.registry.metrics(),
    async listen() {
      const handler = (req: IncomingMessage, res: ServerResponse) => {
        handle(req, res).catch((err: unknown) => {
          log.error({ err: (err as Error).message, url: req.url }, 'request failed');
          if (!res.headersSent) reply(res, 500, { error: 'internal error' });
          else res.destroy();
        });
      };
      server = config.tlsserver.deploy
        ? createHttpsServer({ cert: readFileSync(config.tlsserver.certfile), key: readFileSync(config.tlsserver.keyfile) }, handler)
        : createHttpServer(handler);
      const srv = server;
      await new Promise<void>((resolve, reject) => {
        srv.once('error', (err) => reject(new PeregrineError('PRG_LISTEN', `cannot listen on ${config.listenaddress || '*'}:${config.listenport}: ${err.message}`)));
        srv.listen(config.listenport, config.listenaddress || undefined, resolve);
      });
      const a = srv.address() as AddressInfo;
      log.info({ address: a.address, port: a.port, tls: config.tlsserver.deploy }, 'router listening');
      return { port: a.port, address: a.address };
    },
    async close({ drainMs = config.drainms } = {}) {
      if (server) {
        const srv = server;
        await new Promise<void>((resolve) => { srv.close(() => resolve()); srv.closeIdleConnections(); });
      }
      await Promise.all(instances.map((i) => i.queue.close(drainMs)));
    },
  };
}

function authorised(req: IncomingMessage, token: string): boolean {
  return req.headers.authorization === `Bearer ${token}`;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    return 'too-large';
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      return 'too-large';
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (typeof body === 'string') {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(body);
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body === undefined ? '' : JSON.stringify(body));
}
