import { loadConfig } from '../../src/config/load.ts';
import { createRouter, type Router } from '../../src/router/router.ts';

/** A router on a random loopback port, configured by YAML (the process environment is ignored). */
export async function startRouter(yaml: string): Promise<{ router: Router; url: string }> {
  return startRouterWith(yaml);
}

/** Like startRouter, with a hook to add routes or pressure checks before it listens. */
export async function startRouterWith(yaml: string, beforeListen?: (router: Router) => void): Promise<{ router: Router; url: string }> {
  const router = await createRouter(loadConfig({ env: {}, yamlText: `listenaddress: 127.0.0.1\nlistenport: 0\n${yaml}` }));
  beforeListen?.(router);
  const { port } = await router.listen();
  return { router, url: `http://127.0.0.1:${port}` };
}
