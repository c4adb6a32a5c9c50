import Fastify, { type FastifyInstance } from 'fastify';

/**
 * Falcosidekick's `tlsserver.notlsport` + `notlspaths`: with TLS deployed, a plain-HTTP listener that serves only
 * the listed paths (probes that cannot speak TLS: /healthz, /ping, /metrics). Each request is handed to the main
 * instance in process, so the routes, token and limits are the same ones, and the client's address is kept.
 */
export function plainSidePort(main: FastifyInstance, paths: readonly string[], bodyLimit: number): FastifyInstance {
  const allowed = new Set(paths);
  const side = Fastify({ bodyLimit, requestTimeout: 30_000, forceCloseConnections: true, logger: false }) as unknown as FastifyInstance;
  side.removeAllContentTypeParsers();
  side.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  side.all('/*', async (req, reply) => {
    const path = req.url.split('?')[0]!;
    if (!allowed.has(path)) return reply.code(404).send({ error: `${path} is served over TLS only (tlsserver.notlspaths)` });
    const res = await main.inject({
      method: req.method as 'GET', url: req.url, headers: req.headers, remoteAddress: req.ip,
      ...(req.body ? { payload: req.body as Buffer } : {}),
    });
    const headers = { ...res.headers };
    delete headers['content-length'];
    delete headers['transfer-encoding'];
    delete headers.connection;
    return reply.code(res.statusCode).headers(headers).send(res.rawPayload);
  });
  return side;
}
