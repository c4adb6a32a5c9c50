import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { UiHttp } from './handler.ts';

/**
 * Mounts the UI handler on the router's fastify instance: /ui, /ui/* and /api/v1/* are handed to it
 * with the raw request and response (it streams exports and server-sent events itself).
 */
export function uiRoutes(ui: UiHttp): FastifyPluginAsync {
  return async (app) => {
    // Login bodies are small JSON; the handler parses them itself.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 16 * 1024 }, (_req, body, done) => done(null, body));
    const handler = async (req: FastifyRequest, reply: FastifyReply) => {
      reply.hijack();
      try {
        await ui.handle(req.raw, reply.raw, req.body as Buffer | undefined);
      } catch (err) {
        req.log.error({ err: (err as Error).message, url: req.url }, 'ui request failed');
        if (!reply.raw.headersSent) {
          reply.raw.writeHead(500, { 'content-type': 'application/json' });
          reply.raw.end(JSON.stringify({ error: 'internal error' }));
        } else reply.raw.destroy();
      }
    };
    app.all('/ui', handler);
    app.all('/ui/*', handler);
    app.all('/api/v1/*', handler);
  };
}
