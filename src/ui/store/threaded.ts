import { PeregrineError } from '../../errors.ts';
import type { AlertStore, AsyncAlertStore, StoredAlert, StoreOptions } from './contract.ts';
import { startJsWorker } from './js-worker.ts';
import { openSqliteStore } from './sqlite-store.ts';

/**
 * Opens the store in a worker thread: inserts, queries and retention run there, and the router's thread
 * only passes messages. An in-memory store (":memory:", configs given as text) cannot be shared with
 * another thread and stays on this one.
 */
export async function openThreadedStore(opts: StoreOptions): Promise<AsyncAlertStore> {
  if (opts.file === ':memory:') return inProcess(openSqliteStore(opts));
  const worker = startJsWorker(new URL('./worker.ts', import.meta.url), { workerData: opts });
  worker.unref();
  const listeners = new Set<(alerts: readonly StoredAlert[]) => void>();
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  let dead: Error | undefined;
  await new Promise<void>((resolve, reject) => {
    const failed = (why: string) => reject(new PeregrineError('PRG_UI_STORE', why));
    worker.once('message', (m: { ready: boolean; error?: string }) => (m.ready ? resolve() : failed(m.error ?? 'the store did not open')));
    worker.once('error', (err) => failed(err.message));
    worker.once('exit', (code) => failed(`the store's thread exited (${code}) before the store opened`));
  });
  worker.on('message', (m: { id?: number; result?: unknown; error?: { message: string; code?: string }; inserted?: StoredAlert[] }) => {
    if (m.inserted) {
      for (const l of listeners) l(m.inserted);
      return;
    }
    const w = waiting.get(m.id!);
    if (!w) return;
    waiting.delete(m.id!);
    if (m.error) w.reject(m.error.code ? new PeregrineError(m.error.code, m.error.message) : new Error(m.error.message));
    else w.resolve(m.result);
  });
  const fail = (err: Error) => {
    dead = err;
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };
  worker.on('error', (err) => fail(new Error(`ui store thread failed: ${err.message}`)));
  worker.on('exit', (code) => fail(new Error(`ui store thread exited (${code})`)));
  const call = <T>(method: keyof AlertStore, ...args: unknown[]): Promise<T> => {
    if (dead) return Promise.reject(dead);
    const id = next++;
    // Keep the process alive while an answer is awaited, not while the thread idles.
    if (waiting.size === 0) worker.ref();
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ id, method, args });
    }).finally(() => { if (waiting.size === 0) worker.unref(); });
  };
  return {
    insert: (alerts) => call('insert', alerts),
    list: (q) => call('list', q),
    get: (id) => call('get', id),
    counts: (q, by, limit) => call('counts', q, by, limit),
    histogram: (q, bucketMs) => call('histogram', q, bucketMs),
    total: (q) => call('total', q),
    enforceRetention: () => call('enforceRetention'),
    sizeBytes: () => call('sizeBytes'),
    onInsert(listener) {
      listeners.add(listener);
      if (listeners.size === 1 && !dead) worker.postMessage({ announce: true });
      return () => {
        if (listeners.delete(listener) && listeners.size === 0 && !dead) worker.postMessage({ announce: false });
      };
    },
    async close() {
      if (!dead) await call('close').catch(() => {});
      listeners.clear();
      await worker.terminate();
    },
  };
}

/** The synchronous store behind the asynchronous contract, on this thread. */
export function inProcess(store: AlertStore): AsyncAlertStore {
  const wrap = <A extends unknown[], R>(f: (...a: A) => R) => async (...a: A): Promise<R> => f(...a);
  return {
    insert: wrap((a) => store.insert(a)),
    list: wrap((q) => store.list(q)),
    get: wrap((id) => store.get(id)),
    counts: wrap((q, by, limit) => store.counts(q, by, limit)),
    histogram: wrap((q, b) => store.histogram(q, b)),
    total: wrap((q) => store.total(q)),
    enforceRetention: wrap(() => store.enforceRetention()),
    sizeBytes: wrap(() => store.sizeBytes()),
    onInsert: (l) => store.onInsert(l),
    close: wrap(() => store.close()),
  };
}
