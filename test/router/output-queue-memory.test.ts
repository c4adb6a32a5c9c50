import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { silentLogger } from '../../src/log.ts';
import { openSpool } from '../../src/spool/registry.ts';
import { AdaptiveConcurrency } from '../../src/router/delivery/adaptive-concurrency.ts';
import { OutputQueue, type QueueSettings } from '../../src/router/delivery/output-queue.ts';
import { encodeSpooled } from '../../src/router/delivery/spooled-alert.ts';
import { ThrottledLog } from '../../src/throttled-log.ts';
import { RouterMetrics } from '../../src/router/metrics.ts';
import type { Sender } from '../../src/router/output.ts';
import type { FalcoAlert } from '../../src/alert/alert.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const settings: QueueSettings = {
  window: 1000, maxBatch: 1, batchWaitMs: 0, concurrency: 1, adaptive: false, ratePerSecond: 0, timeoutMs: 10_000,
  maxRetries: 0, initialBackoffMs: 100, maxBackoffMs: 1000,
};

// An alert kept after it was delivered lives through young-generation GCs and is copied into the old
// generation: under steady load that is GC work per alert and larger pauses (issue #12, p99 latency).
test('an output queue keeps no reference to alerts it has delivered', async () => {
  const spool = await openSpool('file', {
    dir: mkdtempSync(join(tmpdir(), 'peregrine-release-')), fsync: 'never', fsyncMs: 5, maxBytes: 1 << 30, whenFull: 'reject', consumers: ['out'],
  });
  let sent = 0;
  const sender: Sender = { async send(alerts) { sent += alerts.length; } };
  const q = new OutputQueue('out', 'test', sender, settings, {
    reader: spool.reader('out'), filter: { minimumpriority: undefined, rules: [], tags: [], sources: [] }, slots: new AdaptiveConcurrency({ max: 1, min: 1 }),
    deadLetter: async () => {}, metrics: new RouterMetrics(), log: silentLogger, notices: new ThrottledLog(silentLogger),
  });
  const n = 200;
  // Made and appended in a function of its own: a suspended async frame of the test would hold the last one.
  const refs = await appendAlerts(spool, n);
  // One more, not watched: the queue's suspended loops may hold the newest alert in their frames.
  await appendAlerts(spool, 1);
  for (let i = 0; i < 200 && sent < n + 1; i++) await sleep(5);
  assert.equal(sent, n + 1);
  await sleep(10);
  gc();
  await sleep(0);
  gc();
  const alive = refs.filter((r) => r.deref() !== undefined).length;
  // The queue and the spool stay open: only their own references could keep these alive.
  assert.equal(alive, 0, `${alive} of ${n} delivered alerts are still reachable`);
  await q.close(0);
  await spool.close();
});

async function appendAlerts(spool: Awaited<ReturnType<typeof openSpool>>, n: number): Promise<WeakRef<FalcoAlert>[]> {
  const refs: WeakRef<FalcoAlert>[] = [];
  for (let i = 0; i < n; i++) {
    const alert = { uuid: `u${i}`, output: `alert ${i}`, priority: 'warning', rule: 'r', time: new Date().toISOString(), source: 'syscall',
      hostname: 'h', tags: [], output_fields: { n: i } } as unknown as FalcoAlert;
    refs.push(new WeakRef(alert));
    const s = { alert, acceptedAt: Date.now() };
    await spool.append(encodeSpooled(s), s);
  }
  return refs;
}
