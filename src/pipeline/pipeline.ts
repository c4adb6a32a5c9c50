/**
 * `peregrine run`, assembled: rules loaded into the engine, the router (outputs, HTTP input, /metrics) with a
 * Kubernetes audit route, alerts to stdout and into the router in-process, and kernel capture when available.
 */
import { hostname as osHostname } from 'node:os';
import type { PeregrineConfig } from '../config/schema.ts';
import { buildAlert } from '../engine/alert.ts';
import type { EngineEvent, SyscallEvent } from '../engine/event.ts';
import { setEventHostname } from '../engine/fields/syscall.ts';
import { formatDiagnostic } from '../engine/loader/diagnostics.ts';
import type { RuleEngine } from '../engine/engine.ts';
import { loadRuleFiles, selectRuleFiles } from '../engine/rules-files.ts';
import { PeregrineError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { ThrottledLog } from '../throttled-log.ts';
import type { Router, SubmitResult } from '../router/router.ts';
import { createDetector, type EmittedAlert } from './detector.ts';
import { createDropAlerter } from './drop-alert.ts';
import { DetectorMetrics } from './metrics.ts';
import { createStdoutWriter } from './stdout.ts';
import type { Writable } from 'node:stream';
import type { ContainerMetadataService } from '../container/index.ts';

export interface Pipeline {
  router: Router;
  engine: RuleEngine;
  port: number;
  /** Why kernel capture is not running, when it is not. */
  captureOff: string | undefined;
  /** Evaluates events as if they came from a source (tests, replay). */
  process(events: EngineEvent[]): number;
  close(): Promise<void>;
}

interface Capture {
  /** The evt.types actually attached in the kernel. */
  readonly eventTypes: readonly string[];
  stats(): { counters: Record<string, number>; drops: Record<string, number> };
  stop(): Promise<void>;
}

interface CaptureModule {
  captureAvailability(): { ok: true } | { ok: false; reason: string };
  startCapture(opts: {
    eventTypes: Set<string> | undefined; onEvents(events: SyscallEvent[]): void; log: Logger; ringBufferMB: number; containers?: ContainerMetadataService;
  }): Promise<Capture>;
}

export async function startPipeline(opts: { config: PeregrineConfig; /** `-r` files: they replace the configured and default rules. */ extraRules?: string[]; log: Logger; stdout?: Writable }): Promise<Pipeline> {
  const { config, log } = opts;
  const d = config.detector;
  const hostname = d.hostname || process.env.FALCO_HOSTNAME || osHostname();
  setEventHostname(hostname);

  const paths = selectRuleFiles({ cli: opts.extraRules ?? [], configured: d.rulesfiles, defaultRules: d.defaultrules });
  const loaded = loadRuleFiles(paths, { ruleMatching: d.rulematching, minPriority: d.minimumpriority, suggestedOutput: d.suggestedoutput });
  for (const w of loaded.warnings) log.warn({ code: w.code, file: w.file, line: w.line, column: w.column }, formatDiagnostic(w));
  // A bad rule is reported and left out; the others still run.
  for (const e of loaded.errors) log.error({ code: e.code, file: e.file, line: e.line, column: e.column }, formatDiagnostic(e));
  const { engine } = loaded;
  // A bomb (a limit passed) is not a bad rule to skip: someone fed us a hostile file; refuse to start.
  const overLimit = loaded.errors.find((e) => e.limit);
  if (overLimit) throw new PeregrineError('PRG_RULES_LIMIT', `rules refused: ${formatDiagnostic(overLimit)}`);
  if (engine.rules.length === 0) {
    throw new PeregrineError('PRG_NO_RULES', `no rule could be loaded from ${loaded.files.join(', ') || '(no files)'}`);
  }
  const counts = engine.counts();
  log.info({ files: loaded.files, ...counts, enabled: engine.rules.length, errors: loaded.errors.length, warnings: loaded.warnings.length }, 'rules loaded');

  // Loaded only once the rules are in: what running needs (the router's HTTP stack and outputs, the container
  // runtimes' clients) is ~1 s of CPU to load, and a rules file that is refused should not pay for it.
  const [{ createRouter }, { k8sAuditHandler }, { startContainerMetadata }] = await Promise.all([
    import('../router/router.ts'), import('./k8s-audit-route.ts'), import('../container/index.ts')]);
  const router = await createRouter(config, { log });
  let capture: Capture | undefined;
  const metrics = new DetectorMetrics(router.metrics.registry, () => (capture ? flatten(capture.stats()) : undefined));
  const writeStdout = d.stdout ? createStdoutWriter({ json: d.jsonoutput, ...(opts.stdout ? { stream: opts.stdout } : {}) }) : undefined;
  // Submissions made while a Kubernetes audit request is evaluated, so its answer waits until they are spooled.
  let collecting: Promise<SubmitResult>[] | undefined;
  const refusals = new ThrottledLog(log);
  const emit = (alert: EmittedAlert) => {
    writeStdout?.(alert);
    const r = router.submit(alert);
    collecting?.push(r);
    void r.then((res) => {
      if (!res.ok) refusals.note('refused', 'error', 'the router refused alerts from the detector', { rule: alert.rule, error: res.error });
    });
  };
  const detector = createDetector({
    evaluate: (e) => engine.evaluate(e),
    toAlert: (rule, event) => buildAlert(rule, event, rule.format!(event), { hostname, iso8601: d.timeformatiso8601 }),
    emit,
    metrics,
    log,
  });

  if (d.k8saudit.enabled) {
    router.addRoute('POST', d.k8saudit.path, k8sAuditHandler({
      process: async (events) => {
        const submitted: Promise<SubmitResult>[] = (collecting = []);
        let alerts: number;
        try {
          alerts = detector.process(events);
        } finally {
          collecting = undefined;
        }
        const results = await Promise.all(submitted);
        return { alerts, refused: results.filter((r) => !r.ok).length };
      },
      log,
    }));
  }
  const { port } = await router.listen();

  let captureOff: string | undefined;
  let containers: ContainerMetadataService | undefined;
  let dropTimer: NodeJS.Timeout | undefined;
  if (!d.capture.enabled) captureOff = 'disabled by configuration (detector.capture.enabled: false)';
  else {
    const mod = await loadCaptureModule();
    const available = mod ? mod.captureAvailability() : { ok: false as const, reason: 'the eBPF capture addon is not part of this build' };
    if (!available.ok) captureOff = available.reason;
    else {
      // Container metadata only matters for kernel events: started with capture, before the /proc seeding.
      if (config.container.enabled) containers = startContainerMetadata(config.container, { log: log.child({ component: 'container' }), registry: router.metrics.registry });
      capture = await mod!.startCapture({
        eventTypes: engine.eventTypes('syscall'), onEvents: (events) => detector.process(events), log, ringBufferMB: d.capture.ringbuffermb,
        ...(containers ? { containers } : {}),
      });
      if (d.syscalleventdrops.alert) {
        const drops = createDropAlerter({ intervalMs: d.syscalleventdrops.intervalms, hostname });
        dropTimer = setInterval(() => {
          const alert = capture && drops.check(capture.stats().drops);
          if (alert) emit(alert);
        }, 1000);
        dropTimer.unref();
      }
    }
  }
  if (captureOff) log.warn(`kernel capture is off: ${captureOff}; Kubernetes audit and HTTP inputs still work`);
  else log.info({ eventTypes: capture?.eventTypes ?? [] }, 'kernel capture started');

  return {
    router, engine, port, captureOff,
    process: (events) => detector.process(events),
    async close() {
      if (dropTimer) clearInterval(dropTimer);
      await capture?.stop();
      containers?.close();
      await router.close({ drainMs: config.drainms });
    },
  };
}

function flatten(stats: { counters: Record<string, number>; drops: Record<string, number> }): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(stats.counters)) out[k] = v;
  for (const [k, v] of Object.entries(stats.drops)) out[`drop_${k}`] = v;
  return out;
}

/** The capture core is optional: a build without the native addon still runs rules on audit events. */
async function loadCaptureModule(): Promise<CaptureModule | undefined> {
  const specifier = '../capture/index.ts';
  try {
    return (await import(specifier)) as CaptureModule;
  } catch {
    return undefined;
  }
}
