import type { PeregrineConfig } from '../config/schema.ts';
import { PeregrineError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { checkHashFormat } from './auth/password.ts';
import { storeOptions, type UiConfig } from './config.ts';
import { createUiHttp, type UiHttp } from './http/handler.ts';
import { acquireStore } from './store/shared.ts';

/**
 * The web UI and /api/v1 over the store the `ui` output writes, when `ui.enabled`. Returns undefined when
 * the UI is off. Configuration mistakes (a half-configured login) stop the start with the key named.
 */
export async function attachUi(config: PeregrineConfig, log: Logger): Promise<UiHttp | undefined> {
  const ui = (config as { ui?: UiConfig }).ui;
  if (!ui?.enabled) return undefined;
  if ((ui.user === '') !== (ui.passwordhash === '')) {
    throw new PeregrineError('PRG_CONFIG_INVALID', 'ui.user and ui.passwordhash: set both for a login, or neither');
  }
  if (ui.passwordhash !== '') {
    try {
      checkHashFormat(ui.passwordhash);
    } catch (err) {
      throw new PeregrineError('PRG_CONFIG_INVALID', (err as Error).message);
    }
  }
  let store;
  try {
    store = await acquireStore(storeOptions(ui), { log });
  } catch (err) {
    // Like any output that cannot start: the router runs without it, and the log says why.
    log.error({ err: (err as Error).message }, 'ui: the alert store cannot be opened; /ui/ and /api/v1 are off');
    return undefined;
  }
  const http = createUiHttp({ store, ui, authtoken: config.authtoken, tls: config.tlsserver.deploy, log: log.child({ component: 'ui' }) });
  return {
    ...http,
    close() {
      http.close();
      void store.close();
    },
  };
}
