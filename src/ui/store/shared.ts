import { resolve } from 'node:path';
import type { AsyncAlertStore, StoreOptions } from './contract.ts';
import { openThreadedStore, type ThreadOptions } from './threaded.ts';

/**
 * One store per database file in the process: the `ui` output writes to it and /api/v1 reads it, each
 * holding a reference; the store is closed when the last one is released.
 */
const open = new Map<string, { store: Promise<AsyncAlertStore>; refs: number }>();

/** `thread` applies when this call opens the store (the first holder's logger reports the thread's restarts). */
export async function acquireStore(opts: StoreOptions, thread: ThreadOptions = {}): Promise<AsyncAlertStore> {
  const key = opts.file === ':memory:' ? opts.file : resolve(opts.file);
  let entry = open.get(key);
  if (!entry) {
    entry = { store: openThreadedStore({ ...opts, file: key }, thread), refs: 0 };
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
