import { DEFAULT_CONFIG_FILE, loadConfig } from '../../config/load.ts';
import { createLogger } from '../../log.ts';
import { startPipeline } from '../../pipeline/pipeline.ts';
import type { Command } from '../main.ts';
import { boundedShutdown, SHUTDOWN_MARGIN_MS, untilStopSignal } from '../signals.ts';

/** `peregrine run`: the detection core and the router in one process (Falco + Falcosidekick). */
const run: Command = {
  summary: 'detect: evaluate Falco rules on kernel events and Kubernetes audit events, route the alerts',
  usage: 'peregrine run [-c FILE] [-r FILE|DIR ...]',
  options: {
    config: { type: 'string', short: 'c' },
    rules: { type: 'string', short: 'r', multiple: true },
  },
  async main(values) {
    const file = (values.config ?? DEFAULT_CONFIG_FILE) as string;
    const warnings: string[] = [];
    const config = loadConfig({ file, onWarning: (w) => warnings.push(w) });
    // stdout carries alerts (Falco's stdout_output), so logs go to stderr.
    const log = createLogger({ level: config.loglevel, name: 'peregrine', destination: 2 });
    for (const w of warnings) log.warn(w);
    log.info({ config: file }, 'configuration loaded');
    // Listen before starting: a stop signal that arrives while the pipeline starts then shuts it down cleanly
    // instead of killing the process (no handler yet means the default action).
    const stopped = untilStopSignal(log, { drainMs: config.drainms }, 'shutting down');
    const pipeline = await startPipeline({ config, extraRules: (values.rules ?? []) as string[], log });
    await stopped;
    await boundedShutdown(log, config.drainms + SHUTDOWN_MARGIN_MS, () => pipeline.close());
    log.info('stopped');
    return 0;
  },
};
export default run;
