import { DEFAULT_CONFIG_FILE, loadConfig } from '../../config/load.ts';
import { createLogger } from '../../log.ts';
import { createRouter } from '../../router/router.ts';
import { outputRegistry } from '../../../outputs/registry.ts';
import { warmUp } from '../../router/warm-up/warm-up.ts';
import type { Command } from '../main.ts';
import { boundedShutdown, SHUTDOWN_MARGIN_MS, untilStopSignal } from '../signals.ts';

/** `peregrine route`: the Falcosidekick-compatible alert router on its own. */
const route: Command = {
  summary: 'run the alert router: Falco JSON alerts in over HTTP, out to the configured outputs',
  usage: 'peregrine route [-c FILE]',
  options: {
    config: { type: 'string', short: 'c' },
    'config-file': { type: 'string' }, // Falcosidekick's flag name
  },
  async main(values) {
    const file = (values.config ?? values['config-file'] ?? DEFAULT_CONFIG_FILE) as string;
    const warnings: string[] = [];
    const config = loadConfig({ file, onWarning: (w) => warnings.push(w) });
    const log = createLogger({ level: config.loglevel, name: 'peregrine-router' });
    for (const w of warnings) log.warn(w);
    log.info({ config: file }, 'configuration loaded');
    const router = await createRouter(config, { log });
    // After the router is built (a config it refuses is reported as such), before its input opens.
    if (config.warmup) {
      const w = await warmUp(config, outputRegistry, { log });
      log.info({ outputs: w.outputs, accepted: w.accepted, delivered: w.delivered, ms: Math.round(w.ms) }, 'warmed up');
    }
    await router.listen();
    await untilStopSignal(log, { drainMs: config.drainms }, 'shutting down: delivering from the spool until drainms');
    await boundedShutdown(log, config.drainms + SHUTDOWN_MARGIN_MS, () => router.close());
    log.info('stopped');
    return 0;
  },
};
export default route;
