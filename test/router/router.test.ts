import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Router } from '../../src/router/router.ts';
import { falcoAlert, postAlert } from '../support/alerts.ts';
import { HttpReceiver } from '../support/http-receiver.ts';
import { startRouter } from '../support/router.ts';
import { eventually } from '../support/eventually.ts';
import { metricValue } from '../support/metrics.ts';



describe('HTTP input', () => {
  let r: { router: Router; url: string };
  before(async () => { r = await startRouter('bodylimit: 4096\n'); });
  after(async () => { await r.router.close({ drainMs: 0 }); });

  test('accepts a Falco alert and answers with its uuid', async () => {
    const res = await postAlert(r.url, falcoAlert());
    assert.equal(res.status, 200);
    assert.match(((await res.json()) as { uuid: string }).uuid, /^[0-9a-f-]{36}$/);
  });
  test('400 names what is wrong', async () => {
    const cases: [unknown, RegExp][] = [
      ['{not json', /not valid JSON/],
      [falcoAlert({ rule: undefined }), /missing "rule"/],
      [falcoAlert({ priority: 'loud' }), /unknown priority "loud"/],
      [falcoAlert({ time: '22/11/2026' }), /bad "time"/],
    ];
    for (const [body, message] of cases) {
      const res = await postAlert(r.url, body);
      assert.equal(res.status, 400);
      assert.match(((await res.json()) as { error: string }).error, message);
    }
  });
  test('405 on a wrong method, 404 on an unknown path, 413 over the body limit', async () => {
    assert.equal((await fetch(`${r.url}/`)).status, 405);
    assert.equal((await fetch(`${r.url}/healthz`, { method: 'POST' })).status, 405);
    assert.equal((await fetch(`${r.url}/nowhere`)).status, 404);
    const big = await postAlert(r.url, falcoAlert({ output: 'x'.repeat(5000) }));
    assert.equal(big.status, 413);
  });
  test('healthz, ping, metrics; and the router keeps serving after bad input', async () => {
    assert.deepEqual(await (await fetch(`${r.url}/healthz`)).json(), { status: 'ok', spoolUsedPercent: 0 });
    assert.equal(await (await fetch(`${r.url}/ping`)).text(), 'pong\n');
    const m = await (await fetch(`${r.url}/metrics`)).text();
    assert.ok(metricValue(m, 'falcosecurity_falcosidekick_inputs_total', { status: 'accepted' }) >= 1);
    assert.ok(metricValue(m, 'falcosecurity_falcosidekick_inputs_total', { status: 'rejected' }) >= 5);
  });
});

describe('bearer token', () => {
  test('POST / needs the token when authtoken is set; healthz does not', async () => {
    const r = await startRouter('authtoken: s3cret\n');
    try {
      assert.equal((await postAlert(r.url, falcoAlert())).status, 401);
      assert.equal((await postAlert(r.url, falcoAlert(), { authorization: 'Bearer wrong' })).status, 401);
      assert.equal((await postAlert(r.url, falcoAlert(), { authorization: 'Bearer s3cret' })).status, 200);
      assert.equal((await fetch(`${r.url}/healthz`)).status, 200);
    } finally {
      await r.router.close({ drainMs: 0 });
    }
  });
});

describe('routing to outputs', () => {
  test('each named instance gets only what its filter lets through; enrichment applied', async () => {
    const critical = await HttpReceiver.start();
    const k8s = await HttpReceiver.start();
    const all = await HttpReceiver.start();
    const r = await startRouter(`
customfields: { cluster: prod }
webhook: { address: "${all.url}/" }
outputs:
  - { name: critical-only, type: webhook, address: "${critical.url}/", minimumpriority: critical }
  - { name: k8s-only, type: webhook, address: "${k8s.url}/", sources: [k8s_audit], rules: [Attach/Exec Pod] }
`);
    try {
      await postAlert(r.url, falcoAlert({ priority: 'Warning' }));
      await postAlert(r.url, falcoAlert({ priority: 'Emergency', rule: 'Terminal shell in container' }));
      await postAlert(r.url, falcoAlert({ priority: 'Notice', source: 'k8s_audit', rule: 'Attach/Exec Pod' }));
      await postAlert(r.url, falcoAlert({ priority: 'Notice', source: 'k8s_audit', rule: 'K8s Secret Created' }));
      await all.waitFor(4);
      await critical.waitFor(1);
      await k8s.waitFor(1);
      await new Promise((res) => setTimeout(res, 300)); // room for wrongly routed extras to show up
      assert.deepEqual(critical.json().map((a) => a.rule), ['Terminal shell in container']);
      assert.deepEqual(k8s.json().map((a) => a.rule), ['Attach/Exec Pod']);
      assert.equal(all.requests.length, 4);
      assert.equal((all.json()[0]!.output_fields as Record<string, unknown>).cluster, 'prod');
    } finally {
      await r.router.close({ drainMs: 0 });
      await Promise.all([critical.close(), k8s.close(), all.close()]);
    }
  });

  test('POST /test reaches every output, whatever its filter', async () => {
    const a = await HttpReceiver.start();
    const s = await HttpReceiver.start();
    const r = await startRouter(`
webhook: { address: "${a.url}/", minimumpriority: emergency }
slack: { webhookurl: "${s.url}/services/T/B/X", minimumpriority: critical }
`);
    try {
      assert.equal((await fetch(`${r.url}/test`, { method: 'POST' })).status, 200);
      await a.waitFor(1);
      await s.waitFor(1);
      assert.equal(a.json()[0]!.rule, 'Test rule');
      assert.match(s.requests[0]!.body, /Test rule/);
    } finally {
      await r.router.close({ drainMs: 0 });
      await Promise.all([a.close(), s.close()]);
    }
  });
});

describe('Falcosidekick\'s alert shapes', () => {
  test('the /test alert is Falcosidekick\'s, with source "internal"', async () => {
    const rx = await HttpReceiver.start();
    const r = await startRouter(`webhook: { address: "${rx.url}/" }\n`);
    try {
      assert.equal((await fetch(`${r.url}/test`, { method: 'POST' })).status, 200);
      await rx.waitFor(1);
      const { uuid, time, ...rest } = rx.json<Record<string, unknown>>()[0]!;
      assert.match(String(uuid), /^[0-9a-f-]{36}$/);
      assert.match(String(time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/); // Go's time.RFC3339 in UTC
      assert.deepEqual(rest, {
        output: 'This is a test from falcosidekick', priority: 'Debug', rule: 'Test rule', source: 'internal',
        hostname: 'falcosidekick', tags: ['example', 'test'], output_fields: { 'proc.name': 'falcosidekick', 'user.name': 'falcosidekick' },
      });
    } finally {
      await r.router.close({ drainMs: 0 });
      await rx.close();
    }
  });

  test('output_fields holding nested objects and lists are accepted and passed through unchanged', async () => {
    const rx = await HttpReceiver.start();
    const r = await startRouter(`webhook: { address: "${rx.url}/" }\n`);
    try {
      const fields = { 'k8s.pod.labels': { app: 'web', tier: { name: 'front' } }, 'containers': [{ image: 'nginx', ports: [80, 443] }], 'fd.name': '/etc/shadow' };
      assert.equal((await postAlert(r.url, falcoAlert({ output_fields: fields }))).status, 200);
      await rx.waitFor(1);
      assert.deepEqual(rx.json<{ output_fields: unknown }>()[0]!.output_fields, fields);
    } finally {
      await r.router.close({ drainMs: 0 });
      await rx.close();
    }
  });
});

describe('delivery', () => {
  test('5xx answers are retried with backoff until delivered; metrics count the retries', async () => {
    const rx = await HttpReceiver.start();
    rx.respond({ status: 500 }, { status: 502 });
    const r = await startRouter(`
outputs:
  - { name: flaky, type: webhook, address: "${rx.url}/", delivery: { initialbackoffms: 50, maxbackoffms: 200 } }
`);
    try {
      await postAlert(r.url, falcoAlert());
      await rx.waitFor(3);
      assert.equal(rx.requests.length, 3);
      await eventually(async () => assert.equal(metricValue(await r.router.metricsText(), 'peregrine_output_alerts_total', { output: 'flaky', result: 'sent' }), 1));
      const m = await r.router.metricsText();
      assert.equal(metricValue(m, 'peregrine_output_retries_total', { output: 'flaky' }), 2);
      assert.equal(metricValue(m, 'falcosecurity_falcosidekick_outputs_total', { destination: 'webhook', status: 'error' }), 2);
      assert.equal(metricValue(m, 'falcosecurity_falcosidekick_outputs_total', { destination: 'webhook', status: 'ok' }), 1);
    } finally {
      await r.router.close({ drainMs: 0 });
      await rx.close();
    }
  });

  test('429 waits for Retry-After before trying again', async () => {
    const rx = await HttpReceiver.start();
    rx.respond({ status: 429, headers: { 'retry-after': '1' } });
    const r = await startRouter(`
outputs:
  - { name: limited, type: webhook, address: "${rx.url}/", delivery: { initialbackoffms: 10 } }
`);
    try {
      await postAlert(r.url, falcoAlert());
      await rx.waitFor(2);
      const gap = rx.requests[1]!.at - rx.requests[0]!.at;
      assert.ok(gap >= 950, `retried after ${gap} ms, before the 1 s Retry-After`);
    } finally {
      await r.router.close({ drainMs: 0 });
      await rx.close();
    }
  });

  test('a 4xx is not retried; the alert is counted as failed and dead-lettered', async () => {
    const rx = await HttpReceiver.start();
    rx.always({ status: 400 });
    const r = await startRouter(`webhook: { address: "${rx.url}/" }\n`);
    try {
      await postAlert(r.url, falcoAlert());
      await rx.waitFor(1);
      await eventually(async () => assert.equal(metricValue(await r.router.metricsText(), 'peregrine_output_alerts_total', { output: 'webhook', result: 'failed' }), 1));
      assert.equal(metricValue(await r.router.metricsText(), 'peregrine_output_deadletters_total', { output: 'webhook' }), 1);
      await new Promise((res) => setTimeout(res, 200));
      assert.equal(rx.requests.length, 1);
    } finally {
      await r.router.close({ drainMs: 0 });
      await rx.close();
    }
  });

  test('a hung output does not delay another', async () => {
    const hung = await HttpReceiver.start();
    hung.always('hang');
    const healthy = await HttpReceiver.start();
    const r = await startRouter(`
outputs:
  - { name: hung, type: webhook, address: "${hung.url}/", delivery: { timeoutms: 60000 } }
  - { name: healthy, type: webhook, address: "${healthy.url}/" }
`);
    try {
      for (let i = 0; i < 5; i++) await postAlert(r.url, falcoAlert({ output_fields: { i } }));
      // All five reach the healthy output while the hung one still holds its first request.
      await healthy.waitFor(5, 5000);
      assert.equal(hung.requests.length, 0);
      // Its depth counts what it has not delivered: the one in flight and the four behind it.
      await eventually(async () => assert.equal(metricValue(await r.router.metricsText(), 'peregrine_output_queue_depth', { output: 'hung' }), 5));
    } finally {
      await r.router.close({ drainMs: 0 });
      await Promise.all([hung.close(), healthy.close()]);
    }
  });

  test('an output whose config is wrong stops the start with an error naming it (it would deliver nothing)', async () => {
    await assert.rejects(startRouter(`
outputs:
  - { name: broken, type: webhook, address: "not-a-url" }
  - { name: good, type: webhook, address: "http://127.0.0.1:9/" }
`), /output "broken" \(webhook\) cannot start: webhook.address "not-a-url" is not an http\(s\) URL/);
  });

  test('Slack rate limit spaces messages out', async () => {
    const rx = await HttpReceiver.start();
    const r = await startRouter(`
slack: { webhookurl: "${rx.url}/services/T/B/X", delivery: { ratepersecond: 4 } }
`);
    try {
      for (let i = 0; i < 8; i++) await postAlert(r.url, falcoAlert());
      await rx.waitFor(8, 10000);
      // A burst of 4, then one per 250 ms: the 8th cannot come before ~1 s after the first.
      const span = rx.requests[7]!.at - rx.requests[0]!.at;
      assert.ok(span >= 900, `8 Slack messages within ${span} ms despite 4/s`);
    } finally {
      await r.router.close({ drainMs: 0 });
      await rx.close();
    }
  });

  test('close() drains queued alerts before returning', async () => {
    const rx = await HttpReceiver.start();
    rx.respond({ status: 503 });
    const r = await startRouter(`webhook: { address: "${rx.url}/", delivery: { initialbackoffms: 100 } }\n`);
    try {
      for (let i = 0; i < 3; i++) r.router.submit(falcoAlert({ output_fields: { i } }));
      await r.router.close({ drainMs: 5000 });
      assert.equal(rx.requests.length, 4); // one 503, then all three delivered
    } finally {
      await rx.close();
    }
  });
});
