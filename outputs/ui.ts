import { defineOutput } from '../src/router/output.ts';
import { storeOptions, uiSchema } from '../src/ui/config.ts';
import { acquireStore } from '../src/ui/store/shared.ts';

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
    const store = await acquireStore(storeOptions(c));
    ctx.log.info({ dbfile: c.dbfile, retention: c.retention, maxbytes: c.maxbytes }, 'ui store open');
    return {
      // The database work runs on the store's own thread; this one only hands the batch over.
      send: (alerts) => store.insert(alerts),
      close: () => store.close(),
    };
  },
});
