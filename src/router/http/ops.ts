import type { FastifyInstance } from 'fastify';

export interface OpsOptions {
  health(): { status: string; [k: string]: unknown };
  metrics(): Promise<string>;
  metricsContentType: string;
}

/** Health, liveness and Prometheus metrics: read-only, never refused under pressure. */
export function opsRoutes(opts: OpsOptions) {
  return async (app: FastifyInstance) => {
    app.get('/healthz', async () => opts.health());
    app.get('/ping', async (_req, reply) => reply.type('text/plain; charset=utf-8').send('pong\n'));
    app.get('/metrics', async (_req, reply) => reply.type(opts.metricsContentType).send(await opts.metrics()));
  };
}
