import { parentPort, workerData } from 'node:worker_threads';
import type { AlertStore, StoreOptions } from './contract.ts';
import { lowerThisThread } from './idle-priority.ts';
import { openSqliteStore } from './sqlite-store.ts';

/**
 * The thread that owns the UI's SQLite database: every store call arrives as a message and is answered
 * by id; stored alerts are announced for live streams while the router's thread asks for them.
 */
type Call = { id: number; method: keyof AlertStore; args: unknown[] };

const port = parentPort!;
let store: AlertStore;
try {
  store = openSqliteStore(workerData as StoreOptions);
  port.postMessage({ ready: true });
} catch (err) {
  port.postMessage({ ready: false, error: (err as Error).message });
  throw err;
}
// Alerts on their way to other outputs come first (idle-priority.ts); the result is told to the router's thread.
void lowerThisThread().then((priority) => port.postMessage({ priority }));
// Announcing copies every stored alert back to the router's thread: only while a live stream listens.
let announcing: (() => void) | undefined;
port.on('message', (call: Call | { announce: boolean }) => {
  if ('announce' in call) {
    if (call.announce && !announcing) announcing = store.onInsert((alerts) => port.postMessage({ inserted: alerts }));
    if (!call.announce && announcing) { announcing(); announcing = undefined; }
    return;
  }
  try {
    const result = (store[call.method] as (...a: unknown[]) => unknown)(...call.args);
    port.postMessage({ id: call.id, result });
    if (call.method === 'close') port.close();
  } catch (err) {
    port.postMessage({ id: call.id, error: { message: (err as Error).message, code: (err as { code?: string }).code } });
  }
});
