import { redactText } from '../../redact.ts';
import type { IncomingMessage } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import underPressure from '@fastify/under-pressure';
import { falcoAlertSchema } from '../../alert/schema.ts';
import type { FalcoAlert } from '../../alert/alert.ts';
import { bearerMatches } from './auth.ts';
import { requestError } from './errors.ts';
import { acceptJsonBodies, acceptRawBodies } from './json-body.ts';

/** `busy`: the alert was valid but could not be spooled (full, shutting down): 503, the sender retries. */
export type SubmitResult = { ok: true; alert: FalcoAlert } | { ok: false; error: string; busy?: true };
/** A route served beside the router's own (e.g. POST /k8s-audit): the raw body, and what to answer. */
export type RouteHandler = (req: IncomingMessage, body: Buffer) => Promise<{ status: number; body?: unknown; headers?: Record<string, string> }>;
/** Says why new input should wait (e.g. the spool is nearly full), or undefined when it may come. */
export type PressureCheck = () => string | undefined;

export interface IngestOptions {
  authtoken: string;
  bodylimit: number;
  /** Mean event-loop delay (ms) above which input is refused with 503 until it recovers. */
  maxEventLoopDelayMs: number;
  retryAfterSeconds: number;
  /** Before accept: undefined to go on now, or a promise to wait for (the input's share of the event loop). */
  admit?(): Promise<void> | undefined;
  /** Accepts a body that passed the alert schema; resolves once the alert is spooled. */
  accept(body: unknown): Promise<SubmitResult>;
  acceptTest(): Promise<SubmitResult>;
  /** Counts a request refused before it reached accept (bad JSON, too large, schema). */
  rejected(): void;
  pressureChecks: readonly PressureCheck[];
  extraRoutes: readonly { method: string; path: string; handler: RouteHandler }[];
  plugins: readonly FastifyPluginAsync[];
  /** Receives a probe that says whether under-pressure refuses input now (for the fast lane). */
  pressureProbe?(underPressure: () => boolean): void;
}

/** The answer to a submitted alert: 200 with its uuid, 503 + Retry-After when it could not be spooled, else 400. */
export function submitAnswer(r: SubmitResult, retryAfterSeconds: number): { status: number; body: object; retryAfter?: string } {
  if (r.ok) return { status: 200, body: { uuid: r.alert.uuid } };
  if (r.busy) return { status: 503, body: { error: redactText(r.error) }, retryAfter: String(retryAfterSeconds) };
  return { status: 400, body: { error: redactText(r.error) } };
}

/**
 * Everything that takes input: POST /, POST /test and the routes other parts add. They share the bearer
 * token, the pressure checks (503 + Retry-After) and the body limit; health and metrics stay outside so
 * they answer even when input is refused.
 */
export function ingestRoutes(opts: IngestOptions): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    acceptJsonBodies(app);
    if (opts.authtoken) {
      app.addHook('onRequest', async (req, reply) => {
        if (!bearerMatches(req.headers.authorization, opts.authtoken)) {
          await reply.code(401).send({ error: 'missing or wrong bearer token' });
        }
      });
    }
    const paused = (reply: FastifyReply, why: string) => {
      reply.code(503).header('retry-after', String(opts.retryAfterSeconds));
      return { error: `input paused: ${why}; retry later` };
    };
    await app.register(underPressure, {
      maxEventLoopDelay: opts.maxEventLoopDelayMs,
      retryAfter: opts.retryAfterSeconds,
      // under-pressure sends what this returns.
      pressureHandler: ((_req: FastifyRequest, reply: FastifyReply, type: string, value: number | undefined) =>
        paused(reply, `${type} ${value === undefined ? '' : Math.round(value)}`.trim())) as never,
    });
    opts.pressureProbe?.(() => app.isUnderPressure());
    if (opts.pressureChecks.length > 0) {
      app.addHook('onRequest', async (_req, reply) => {
        for (const check of opts.pressureChecks) {
          const why = check();
          if (why !== undefined) return reply.send(paused(reply, why));
        }
      });
    }
    app.setErrorHandler<FastifyError>(async (err, req, reply) => {
      const { status, error } = requestError(err, opts.bodylimit, req.body, req.routeOptions.schema?.body === falcoAlertSchema);
      if (status < 500) opts.rejected();
      return reply.code(status).send({ error });
    });

    const answer = (r: SubmitResult, reply: FastifyReply) => {
      const a = submitAnswer(r, opts.retryAfterSeconds);
      if (a.retryAfter) reply.header('retry-after', a.retryAfter);
      return reply.code(a.status).send(a.body);
    };
    app.post('/', { schema: { body: falcoAlertSchema } }, async (req, reply) => {
      const wait = opts.admit?.();
      if (wait) await wait;
      return answer(await opts.accept(req.body), reply);
    });
    app.post('/test', async (_req, reply) => answer(await opts.acceptTest(), reply));
    for (const plugin of opts.plugins) await app.register(plugin);
    if (opts.extraRoutes.length > 0) {
      await app.register(async (raw) => {
        acceptRawBodies(raw);
        for (const r of opts.extraRoutes) {
          raw.route({
            method: r.method, url: r.path,
            handler: async (req, reply) => {
              const out = await r.handler(req.raw, (req.body as Buffer | undefined) ?? Buffer.alloc(0));
              return reply.code(out.status).headers(out.headers ?? {}).send(out.body);
            },
          });
        }
      });
    }
  };
}

