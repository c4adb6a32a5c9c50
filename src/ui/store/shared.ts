import { resolve } from 'node:path';
import type { AlertStore, StoreOptions } from './contract.ts';
import { openSqliteStore } from './sqlite-store.ts';

/**
 * One store per database file in the process: the `ui` output writes to it and /api/v1 reads it, each
 * holding a reference; the file is closed when the last one is released.
 */
const open = new Map<string, { store: AlertStore; refs: number }>();

export function acquireStore(opts: StoreOptions): AlertStore {
  const key = opts.file === ':memory:' ? opts.file : resolve(opts.file);
  let entry = open.get(key);
  if (!entry) {
    entry = { store: openSqliteStore({ ...opts, file: key }), refs: 0 };
    open.set(key, entry);
  }
  entry.refs++;
  const e = entry;
  let released = false;
  // Each holder gets its own close(); the file stays open while another holder needs it.
  return new Proxy(e.store, {
    get(target, prop, receiver) {
      if (prop === 'close') {
        return () => {
          if (released) return;
          released = true;
          if (--e.refs === 0) {
            open.delete(key);
            target.close();
          }
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
