import type { FastifyInstance } from 'fastify';
import { parseJson } from '../../alert/json.ts';

/**
 * Alert bodies are JSON whatever their content type (Falco sends application/json, curl -d sends a form
 * type, Falcosidekick reads both), decoded by the one alert JSON parser.
 */
export function acceptJsonBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, parseJson((body as Buffer).toString('utf8')));
    } catch (err) {
      done(Object.assign(new Error(`body is not valid JSON: ${(err as Error).message}`), { statusCode: 400 }), undefined);
    }
  });
}

/** Routes that read the raw body themselves (the Kubernetes audit webhook) get it as a Buffer. */
export function acceptRawBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
}
