import { PeregrineError } from '../../errors.ts';
import type { AlertStore, AsyncAlertStore, StoredAlert, StoreOptions } from './contract.ts';
import type { Worker } from 'node:worker_threads';
import type { Logger } from '../../log.ts';
import { startJsWorker } from './js-worker.ts';
import { openSqliteStore } from './sqlite-store.ts';

/** Code of the error calls get while the store's thread is down (it is being restarted). */
export const STORE_THREAD_DOWN = 'PRG_UI_STORE_DOWN';
// Heap of the store's thread: a runaway query or batch ends that thread (restarted), not the router.
const THREAD_HEAP_MB = 512;
const RESTART_FIRST_MS = 500;
const RESTART_MAX_MS = 30_000;

export interface ThreadOptions {
  /** Told when the thread dies and when it is back. */
  log?: Pick<Logger, 'error' | 'warn'>;
  /** The thread's old-generation heap limit in MiB (tests use a small one). */
  heapMb?: number;
}

/**
 * Opens the store in a worker thread: inserts, queries and retention run there, and the router's thread
 * only passes messages. An in-memory store (":memory:", configs given as text) cannot be shared with
 * another thread and stays on this one. If the thread dies (its heap limit, a crash), calls made until
 * it is back fail with STORE_THREAD_DOWN, and it is started again on the same file (after 0.5 s, doubling
 * to 30 s while starting fails): the database is a file, so nothing stored is lost.
 */
export async function openThreadedStore(opts: StoreOptions, thread: ThreadOptions = {}): Promise<AsyncAlertStore> {
  if (opts.file === ':memory:') return inProcess(openSqliteStore(opts));
  const listeners = new Set<(alerts: readonly StoredAlert[]) => void>();
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  let down: Error | undefined;
  let closing = false;
  let restartMs = RESTART_FIRST_MS;
  let restartTimer: NodeJS.Timeout | undefined;

  const onMessage = (m: { id?: number; result?: unknown; error?: { message: string; code?: string }; inserted?: StoredAlert[]; priority?: string }) => {
    if (m.priority !== undefined) {
      if (m.priority !== 'idle') thread.log?.warn({ priority: m.priority }, 'ui store thread: could not run it under SCHED_IDLE (chrt); alert delivery may wait behind its inserts');
      return;
    }
    if (m.inserted) {
      for (const l of listeners) l(m.inserted);
      return;
    }
    const w = waiting.get(m.id!);
    if (!w) return;
    waiting.delete(m.id!);
    if (m.error) w.reject(m.error.code ? new PeregrineError(m.error.code, m.error.message) : new Error(m.error.message));
    else w.resolve(m.result);
  };
  const died = (w: Worker, why: string) => {
    if (w !== worker || down) return;
    down = new PeregrineError(STORE_THREAD_DOWN, `ui store thread ${why}; restarting it`);
    for (const c of waiting.values()) c.reject(down);
    waiting.clear();
    if (closing) return;
    thread.log?.error({ err: why }, 'ui store thread died; restarting it');
    scheduleRestart();
  };
  const start = async (): Promise<Worker> => {
    const w = await startStoreThread(opts, thread.heapMb ?? THREAD_HEAP_MB);
    w.on('message', onMessage);
    w.on('error', (err) => died(w, `failed: ${err.message}`));
    w.on('exit', (code) => died(w, `exited (${code})`));
    return w;
  };
  const scheduleRestart = () => {
    restartTimer = setTimeout(async () => {
      restartTimer = undefined;
      try {
        const w = await start();
        if (closing) { await w.terminate(); return; }
        worker = w;
        down = undefined;
        restartMs = RESTART_FIRST_MS;
        if (listeners.size > 0) w.postMessage({ announce: true });
        thread.log?.warn({}, 'ui store thread restarted');
      } catch (err) {
        restartMs = Math.min(restartMs * 2, RESTART_MAX_MS);
        thread.log?.error({ err: (err as Error).message, retryInMs: restartMs }, 'ui store thread did not start again');
        scheduleRestart();
      }
    }, restartMs);
    restartTimer.unref();
  };
  let worker = await start();

  const call = <T>(method: keyof AlertStore, ...args: unknown[]): Promise<T> => {
    if (down) return Promise.reject(down);
    const id = next++;
    const w = worker;
    // Keep the process alive while an answer is awaited, not while the thread idles.
    if (waiting.size === 0) w.ref();
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      w.postMessage({ id, method, args });
    }).finally(() => { if (waiting.size === 0) w.unref(); });
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
      if (listeners.size === 1 && !down) worker.postMessage({ announce: true });
      return () => {
        if (listeners.delete(listener) && listeners.size === 0 && !down) worker.postMessage({ announce: false });
      };
    },
    async close() {
      closing = true;
      if (restartTimer) clearTimeout(restartTimer);
      if (!down) await call('close').catch(() => {});
      listeners.clear();
      await worker.terminate();
    },
  };
}

/** Starts the store's thread; resolves once its store is open, or rejects saying why it did not open. */
async function startStoreThread(opts: StoreOptions, heapMb: number): Promise<Worker> {
  const worker = startJsWorker(new URL('./worker.ts', import.meta.url), { workerData: opts, resourceLimits: { maxOldGenerationSizeMb: heapMb } });
  worker.unref();
  await new Promise<void>((resolve, reject) => {
    const failed = (why: string) => reject(new PeregrineError('PRG_UI_STORE', why));
    worker.once('message', (m: { ready: boolean; error?: string }) => (m.ready ? resolve() : failed(m.error ?? 'the store did not open')));
    worker.once('error', (err) => failed(err.message));
    worker.once('exit', (code) => failed(`the store's thread exited (${code}) before the store opened`));
  });
  return worker;
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
