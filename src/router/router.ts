import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FalcoAlert } from '../alert/alert.ts';
import { priorityTitle } from '../alert/priority.ts';
import type { PeregrineConfig } from '../config/schema.ts';
import { silentLogger, type Logger } from '../log.ts';
import { redactText, registerConfigSecrets } from '../redact.ts';
import { outputRegistry } from '../../outputs/registry.ts';
import { SpoolFullError, type Spool } from '../spool/contract.ts';
import { openSpool } from '../spool/registry.ts';
import { encodeDeadLetter, openDeadLetterLog } from './delivery/dead-letter-log.ts';
import { encodeSpooled } from './delivery/spooled-alert.ts';
import { ThrottledLog } from '../throttled-log.ts';
import { createEnricher } from './enrich.ts';
import { parseAlert, toAlert } from './input.ts';
import { createHttpSurface, RETRY_AFTER_SECONDS, type HttpSurface } from './http/server.ts';
import { TurnBudget } from './http/turn-budget.ts';
import type { RouteHandler, SubmitResult } from './http/ingest.ts';
import { createInstances, startDelivery, type OutputInstance } from './instances.ts';
import { RouterMetrics } from './metrics.ts';
import { attachUi } from '../ui/attach.ts';
import { uiRoutes } from '../ui/http/fastify-plugin.ts';
import type { OutputDefinition } from './output.ts';

export type { RouteHandler, SubmitResult };
export { RETRY_AFTER_SECONDS };

/** /healthz says degraded above this share of spool.maxbytes. */
const DEGRADED_SPOOL_RATIO = 0.8;
/** How long in-flight requests may finish after shutdown starts before their connections are cut. */
const INPUT_GRACE_MS = 1000;
/** Input requests taken per event-loop turn while an output is behind (see where inputTurns is made). */
const INPUT_PER_TURN_WHILE_BEHIND = 16;

export interface Router {
  /** Starts the HTTP input; port 0 in the config picks a free port (tests). */
  listen(): Promise<{ port: number; address: string }>;
  /** In-process input (the detection core): same validation and enrichment as POST /; resolves once spooled. */
  submit(alert: unknown): Promise<SubmitResult>;
  /** Adds an HTTP route served beside the router's own (e.g. POST /k8s-audit). */
  addRoute(method: string, path: string, handler: RouteHandler): void;
  /** The HTTP surface: register fastify plugins/routes and pressure checks here before listen(). */
  readonly http: HttpSurface;
  metricsText(): Promise<string>;
  readonly metrics: RouterMetrics;
  readonly outputs: readonly OutputInstance[];
  readonly spool: Spool;
  /** Stops the input, delivers from the spool until drainMs, closes outputs; the rest stays in the spool. */
  close(opts?: { drainMs?: number }): Promise<void>;
}

/** Falcosidekick's test alert, field for field (its "Test rule" gets source "internal" on input, as every such alert). */
const TEST_ALERT = {
  output: 'This is a test from falcosidekick', source: 'debug', priority: 'Debug', hostname: 'falcosidekick', rule: 'Test rule',
  output_fields: { 'proc.name': 'falcosidekick', 'user.name': 'falcosidekick' }, tags: ['test', 'example'],
};
/** RFC 3339 in UTC to the second, as Go's time.RFC3339 prints it. */
const rfc3339Now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export async function createRouter(config: PeregrineConfig,
  opts: { log?: Logger; registry?: readonly OutputDefinition[]; processMetrics?: boolean } = {}): Promise<Router> {
  const log = opts.log ?? silentLogger;
  registerConfigSecrets(config);
  const metrics = new RouterMetrics(config, { processMetrics: opts.processMetrics });
  if (metrics.skippedLabelFields.length > 0) {
    log.warn({ fields: metrics.skippedLabelFields }, 'these fields are not valid Prometheus label names and are not labels of falco_events_total');
  }
  const notices = new ThrottledLog(log);
  const enrich = createEnricher(config);
  const { prepared } = await createInstances(config, opts.registry ?? outputRegistry, log);
  if (prepared.length === 0) log.warn('no output is enabled: alerts are validated and counted only');

  const ephemeral = config.spool.dir === '';
  const spoolDir = ephemeral ? mkdtempSync(join(tmpdir(), 'peregrine-spool-')) : config.spool.dir;
  if (ephemeral) log.warn({ dir: spoolDir }, 'no config file and no spool.dir: the spool is a temporary directory, removed at exit');
  const spoolOpts = { dir: spoolDir, fsync: config.spool.fsync, fsyncMs: config.spool.fsyncms, maxBytes: config.spool.maxbytes, log };
  const spool = await openSpool(config.spool.type, { ...spoolOpts, whenFull: config.spool.whenfull, consumers: prepared.map((p) => p.name) });
  const deadLetters = await openDeadLetterLog(config.spool.type, spoolOpts).catch(async (err: unknown) => {
    await spool.close();
    throw err;
  });
  const instances = startDelivery(prepared, spool, {
    metrics, notices,
    deadLetter: async (d) => { await deadLetters.append(encodeDeadLetter(d)); },
  });
  metrics.spoolMaxBytes.set(config.spool.maxbytes);
  log.info({ dir: spoolDir, type: config.spool.type, fsync: config.spool.fsync, maxbytes: config.spool.maxbytes, whenfull: config.spool.whenfull,
    backlog: spool.stats().records }, 'spool open');

  let dropsSeen = spool.stats().dropped;
  const skippedSeen = new Map<string, number>();
  function refreshSpoolMetrics(): { ratio: number } {
    const st = spool.stats();
    metrics.spoolBytes.set(st.bytes);
    metrics.spoolRecords.set(st.records);
    if (st.dropped > dropsSeen) {
      metrics.spoolDropped.inc(st.dropped - dropsSeen);
      notices.note('spool-drop', 'warn', 'spool full: oldest alerts dropped unsent to make room (spool.whenfull: drop_oldest)',
        { maxbytes: st.maxBytes }, st.dropped - dropsSeen);
      dropsSeen = st.dropped;
    }
    for (const i of instances) {
      const labels = { output: i.name, type: i.type };
      const skipped = i.queue.skippedAsDelivered - (skippedSeen.get(i.name) ?? 0);
      if (skipped > 0) {
        metrics.alreadyDelivered.inc(labels, skipped);
        skippedSeen.set(i.name, i.queue.skippedAsDelivered);
      }
      metrics.queueDepth.set(labels, i.queue.depth);
      const oldest = st.consumers[i.name]?.oldestAppendedAt;
      metrics.oldestUnsent.set(labels, oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
      metrics.concurrency.set(labels, i.queue.concurrency);
    }
    return { ratio: st.bytes / st.maxBytes };
  }
  const metricsTimer = setInterval(refreshSpoolMetrics, 1000);
  metricsTimer.unref();
  let closing = false;

  async function accept(body: unknown, input: string): Promise<SubmitResult> {
    const parsed = parseAlert(body);
    if (!parsed.ok) {
      metrics.inputs.inc({ source: input, status: 'rejected' });
      return parsed;
    }
    return deliver(parsed.alert, input);
  }

  /** Spools the alert; resolves once it is durable (the acknowledgement waits for this). */
  async function deliver(received: FalcoAlert, input: string): Promise<SubmitResult> {
    const alert = enrich(received);
    try {
      if (closing) throw new Error('shutting down');
      const spooled = { alert, acceptedAt: Date.now() };
      await spool.append(encodeSpooled(spooled), spooled);
    } catch (err) {
      metrics.inputs.inc({ source: input, status: 'rejected' });
      if (err instanceof SpoolFullError) {
        metrics.spoolRejected.inc();
        notices.note('spool-full', 'warn', 'spool full: alerts refused with 503 until outputs catch up (spool.whenfull: reject)',
          { maxbytes: config.spool.maxbytes });
      } else {
        notices.note('spool-error', 'error', 'alerts refused: they could not be spooled', { err: (err as Error).message });
      }
      return { ok: false, error: `alert not accepted: ${(err as Error).message}`, busy: true };
    }
    metrics.inputs.inc({ source: input, status: 'accepted' });
    metrics.falcoEvents.inc(metrics.falcoEventsCap.apply(metrics.falcoEventLabels(alert)));
    if (config.debug) log.info({ alert: { ...alert, priority: priorityTitle(alert.priority) } }, 'alert accepted');
    return { ok: true, alert };
  }

  function health(): { status: string; [k: string]: unknown } {
    const { ratio } = refreshSpoolMetrics();
    const used = Math.round(ratio * 1000) / 10;
    // An output whose server is unreachable keeps retrying in the background; health says which and why.
    const failing = instances.filter((i) => i.queue.lastFailure).map((i) => ({
      output: i.name, type: i.type, error: redactText(i.queue.lastFailure!.error), since: new Date(i.queue.lastFailure!.at).toISOString(),
    }));
    const reasons = [
      ...(ratio > DEGRADED_SPOOL_RATIO ? [`spool ${used}% full: outputs are not keeping up`] : []),
      ...failing.map((f) => `output ${f.output} failing: ${f.error}`),
    ];
    return reasons.length > 0
      ? { status: 'degraded', reason: reasons.join('; '), spoolUsedPercent: used, ...(failing.length > 0 ? { failingOutputs: failing } : {}) }
      : { status: 'ok', spoolUsedPercent: used };
  }


  function metricsText(): Promise<string> {
    refreshSpoolMetrics();
    return metrics.registry.metrics();
  }

  /** GET /metrics: the same text, counted as promhttp counts scrapes. */
  function scrape(): Promise<string> {
    refreshSpoolMetrics();
    return metrics.scrape();
  }

  // While an output is behind (alerts waiting for a slot longer than sending takes), at most 16 input
  // requests per event-loop turn (see TurnBudget), so a flood from many clients cannot make turns so long
  // that delivery gets few round trips. 1 gave delivery the largest share but held input to one alert per
  // spool write. With the fast lane (an input request ~60 µs), bench/router.ts flat out, 3 runs each:
  // 4 a turn took 5.5-8.9k alerts/s and delivered 10-15k during the 8 s; 16 took 9.8-10.2k/s and delivered
  // 11-12k; no bound at all the same as 16 (the bench's 32 connections). The delivery rate held; input rose.
  // Outputs that keep up are not counted even while sending: pacing input for them (as when any busy output
  // counted) held NATS flat out and every run with the ui output on to a few requests a turn for nothing.
  const inputTurns = new TurnBudget(INPUT_PER_TURN_WHILE_BEHIND, () => instances.some((i) => i.queue.behind));
  let http: HttpSurface;
  try {
    http = createHttpSurface(config, log, {
      admit: () => inputTurns.take(),
      // The route's schema already validated the body.
      accept: (body) => deliver(toAlert(body), 'requests'),
      acceptTest: () => accept({ ...TEST_ALERT, time: rfc3339Now() }, 'requests'),
      rejected: () => metrics.inputs.inc({ source: 'requests', status: 'rejected' }),
      health,
      metrics: scrape,
      metricsContentType: metrics.registry.contentType,
    });
  } catch (err) {
    // A TLS file that cannot be read: undo what was started, so a failed start leaves nothing running.
    clearInterval(metricsTimer);
    await Promise.all(instances.map((i) => i.queue.close(0)));
    await spool.close();
    await deadLetters.close();
    if (ephemeral) rmSync(spoolDir, { recursive: true, force: true });
    throw err;
  }
  // The web UI and /api/v1 (src/ui/) share the router's port, outside the input's token and pressure checks.
  const ui = await attachUi(config, log);
  if (ui) http.app.register(uiRoutes(ui));

  return {
    metrics,
    outputs: instances,
    spool,
    submit: (alert) => accept(alert, 'internal'),
    http,
    addRoute: (method, path, handler) => http.addRoute(method, path, handler),
    metricsText,
    listen: () => http.listen(),
    async close({ drainMs = config.drainms } = {}) {
      if (closing) return;
      closing = true;
      ui?.close();
      // The input stops while delivery drains: requests in flight get a short grace, then are cut.
      const inputClosed = http.close(Math.min(INPUT_GRACE_MS, drainMs));
      await Promise.all(instances.map((i) => i.queue.close(drainMs)));
      await inputClosed;
      clearInterval(metricsTimer);
      refreshSpoolMetrics();
      notices.flush();
      await spool.close();
      await deadLetters.close();
      if (ephemeral) rmSync(spoolDir, { recursive: true, force: true });
    },
  };
}
