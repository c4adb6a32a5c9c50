import type { FalcoAlert } from '../alert/alert.ts';
import { priorityTitle } from '../alert/priority.ts';
import type { PeregrineConfig } from '../config/schema.ts';
import { silentLogger, type Logger } from '../log.ts';
import { outputRegistry } from '../../outputs/registry.ts';
import { createEnricher } from './enrich.ts';
import { matchesFilter } from './filter.ts';
import { parseAlert, toAlert } from './input.ts';
import { createHttpSurface, type HttpSurface } from './http/server.ts';
import type { RouteHandler, SubmitResult } from './http/ingest.ts';
import { createInstances, type OutputInstance } from './instances.ts';
import { RouterMetrics } from './metrics.ts';
import { attachUi } from '../ui/attach.ts';
import { uiRoutes } from '../ui/http/fastify-plugin.ts';
import type { OutputDefinition } from './output.ts';

export type { RouteHandler, SubmitResult };

export interface Router {
  /** Starts the HTTP input; port 0 in the config picks a free port (tests). */
  listen(): Promise<{ port: number; address: string }>;
  /** In-process input (the detection core): same validation, enrichment and fan-out as POST /. */
  submit(alert: unknown): SubmitResult;
  /** Adds an HTTP route served beside the router's own (e.g. POST /k8s-audit). */
  addRoute(method: string, path: string, handler: RouteHandler): void;
  /** The HTTP surface: register fastify plugins/routes and pressure checks here before listen(). */
  readonly http: HttpSurface;
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

  function accept(body: unknown, input: string): SubmitResult {
    const parsed = parseAlert(body);
    if (!parsed.ok) {
      metrics.inputs.inc({ source: input, status: 'rejected' });
      return parsed;
    }
    return deliver(parsed.alert, input);
  }

  function deliver(received: FalcoAlert, input: string): SubmitResult {
    metrics.inputs.inc({ source: input, status: 'accepted' });
    const alert = enrich(received);
    metrics.falcoEvents.inc({ rule: alert.rule, priority_raw: alert.priority, source: alert.source, hostname: alert.hostname || 'unknown' });
    const acceptedAt = performance.now();
    for (const inst of instances) if (matchesFilter(alert, inst.filter)) inst.queue.push(alert, acceptedAt);
    if (config.debug) log.info({ alert: { ...alert, priority: priorityTitle(alert.priority) } }, 'alert accepted');
    return { ok: true, alert };
  }

  const http = createHttpSurface(config, log, {
    // The route's schema already validated the body.
    accept: (body) => deliver(toAlert(body), 'requests'),
    acceptTest: () => accept({ ...TEST_ALERT, time: new Date().toISOString() }, 'requests'),
    rejected: () => metrics.inputs.inc({ source: 'requests', status: 'rejected' }),
    health: () => ({ status: 'ok' }),
    metrics: () => metrics.registry.metrics(),
    metricsContentType: metrics.registry.contentType,
  });
  // The web UI and /api/v1 (src/ui/) share the router's port, outside the input's token and pressure checks.
  const ui = attachUi(config, log);
  if (ui) http.app.register(uiRoutes(ui));

  return {
    metrics,
    outputs: instances,
    failedOutputs: failed,
    submit: (alert) => accept(alert, 'internal'),
    http,
    addRoute: (method, path, handler) => http.addRoute(method, path, handler),
    metricsText: () => metrics.registry.metrics(),
    listen: () => http.listen(),
    async close({ drainMs = config.drainms } = {}) {
      ui?.close();
      await http.close();
      await Promise.all(instances.map((i) => i.queue.close(drainMs)));
    },
  };
}
