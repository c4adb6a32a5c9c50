import { resolve } from 'node:path';
import type { AsyncAlertStore, StoreOptions } from './contract.ts';
import { openThreadedStore } from './threaded.ts';

/**
 * One store per database file in the process: the `ui` output writes to it and /api/v1 reads it, each
 * holding a reference; the store is closed when the last one is released.
 */
const open = new Map<string, { store: Promise<AsyncAlertStore>; refs: number }>();

export async function acquireStore(opts: StoreOptions): Promise<AsyncAlertStore> {
  const key = opts.file === ':memory:' ? opts.file : resolve(opts.file);
  let entry = open.get(key);
  if (!entry) {
    entry = { store: openThreadedStore({ ...opts, file: key }), refs: 0 };
    open.set(key, entry);
    entry.store.catch(() => open.delete(key));
  }
  entry.refs++;
  const e = entry;
  const store = await e.store;
  let released = false;
  // Each holder gets its own close(); the store stays open while another holder needs it.
  return {
    ...store,
    async close() {
      if (released) return;
      released = true;
      if (--e.refs === 0) {
        open.delete(key);
        await store.close();
      }
    },
  };
}
