import type { Logger } from '../../src/log.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { OutputDefinition } from '../../src/router/output.ts';
import { createRouter, type Router } from '../../src/router/router.ts';

interface Options { log?: Logger; registry?: readonly OutputDefinition[] }

/**
 * A router on a random loopback port, configured by YAML (the process environment is ignored). Without
 * spool.dir in the YAML its spool is a temporary directory removed on close.
 */
export async function startRouter(yaml: string, opts: Options = {}): Promise<{ router: Router; url: string }> {
  return startRouterWith(yaml, undefined, opts);
}

/** Like startRouter, with a hook to add routes or pressure checks before it listens. */
export async function startRouterWith(yaml: string, beforeListen?: (router: Router) => void, opts: Options = {}): Promise<{ router: Router; url: string }> {
  const router = await createRouter(loadConfig({ env: {}, yamlText: `listenaddress: 127.0.0.1\nlistenport: 0\n${yaml}` }), opts);
  beforeListen?.(router);
  const { port } = await router.listen();
  return { router, url: `http://127.0.0.1:${port}` };
}
