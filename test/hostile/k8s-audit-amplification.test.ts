// Finding 1 of issue #14: a 1 MB body of empty audit items used to give one log line and one reply entry per
// item (349,524 of each), a 16 MB reply, a blocked event loop and +1.2 GB RSS for four in parallel. Now: one log
// line per body, a bounded reply, RSS growth bounded by the parsed bodies themselves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startDetector } from '../support/detector.ts';

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

test('/k8s-audit: a 1 MB body of bad items gives one log line and a small reply; health keeps answering', async () => {
  const det = await startDetector({ config: 'detector:\n  capture:\n    enabled: false\n' });
  try {
    const body = `[${Array(349_524).fill('{}').join(',')}]`.slice(0, 1_048_000).replace(/,?\{?\}?$/, ']');
    const rssBefore = rssMiB(det.child.pid!);
    const logsBefore = det.logs.length;
    const bodies = Array.from({ length: 4 }, () => fetch(`${det.url}/k8s-audit`, { method: 'POST', body }));
    // While four of them are processed, /healthz still answers promptly.
    const t0 = performance.now();
    const health = await fetch(`${det.url}/healthz`, { signal: AbortSignal.timeout(2000) });
    assert.equal(health.status, 200);
    const healthMs = performance.now() - t0;
    const replies = await Promise.all(bodies);
    for (const res of replies) {
      assert.equal(res.status, 400);
      const text = await res.text();
      assert.ok(text.length < 2000, `reply of ${text.length} bytes`);
      assert.match(text, /audit item 0: stageTimestamp is missing/);
      assert.match(text, /and \d{6} more bad item/);
    }
    await new Promise((r) => setTimeout(r, 300));
    const lines = det.logs.slice(logsBefore).filter((l) => String(l.msg).includes('audit'));
    assert.equal(lines.length, 4, JSON.stringify(lines.slice(0, 3)));
    assert.match(String(lines[0]!.msg), /audit body: \d{6} bad item\(s\) skipped/);
    const grown = rssMiB(det.child.pid!) - rssBefore;
    assert.ok(grown < 300, `RSS grew ${grown.toFixed(0)} MiB`);
    assert.ok(healthMs < 2000, `healthz took ${healthMs.toFixed(0)} ms`);
  } finally {
    await det.stop();
  }
});
