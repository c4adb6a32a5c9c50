import type { FastifyInstance } from 'fastify';
import { bearerMatches } from './auth.ts';

export interface OpsOptions {
  health(): { status: string; [k: string]: unknown };
  metrics(): Promise<string>;
  metricsContentType: string;
  /** When set, /metrics (rule names, hostnames) needs this bearer token too. */
  metricsToken?: string;
}

/** Health, liveness and Prometheus metrics: read-only, never refused under pressure. */
export function opsRoutes(opts: OpsOptions) {
  return async (app: FastifyInstance) => {
    app.get('/healthz', async () => opts.health());
    app.get('/ping', async (_req, reply) => reply.type('text/plain; charset=utf-8').send('pong\n'));
    const token = opts.metricsToken;
    app.get('/metrics', {
      ...(token ? {
        onRequest: async (req, reply) => {
          if (!bearerMatches(req.headers.authorization, token)) await reply.code(401).send({ error: 'missing or wrong bearer token' });
        },
      } : {}),
    }, async (_req, reply) => reply.type(opts.metricsContentType).send(await opts.metrics()));
  };
}
