// Finding 5 of issue #14: every distinct rule/hostname/source on the network input made a new metric series
// (50k rule names: 50k series, an 8.6 MB scrape). Past the cap they share one overflow series, counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { falcoAlert } from '../support/alerts.ts';
import { metricValue } from '../support/metrics.ts';
import { startRouter } from '../support/router.ts';
import { MAX_SERIES_PER_METRIC, OVERFLOW_LABEL } from '../../src/router/label-cap.ts';

test('falco_events keeps at most MAX_SERIES_PER_METRIC label sets; the rest go to one counted overflow series', async () => {
  const r = await startRouter('');
  try {
    const n = MAX_SERIES_PER_METRIC + 3000;
    for (let i = 0; i < n; i++) {
      const res = await r.router.submit(falcoAlert({ rule: `rule ${i}`, hostname: `host-${i % 7}` }));
      assert.ok(res.ok);
    }
    const text = await (await fetch(`${r.url}/metrics`)).text();
    const series = text.split('\n').filter((l) => l.startsWith('falcosecurity_falcosidekick_falco_events_total{'));
    assert.equal(series.length, MAX_SERIES_PER_METRIC + 1);
    assert.equal(metricValue(text, 'falcosecurity_falcosidekick_falco_events_total', { rule: OVERFLOW_LABEL }), 3000);
    assert.equal(metricValue(text, 'peregrine_metric_series_overflow_total', { metric: 'falcosecurity_falcosidekick_falco_events_total' }), 3000);
    // A label set seen before the cap keeps counting in its own series.
    await r.router.submit(falcoAlert({ rule: 'rule 0', hostname: 'host-0' }));
    assert.equal(metricValue(await r.router.metricsText(), 'falcosecurity_falcosidekick_falco_events_total', { rule: 'rule 0' }), 2);
    assert.ok(text.length < 1024 * 1024, `scrape of ${text.length} bytes`);
  } finally {
    await r.router.close({ drainMs: 0 });
  }
});
