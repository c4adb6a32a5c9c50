// The router with its spool: acknowledgement after the append, delivery without head-of-line blocking,
// dead letters, a full spool (reject / drop_oldest), restart and recovery. Real HTTP receivers on loopback.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outputRegistry } from '../../outputs/registry.ts';
import { webhookOutput } from '../../outputs/webhook.ts';
import { defineOutput, type OutputDefinition } from '../../src/router/output.ts';
import { openDeadLetterLog, pendingDeadLetters } from '../../src/router/delivery/dead-letter-log.ts';
import { HEADER_BYTES } from '../../src/spool/file/record.ts';
import { falcoAlert, postAlert } from '../support/alerts.ts';
import { eventually } from '../support/eventually.ts';
import { HttpReceiver } from '../support/http-receiver.ts';
import { capturingLogger } from '../support/log-capture.ts';
import { metricValue } from '../support/metrics.ts';
import { startRouter } from '../support/router.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'peregrine-spool-router-'));
const idOf = (body: string) => (JSON.parse(body) as { output_fields: { id: number } }).output_fields.id;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The webhook, except that its serializer throws on alerts of rule "poison" (a bug in an output). */
const poisonedRegistry: readonly OutputDefinition[] = outputRegistry.map((d) => d.type !== 'webhook' ? d : defineOutput({
  ...webhookOutput,
  async create(c, ctx) {
    const real = await webhookOutput.create(c, ctx);
    return {
      send(alerts, signal) {
        if (alerts.some((a) => a.rule === 'poison')) throw new TypeError('Do not know how to serialize this alert');
        return real.send(alerts, signal);
      },
      close: () => real.close?.() ?? Promise.resolve(),
    };
  },
}) as unknown as OutputDefinition);

describe('router with the spool', () => {
  test('an alert answered 200 is in the spool before the answer', async () => {
    const dir = tmp();
    const rx = await HttpReceiver.start();
    await rx.down();
    const r = await startRouter(`spool: { dir: ${dir} }\nwebhook: { address: "${rx.url}/" }\n`);
    try {
      assert.equal((await postAlert(r.url, falcoAlert())).status, 200);
      const st = r.router.spool.stats();
      assert.equal(st.records, 1);
      assert.ok(st.bytes > HEADER_BYTES);
    } finally {
      await r.router.close({ drainMs: 0 });
    }
  });

  test('a poison alert (serializer throws) goes to the dead letter at once and does not delay later alerts', async () => {
    const dir = tmp();
    const rx = await HttpReceiver.start();
    const r = await startRouter(`spool: { dir: ${dir} }\nwebhook: { address: "${rx.url}/" }\n`, { registry: poisonedRegistry });
    try {
      const sentAt = new Map<number, number>();
      assert.equal((await postAlert(r.url, falcoAlert({ rule: 'poison', output_fields: { id: -1 } }))).status, 200);
      for (let id = 0; id < 20; id++) {
        sentAt.set(id, Date.now());
        assert.equal((await postAlert(r.url, falcoAlert({ output_fields: { id } }))).status, 200);
      }
      await rx.waitFor(20, 5000);
      for (const req of rx.requests) {
        const delay = req.at - sentAt.get(idOf(req.body))!;
        assert.ok(delay < 1000, `alert ${idOf(req.body)} arrived ${delay} ms after it was posted`);
      }
      await eventually(async () => assert.equal(metricValue(await r.router.metricsText(), 'peregrine_output_deadletters_total', { output: 'webhook' }), 1));
    } finally {
      await r.router.close({ drainMs: 1000 });
      await rx.close();
    }
    const dl = await openDeadLetterLog('file', { dir, fsync: 'never', fsyncMs: 5, maxBytes: 1 << 20 });
    const letters = await pendingDeadLetters(dl);
    await dl.close();
    assert.equal(letters.length, 1);
    assert.equal(letters[0]!.output, 'webhook');
    assert.match(letters[0]!.error, /serialize/);
    assert.equal(typeof letters[0]!.alert === 'object' && letters[0]!.alert.rule, 'poison');
  });

  test('an alert that keeps failing is retried on its own schedule while later alerts flow, then dead-lettered', async () => {
    const dir = tmp();
    const rx = await HttpReceiver.start();
    rx.when((body) => (idOf(body) === -1 ? { status: 500 } : undefined));
    const r = await startRouter(`spool: { dir: ${dir} }
webhook: { address: "${rx.url}/", delivery: { maxretries: 3, initialbackoffms: 200, maxbackoffms: 400 } }
`);
    try {
      assert.equal((await postAlert(r.url, falcoAlert({ output_fields: { id: -1 } }))).status, 200);
      const sentAt = new Map<number, number>();
      for (let id = 0; id < 30; id++) {
        sentAt.set(id, Date.now());
        await postAlert(r.url, falcoAlert({ output_fields: { id } }));
        await sleep(10);
      }
      await eventually(() => assert.equal(rx.requests.filter((q) => idOf(q.body) >= 0).length, 30), 5000);
      for (const q of rx.requests.filter((x) => idOf(x.body) >= 0)) assert.ok(q.at - sentAt.get(idOf(q.body))! < 1000);
      await eventually(async () => {
        const m = await r.router.metricsText();
        assert.equal(metricValue(m, 'peregrine_output_deadletters_total', { output: 'webhook' }), 1);
        assert.equal(metricValue(m, 'peregrine_output_alerts_total', { output: 'webhook', result: 'sent' }), 30);
      }, 5000);
      assert.equal(rx.requests.filter((q) => idOf(q.body) === -1).length, 4, 'first try + 3 retries');
      // The cursor moved past everything: nothing is left for this output.
      await eventually(() => assert.equal(r.router.spool.stats().consumers.webhook!.pending, 0));
    } finally {
      await r.router.close({ drainMs: 0 });
      await rx.close();
    }
  });

  test('priority "constructor" and other inherited object keys are refused with 400', async () => {
    const r = await startRouter('');
    try {
      for (const priority of ['constructor', '__proto__', 'toString']) {
        const res = await postAlert(r.url, falcoAlert({ priority }));
        assert.equal(res.status, 400, priority);
      }
      assert.equal(r.router.spool.stats().records, 0);
    } finally {
      await r.router.close({ drainMs: 0 });
    }
  });

  test('spool full with whenfull reject: 503 with Retry-After, counted, one log line, /healthz degraded', async () => {
    const rx = await HttpReceiver.start();
    await rx.down(); // nothing is delivered: the spool fills
    const { log, lines } = capturingLogger();
    const r = await startRouter(`spool: { maxbytes: 65536, whenfull: reject }
webhook: { address: "${rx.url}/", delivery: { maxretries: 1000, initialbackoffms: 5000 } }
`, { log });
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 80; i++) {
        const res = await postAlert(r.url, falcoAlert({ output: 'x'.repeat(2000), output_fields: { id: i } }));
        statuses.push(res.status);
        if (res.status === 503) retryAfter = res.headers.get('retry-after');
      }
      const refused = statuses.filter((s) => s === 503).length;
      assert.ok(refused > 0 && statuses.filter((s) => s === 200).length > 0, JSON.stringify(statuses));
      assert.equal(retryAfter, '5');
      const m = await r.router.metricsText();
      assert.equal(metricValue(m, 'peregrine_spool_rejected_total'), refused);
      assert.ok(metricValue(m, 'peregrine_spool_bytes') <= 65536);
      const fullLines = () => lines.filter((l) => /spool full/.test(String(l.msg)));
      assert.equal(fullLines().length, 1, 'one line, not one per refused alert');
      const health = await (await fetch(`${r.url}/healthz`)).json() as { status: string };
      assert.equal(health.status, 'degraded');
      await r.router.close({ drainMs: 0 });
      // The rest is counted in one more line at shutdown.
      assert.equal(fullLines().reduce((n, l) => n + Number(l.count), 0), refused);
    } finally {
      await r.router.close({ drainMs: 0 });
    }
  });

  test('spool full with whenfull drop_oldest: every alert is accepted, the dropped ones are counted and logged once', async () => {
    const rx = await HttpReceiver.start();
    await rx.down();
    const { log, lines } = capturingLogger();
    const r = await startRouter(`spool: { maxbytes: 65536, whenfull: drop_oldest }
webhook: { address: "${rx.url}/", delivery: { maxretries: 1000, initialbackoffms: 5000, queuesize: 5 } }
`, { log });
    try {
      for (let i = 0; i < 120; i++) assert.equal((await postAlert(r.url, falcoAlert({ output: 'x'.repeat(2000), output_fields: { id: i } }))).status, 200);
      const m = await r.router.metricsText();
      const dropped = metricValue(m, 'peregrine_spool_dropped_total');
      assert.ok(dropped > 0);
      assert.ok(metricValue(m, 'peregrine_spool_bytes') <= 65536);
      assert.equal(lines.filter((l) => /oldest alerts dropped/.test(String(l.msg))).length, 1);
      // The receiver comes back: what was not dropped arrives, newest included.
      await rx.up();
      await eventually(() => assert.ok(rx.requests.some((q) => idOf(q.body) === 119)), 15000);
    } finally {
      await r.router.close({ drainMs: 0 });
      await rx.close();
    }
  });

  test('alerts accepted while the receiver is down are delivered after a restart on the same spool', async () => {
    const dir = tmp();
    const rx = await HttpReceiver.start();
    await rx.down();
    const yaml = `spool: { dir: ${dir} }\nwebhook: { address: "${rx.url}/", delivery: { initialbackoffms: 100 } }\n`;
    let r = await startRouter(yaml);
    for (let id = 0; id < 50; id++) assert.equal((await postAlert(r.url, falcoAlert({ output_fields: { id } }))).status, 200);
    await r.router.close({ drainMs: 200 });
    await rx.up();
    r = await startRouter(yaml);
    try {
      await eventually(() => assert.equal(new Set(rx.requests.map((q) => idOf(q.body))).size, 50), 10000);
    } finally {
      await r.router.close({ drainMs: 0 });
      await rx.close();
    }
  });

  test('after a restart, alerts delivered beyond the cursor (past a stuck one) are not sent again', async () => {
    const dir = tmp();
    const rx = await HttpReceiver.start();
    rx.when((body) => (idOf(body) === 0 ? { status: 503 } : undefined)); // the oldest alert is stuck: the cursor stays before it
    const yaml = `spool: { dir: ${dir} }\nwebhook: { address: "${rx.url}/", delivery: { initialbackoffms: 5000, maxretries: 100 } }\n`;
    let r = await startRouter(yaml);
    for (let id = 0; id < 20; id++) await postAlert(r.url, falcoAlert({ output_fields: { id } }));
    await eventually(() => assert.equal(rx.requests.filter((q) => idOf(q.body) > 0).length, 19));
    await sleep(300); // the cursor file is saved every 200 ms
    await r.router.close({ drainMs: 0 });
    rx.when(() => undefined);
    r = await startRouter(yaml);
    try {
      // The stuck alert is sent again (it was never delivered): once refused before the restart, then accepted.
      await eventually(() => assert.ok(rx.requests.filter((q) => idOf(q.body) === 0).length >= 2));
      await sleep(300);
      const counts = new Map<number, number>();
      for (const q of rx.requests) counts.set(idOf(q.body), (counts.get(idOf(q.body)) ?? 0) + 1);
      for (let id = 1; id < 20; id++) assert.equal(counts.get(id), 1, `alert ${id} sent ${counts.get(id)} times`);
      assert.equal(metricValue(await r.router.metricsText(), 'peregrine_output_redelivery_skipped_total', { output: 'webhook' }), 19);
    } finally {
      await r.router.close({ drainMs: 0 });
      await rx.close();
    }
  });

  test('a truncated last segment (cut mid-record) recovers: every complete record is delivered', async () => {
    const dir = tmp();
    const rx = await HttpReceiver.start();
    await rx.down();
    const { log, lines } = capturingLogger();
    const yaml = `spool: { dir: ${dir} }\nwebhook: { address: "${rx.url}/" }\n`;
    let r = await startRouter(yaml);
    for (let id = 0; id < 30; id++) await postAlert(r.url, falcoAlert({ output_fields: { id } }));
    await r.router.close({ drainMs: 0 });
    const seg = readdirSync(dir).filter((f) => f.endsWith('.seg')).sort().at(-1)!;
    truncateSync(join(dir, seg), statSync(join(dir, seg)).size - 100); // the last record loses its end
    await rx.up();
    r = await startRouter(yaml, { log });
    try {
      await eventually(() => assert.equal(new Set(rx.requests.map((q) => idOf(q.body))).size, 29), 10000);
      assert.deepEqual([...new Set(rx.requests.map((q) => idOf(q.body)))].sort((a, b) => a - b), Array.from({ length: 29 }, (_, i) => i));
      assert.equal(lines.filter((l) => /torn/.test(String(l.msg))).length, 1);
    } finally {
      await r.router.close({ drainMs: 0 });
      await rx.close();
    }
  });

  test('metrics: spool size, oldest unsent alert per output, concurrency per output', async () => {
    const rx = await HttpReceiver.start();
    await rx.down();
    const r = await startRouter(`webhook: { address: "${rx.url}/", delivery: { initialbackoffms: 5000 } }\nslack: { webhookurl: "${rx.url}/s" }\n`);
    try {
      await postAlert(r.url, falcoAlert());
      await sleep(1100);
      const m = await r.router.metricsText();
      assert.ok(metricValue(m, 'peregrine_spool_records') >= 1);
      assert.ok(metricValue(m, 'peregrine_spool_bytes') > 0);
      assert.ok(metricValue(m, 'peregrine_output_oldest_unsent_seconds', { output: 'webhook' }) >= 1);
      assert.ok(metricValue(m, 'peregrine_output_concurrency', { output: 'webhook' }) >= 1);
      assert.equal(metricValue(m, 'peregrine_output_concurrency', { output: 'slack' }), 1);
    } finally {
      await r.router.close({ drainMs: 0 });
    }
  });
});
