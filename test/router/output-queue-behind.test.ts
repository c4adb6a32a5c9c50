import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger } from '../../src/log.ts';
import { openSpool } from '../../src/spool/registry.ts';
import { AdaptiveConcurrency } from '../../src/router/delivery/adaptive-concurrency.ts';
import { BEHIND_MS, OutputQueue, type QueueSettings } from '../../src/router/delivery/output-queue.ts';
import { encodeSpooled } from '../../src/router/delivery/spooled-alert.ts';
import { ThrottledLog } from '../../src/throttled-log.ts';
import { RouterMetrics } from '../../src/router/metrics.ts';
import type { Sender } from '../../src/router/output.ts';
import type { FalcoAlert } from '../../src/alert/alert.ts';

// Whether the router paces input (TurnBudget) depends on OutputQueue.behind: an output that keeps up is
// never behind however busy it is; one whose alerts wait for a slot longer than a send takes is.
const settings: QueueSettings = {
  window: 1000, maxBatch: 1, batchWaitMs: 0, concurrency: 1, adaptive: false, ratePerSecond: 0, timeoutMs: 10_000,
  maxRetries: 0, initialBackoffMs: 100, maxBackoffMs: 1000,
};

const alert = (i: number): FalcoAlert => ({
  uuid: `u${i}`, output: `alert ${i}`, priority: 'warning', rule: 'r', time: new Date().toISOString(), source: 'syscall',
  hostname: 'h', tags: [], output_fields: {},
} as unknown as FalcoAlert);

async function run(sendMs: number, alertsPerMs: number, ms: number): Promise<{ sent: number; behindSamples: number; samples: number }> {
  const spool = await openSpool('file', {
    dir: mkdtempSync(join(tmpdir(), 'peregrine-behind-')), fsync: 'never', fsyncMs: 5, maxBytes: 1 << 30, whenFull: 'reject', consumers: ['out'],
  });
  let sent = 0;
  const sender: Sender = { async send(alerts) { await sleep(sendMs); sent += alerts.length; } };
  const q = new OutputQueue('out', 'test', sender, settings, {
    reader: spool.reader('out'), filter: { minimumpriority: undefined, rules: [], tags: [], sources: [] }, slots: new AdaptiveConcurrency({ max: 1, min: 1 }),
    deadLetter: async () => {}, metrics: new RouterMetrics(), log: silentLogger, notices: new ThrottledLog(silentLogger),
  });
  let behindSamples = 0;
  let samples = 0;
  const end = performance.now() + ms;
  let i = 0;
  while (performance.now() < end) {
    const s = { alert: alert(i++), acceptedAt: Date.now() };
    await spool.append(encodeSpooled(s), s);
    if (i % alertsPerMs === 0) {
      await sleep(1);
      samples++;
      if (q.behind) behindSamples++;
    }
  }
  await q.close(0);
  await spool.close();
  return { sent, behindSamples, samples };
}

describe('OutputQueue.behind', () => {
  test('an output that keeps up is not behind while it sends', async () => {
    // ~1 alert per ms, each send ~1 ms: the output is sending nearly all the time and keeps up.
    const r = await run(0, 1, 600);
    assert.ok(r.sent > 100, `sent ${r.sent}`);
    assert.ok(r.behindSamples <= r.samples * 0.05, `behind in ${r.behindSamples} of ${r.samples} samples`);
  });

  test(`an output whose alerts wait for a slot more than ${BEHIND_MS} ms past the batch wait is behind`, async () => {
    // 20 alerts per ms against one send of 20 ms at a time: a backlog that only grows.
    const r = await run(20, 20, 600);
    assert.ok(r.behindSamples >= r.samples * 0.5, `behind in only ${r.behindSamples} of ${r.samples} samples`);
  });
});
