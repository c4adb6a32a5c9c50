import { DeliveryError, defineOutput } from '../src/router/output.ts';
import { storeOptions, uiSchema } from '../src/ui/config.ts';
import { acquireStore } from '../src/ui/store/shared.ts';
import { STORE_THREAD_DOWN } from '../src/ui/store/threaded.ts';

/**
 * Keeps alerts in the embedded store the web UI reads (/ui/, /api/v1). Each send is one transaction;
 * the delivery layer hands over up to maxBatch queued alerts at once, so under load a transaction
 * carries hundreds of alerts.
 */
export const uiOutput = defineOutput({
  type: 'ui',
  configPath: ['ui'],
  schema: uiSchema,
  isEnabled: (c) => c.enabled,
  // Alerts trickling in would each pay a transaction; waiting 100 ms (invisible in a UI) batches them.
  delivery: { maxBatch: 1000, batchWaitMs: 100, concurrency: 1 },
  async create(c, ctx) {
    const store = await acquireStore(storeOptions(c), { log: ctx.log });
    ctx.log.info({ dbfile: c.dbfile, retention: c.retention, maxbytes: c.maxbytes }, 'ui store open');
    return {
      // The database work runs on the store's own thread; this one only hands the batch over.
      send: (alerts) => store.insert(alerts).catch((err: unknown) => {
        // While the store's thread restarts, the batch waits in the spool and is tried again.
        if ((err as { code?: string }).code === STORE_THREAD_DOWN) throw new DeliveryError((err as Error).message, { retryable: true, cause: err });
        throw err;
      }),
      close: () => store.close(),
    };
  },
});
